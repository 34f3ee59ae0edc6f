package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
)

// Validate checks the settings for consistency. Each problem is reported
// once, as "file:line: key: problem" when the key came from a file.
func (c *Config) Validate() error {
	var errs []string
	bad := func(key, format string, args ...any) {
		msg := fmt.Sprintf("%s: %s", key, fmt.Sprintf(format, args...))
		switch line := c.src.line(key); {
		case !c.src.fromFile(c, key):
			msg = key + " (set on the command line): " + fmt.Sprintf(format, args...)
		case line > 0:
			msg = fmt.Sprintf("%s:%d: %s", c.src.name, line, msg)
		case c.src != nil:
			msg = c.src.name + ": " + msg
		}
		errs = append(errs, msg)
	}

	if err := checkAddr(c.Listen); err != nil {
		bad("listen", "%v", err)
	}
	if err := checkAddr(c.Upstream.Address); err != nil {
		bad("upstream.address", "%v", err)
	}
	if c.Upstream.ConnectTimeout <= 0 {
		bad("upstream.connect_timeout", "must be positive")
	}
	switch c.Upstream.TLS.Mode {
	case UpstreamTLSDisable, UpstreamTLSRequire:
	case UpstreamTLSVerifyFull:
		checkFile(bad, "upstream.tls.ca_file", c.Upstream.TLS.CAFile)
	default:
		bad("upstream.tls.mode", "must be disable, require or verify-full, not %q", c.Upstream.TLS.Mode)
	}

	t := &c.TLS
	if t.Mode == "" {
		t.Mode = ClientTLSDisable
		if t.CertFile != "" {
			t.Mode = ClientTLSAllow
		}
	}
	switch t.Mode {
	case ClientTLSDisable:
	case ClientTLSAllow, ClientTLSRequire:
		if t.CertFile == "" || t.KeyFile == "" {
			bad("tls.mode", "%s needs tls.cert_file and tls.key_file", t.Mode)
		}
		checkFile(bad, "tls.cert_file", t.CertFile)
		checkFile(bad, "tls.key_file", t.KeyFile)
	default:
		bad("tls.mode", "must be disable, allow or require, not %q", t.Mode)
	}
	switch t.ClientAuth {
	case "", ClientAuthNone:
		t.ClientAuth = ClientAuthNone
		if len(t.CNMap) > 0 {
			bad("tls.cn_map", "only used with tls.client_auth: verify")
		}
	case ClientAuthVerify:
		if t.Mode != ClientTLSRequire {
			bad("tls.client_auth", "verify needs tls.mode: require (a plaintext client has no certificate)")
		}
		if t.ClientCAFile == "" {
			bad("tls.client_ca_file", "required by tls.client_auth: verify")
		}
		checkFile(bad, "tls.client_ca_file", t.ClientCAFile)
	default:
		bad("tls.client_auth", "must be none or verify, not %q", t.ClientAuth)
	}

	if c.Limits.StartupTimeout <= 0 {
		bad("limits.startup_timeout", "must be positive")
	}
	if c.Limits.ShutdownTimeout < 0 {
		bad("limits.shutdown_timeout", "must not be negative")
	}
	if c.Limits.MaxMessageSize < 1024 || c.Limits.MaxMessageSize > 1<<30 {
		bad("limits.max_message_size", "must be between 1kB and 1GB")
	}
	if _, err := ParseLevel(c.Log.Level); err != nil {
		bad("log.level", "%v", err)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "must be text or json, not %q", c.Log.Format)
	}
	if c.Policy.File != "" {
		checkFile(bad, "policy.file", c.Policy.File)
		if c.Catalog.DSN == "" {
			bad("catalog.dsn", "required with policy.file: pgmantle reads the catalog with its own credentials")
		}
	}
	if c.Policy.WatchInterval < 0 {
		bad("policy.watch_interval", "must not be negative")
	}
	if c.Catalog.RefreshInterval <= 0 {
		bad("catalog.refresh_interval", "must be positive")
	}
	if c.Catalog.CheckInterval <= 0 {
		bad("catalog.check_interval", "must be positive")
	}
	if c.Catalog.MaxStale < 0 {
		bad("catalog.max_stale", "must not be negative (0: 5 × catalog.check_interval)")
	} else if c.Catalog.MaxStale > 0 && c.Catalog.MaxStale < c.Catalog.CheckInterval {
		bad("catalog.max_stale", "must be at least catalog.check_interval (%s)", c.Catalog.CheckInterval)
	}
	if c.Keys.File != "" && c.Keys.Vault != nil {
		bad("keys.vault", "give either keys.file or keys.vault, not both")
	}
	if c.Keys.RefreshInterval <= 0 {
		bad("keys.refresh_interval", "must be positive")
	}
	c.validateAudit(bad)
	if c.Admin.Listen != "" {
		if err := checkAddr(c.Admin.Listen); err != nil {
			bad("admin.listen", "%v", err)
		}
	}
	if v := c.Keys.Vault; v != nil && v.Tokenize.KV == "" && v.Tokenize.Transit == "" {
		bad("keys.vault.tokenize", "required: {kv: MOUNT/PATH} or {transit: MOUNT/KEY}")
	}
	if v := c.Keys.Vault; v != nil && v.Timeout < 0 {
		bad("keys.vault.timeout", "must not be negative")
	}
	checkDSN(bad, "catalog.dsn", c.Catalog.DSN)
	checkDSN(bad, "audit.postgres.dsn", c.Audit.Postgres.DSN)
	if len(errs) > 0 {
		return &Error{Msg: strings.Join(errs, "\n")}
	}
	return nil
}

