package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure Start.
type Options struct {
	// TLS turns on ssl=on with a server certificate for 127.0.0.1 and
	// localhost issued by a generated CA; Cluster.CAFile names the CA.
	TLS bool
	// Settings are extra postgresql.conf settings; they override the
	// defaults (such as max_connections=200). listen_addresses, port and
	// unix_socket_directories are reserved.
	Settings map[string]string
	// Logf, if set, receives progress messages.
	Logf func(format string, args ...any)
	// SuperuserPassword, when set, gives the superuser a password and
	// makes TCP logins as it use SCRAM instead of trust (the demo, whose
	// port other local users can reach). The socket directory, mode
	// 0700, still trusts its owner.
	SuperuserPassword string
}

// Cluster is a running throwaway PostgreSQL cluster. Its methods are safe
// for concurrent use; its exported fields do not change after Start.
type Cluster struct {
	Dir       string // temporary root; the data directory is Dir/data
	BinDir    string
	Host      string // "127.0.0.1"
	Port      int
	SuperUser string // "postgres"
	CAFile    string // PEM of the CA that signed the server cert, when TLS

	logf     func(format string, args ...any)
	password string // the superuser's, for TCP logins; empty: trust
	owner    *owner
	settings map[string]string
	guard    *guard // cleans up if this process dies without Stop

	mu      sync.Mutex
	roles   []hbaRole // pg_hba.conf lines added by CreateRole, in order
	running bool      // a postmaster we started may be up
	stopped bool      // Stop was called
}

// errStopped is returned by methods called after Stop.
var errStopped = errors.New("pgcluster: cluster is stopped")

// Start creates a cluster in a new temporary directory and starts it. On
// failure nothing is left behind. ctx bounds initdb and startup only.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	binDir, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	settings, err := mergeSettings(opts.Settings)
	if err != nil {
		return nil, err
	}
	own, err := lookupOwner()
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	dir, err := os.MkdirTemp("", "pgmantle-pg-")
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	c := &Cluster{
		Dir:       dir,
		BinDir:    binDir,
		Host:      "127.0.0.1",
		SuperUser: "postgres",
		logf:      opts.Logf,
		password:  opts.SuperuserPassword,
		owner:     own,
		settings:  settings,
	}
	if c.logf == nil {
		c.logf = func(string, ...any) {}
	}
	if err := c.setup(ctx, opts.TLS); err != nil {
		c.Stop()
		return nil, err
	}
	c.logf("pgcluster: PostgreSQL running at %s (dir %s)", c.Addr(), c.Dir)
	return c, nil
}

// setup prepares c.Dir, creates the cluster and starts the server.
func (c *Cluster) setup(ctx context.Context, tls bool) error {
	if err := os.Chmod(c.Dir, 0o700); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if err := c.owner.chown(c.Dir); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	g, err := c.startGuard()
	if err != nil {
		return fmt.Errorf("pgcluster: start watchdog: %w", err)
	}
	c.guard = g
	if err := c.initdb(ctx); err != nil {
		return err
	}
	if tls {
		if err := c.setupTLS(); err != nil {
			return err
		}
	}
	if err := c.writeHBA(); err != nil {
		return err
	}
	return c.startFreePort(ctx)
}

func (c *Cluster) dataDir() string { return filepath.Join(c.Dir, "data") }
func (c *Cluster) logFile() string { return filepath.Join(c.Dir, "postgres.log") }

func (c *Cluster) initdb(ctx context.Context) error {
	c.logf("pgcluster: initdb in %s (binaries %s)", c.dataDir(), c.BinDir)
	args := []string{"-D", c.dataDir(), "-U", c.SuperUser, "--auth=trust",
		"-E", "UTF8", "--locale=C", "--no-sync"}
	if c.password != "" {
		pwfile := filepath.Join(c.Dir, "superuser.pw")
		if err := c.owner.writeFile(pwfile, []byte(c.password+"\n"), 0o600); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		defer os.Remove(pwfile)
		args = append(args, "--pwfile="+pwfile)
	}
	cmd := c.owner.command(ctx, c.BinDir, c.Dir, "initdb", args...)
	if err := run(cmd); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	return includeSettings(c.dataDir())
}

// Addr returns "host:port" of the TCP listener.
func (c *Cluster) Addr() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// SuperDSN returns a postgres:// URL for the superuser, with its password
// when it has one.
func (c *Cluster) SuperDSN(database string) string {
	return c.DSN(c.SuperUser, c.password, database)
}

// SocketDSN returns a keyword/value DSN for user over the cluster's Unix
// socket (in Dir, mode 0700), where the superuser needs no password.
func (c *Cluster) SocketDSN(user, database string) string {
	if database == "" {
		database = "postgres"
	}
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", quoteDSN(c.Dir), c.Port, quoteDSN(user), quoteDSN(database))
}

// quoteDSN quotes a keyword/value DSN value.
func quoteDSN(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// DSN returns a postgres:// URL for user with sslmode=disable. An empty
// password is omitted and an empty database means "postgres".
func (c *Cluster) DSN(user, password, database string) string {
	if database == "" {
		database = "postgres"
	}
	u := url.URL{
		Scheme:   "postgres",
		Host:     c.Addr(),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	if password != "" {
		u.User = url.UserPassword(user, password)
	} else {
		u.User = url.User(user)
	}
	return u.String()
}

// Restart stops the server with a fast shutdown and starts it again on the
// same port, keeping the data.
func (c *Cluster) Restart(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return errStopped
	}
	if err := c.stopServer(ctx); err != nil {
		return err
	}
	if err := c.startServer(ctx); err != nil {
		return err
	}
	c.logf("pgcluster: restarted %s", c.Addr())
	return nil
}

// Stop shuts the server down (fast, then immediate, then SIGKILL) and
// removes Dir. Calling it again is a no-op that returns nil. If the process
// exits without calling Stop, a watchdog process started by Start stops
// the server (immediate mode) and removes Dir instead.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	c.stopped = true
	c.guard.disarm()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := c.stopServer(ctx)
	if rmErr := os.RemoveAll(c.Dir); rmErr != nil && err == nil {
		err = fmt.Errorf("pgcluster: remove %s: %w", c.Dir, rmErr)
	}
	c.logf("pgcluster: stopped %s", c.Addr())
	return err
}