func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		if strings.ContainsAny(addr, "@=/") {
			// a connection string pasted here may hold a password
			return errors.New("want host:port, got something else (a connection string?)")
		}
		return fmt.Errorf("want host:port, got %q", addr)
	}
	return nil
}

// checkDSN refuses a password written into a connection string of the
// configuration file: secrets come from files or the environment
// (passfile=FILE, PGPASSFILE, PGPASSWORD), never from the file itself.
func checkDSN(bad func(string, string, ...any), key, dsn string) {
	if dsnHasPassword(dsn) {
		bad(key, "do not put a password in the configuration; use passfile=FILE, PGPASSFILE or PGPASSWORD")
	}
}

// dsnHasPassword reports a password in a URL (user:password@) or in a
// keyword/value string (password=, sslpassword=).
func dsnHasPassword(dsn string) bool {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			if _, set := u.User.Password(); set {
				return true
			}
			q := u.Query()
			return q.Has("password") || q.Has("sslpassword")
		}
		return strings.Contains(dsn, "password") // unparsable: refuse to guess
	}
	for _, kw := range []string{"password", "sslpassword"} {
		for rest := dsn; ; {
			i := strings.Index(rest, kw)
			if i < 0 {
				break
			}
			before := strings.TrimRight(rest[:i], " \t")
			after := strings.TrimLeft(rest[i+len(kw):], " \t")
			if (before == "" || strings.HasSuffix(rest[:i], " ") || strings.HasSuffix(rest[:i], "\t") || i == 0) && strings.HasPrefix(after, "=") {
				return true
			}
			rest = rest[i+len(kw):]
		}
	}
	return false
}

func checkFile(bad func(string, string, ...any), key, path string) {
	if path == "" {
		return
	}
	if _, err := os.Stat(path); err != nil {
		bad(key, "cannot read %s: %v", path, errors.Unwrap(err))
	}
}

// ParseLevel parses a log level name.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("must be debug, info, warn or error, not %q", s)
	}
	return l, nil
}

func (c *Config) validateAudit(bad func(string, string, ...any)) {
	a := &c.Audit
	if a.Sink == "" {
		a.Sink = AuditSinkNone
		if a.File != "" {
			a.Sink = AuditSinkFile
		}
	}
	switch a.Sink {
	case AuditSinkNone, AuditSinkStdout:
	case AuditSinkFile:
		if a.File == "" {
			bad("audit.file", "the file sink needs a path")
		}
	case AuditSinkPostgres:
		if a.Postgres.DSN == "" {
			bad("audit.postgres.dsn", "the postgres sink needs a connection string")
		}
	default:
		bad("audit.sink", "must be none, file, stdout or postgres, not %q", a.Sink)
	}
	if a.Sync != "always" && a.Sync != "interval" {
		bad("audit.sync", "must be always or interval, not %q", a.Sync)
	}
	if a.SyncInterval <= 0 {
		bad("audit.sync_interval", "must be positive")
	}
	if a.OnFailure != "refuse" && a.OnFailure != "continue" {
		bad("audit.on_failure", "must be refuse or continue, not %q", a.OnFailure)
	}
	if a.QueueSize <= 0 {
		bad("audit.queue_size", "must be positive")
	}
	if a.HMAC && c.Keys.File == "" && c.Keys.Vault == nil {
		bad("audit.hmac", "needs keys: configure keys.vault, or keys.file (pgmantle keys init FILE)")
	}
	if a.RotateSize < 0 {
		bad("audit.rotate_size", "must not be negative")
	}
	if a.RotateInterval < 0 {
		bad("audit.rotate_interval", "must not be negative")
	}
}
