// Package vaulttest starts a real HashiCorp Vault server (`vault server
// -dev`, in memory) on a free loopback port for tests, with KV v2 at
// secret/ and Transit at transit/, and helpers to write versioned keys,
// AppRoles and policies. The Vault binary is built by scripts/build-vault
// into a cache outside the repository; tests fail, naming that script,
// when it is missing.
package vaulttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
)

// Version is the Vault release scripts/build-vault builds.
const Version = "v1.21.4"

// Binary returns the Vault binary: $PGMANTLE_VAULT_BIN, or the cache of
// scripts/build-vault.
func Binary() (string, error) {
	if b := os.Getenv("PGMANTLE_VAULT_BIN"); b != "" {
		return b, nil
	}
	cache := os.Getenv("PGMANTLE_VAULT_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		cache = filepath.Join(home, ".cache", "pgmantle")
	}
	b := filepath.Join(cache, "vault-"+Version, "vault")
	if _, err := os.Stat(b); err != nil {
		return "", fmt.Errorf("no Vault binary at %s: run scripts/build-vault (or set PGMANTLE_VAULT_BIN)", b)
	}
	return b, nil
}

// Server is a running dev-mode Vault.
type Server struct {
	Addr      string // http://127.0.0.1:PORT
	RootToken string
	Client    *vault.Client // authenticated as root
	cmd       *exec.Cmd
	log       *bytes.Buffer
	port      int        // Vault's own port
	path      *partition // between Addr and port
}

// Start starts Vault and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := start()
	if err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	t.Cleanup(func() {
		s.Stop()
		s.path.close()
	})
	return s
}

func start() (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	tok := make([]byte, 16)
	rand.Read(tok)
	path, err := newPartition(fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: "http://" + path.addr(), RootToken: "root-" + hex.EncodeToString(tok), log: &bytes.Buffer{}, port: port, path: path}
	if err := s.launch(bin); err != nil {
		path.close()
		return nil, err
	}
	return s, nil
}

// Restart stops Vault and starts a new dev server on the same address
// with the same root token. A dev server keeps nothing: secrets, keys,
// policies and tokens other than the root token are gone, as after
// restoring an empty Vault; the caller writes back what it needs.
func (s *Server) Restart() error {
	s.Stop()
	bin, err := Binary()
	if err != nil {
		return err
	}
	s.log.Reset()
	return s.launch(bin)
}

// launch starts the dev server on s.port and waits until it is ready.
func (s *Server) launch(bin string) error {
	port := s.port
	s.cmd = exec.Command(bin, "server", "-dev",
		"-dev-listen-address", fmt.Sprintf("127.0.0.1:%d", port),
		"-dev-root-token-id", s.RootToken,
		"-dev-no-store-token")
	s.cmd.Env = append(os.Environ(), "VAULT_LOG_LEVEL=warn", "HOME="+os.TempDir())
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return err
	}
	cfg := vault.DefaultConfig()
	cfg.Address = s.Addr
	cfg.Timeout = 5 * time.Second
	c, err := vault.NewClient(cfg)
	if err != nil {
		s.Stop()
		return err
	}
	c.SetToken(s.RootToken)
	s.Client = c
	deadline := time.Now().Add(60 * time.Second)
	for {
		h, err := c.Sys().Health()
		if err == nil && h.Initialized && !h.Sealed {
			break
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("vault did not become ready: %v\n%s", err, s.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := c.Sys().Mount("transit", &vault.MountInput{Type: "transit"}); err != nil {
		s.Stop()
		return fmt.Errorf("enable transit: %w", err)
	}
	if err := c.Sys().EnableAuthWithOptions("approle", &vault.EnableAuthOptions{Type: "approle"}); err != nil {
		s.Stop()
		return fmt.Errorf("enable approle: %w", err)
	}
	return nil
}

// Stop kills Vault.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	s.cmd.Wait()
	s.cmd = nil
}

// Pause cuts the network path to Vault: requests hang until the
// client's timeout, as with a Vault that is down or partitioned. It takes
// effect when it returns.
func (s *Server) Pause() error {
	s.path.cut()
	return nil
}

// Resume restores the path cut by Pause.
func (s *Server) Resume() error {
	s.path.restore()
	return nil
}

// NewKey returns 32 random bytes, base64-encoded.
func NewKey() string {
	k := make([]byte, 32)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// PutKV writes a new version of a KV v2 secret at secret/PATH with
// field "key" and returns the version number.
func (s *Server) PutKV(t testing.TB, path, key string) int {
	t.Helper()
	sec, err := s.Client.KVv2("secret").Put(context.Background(), path, map[string]any{"key": key})
	if err != nil {
		t.Fatalf("vaulttest: put secret/%s: %v", path, err)
	}
	return sec.VersionMetadata.Version
}

// TransitKey creates an exportable AES-256 Transit key (version 1).
func (s *Server) TransitKey(t testing.TB, name string) {
	t.Helper()
	_, err := s.Client.Logical().Write("transit/keys/"+name, map[string]any{"type": "aes256-gcm96", "exportable": true})
	if err != nil {
		t.Fatalf("vaulttest: transit key %s: %v", name, err)
	}
}

// RotateTransit adds a version to a Transit key.
func (s *Server) RotateTransit(t testing.TB, name string) {
	t.Helper()
	if _, err := s.Client.Logical().Write("transit/keys/"+name+"/rotate", nil); err != nil {
		t.Fatalf("vaulttest: rotate %s: %v", name, err)
	}
}

// Policy writes a Vault policy.
func (s *Server) Policy(t testing.TB, name, hcl string) {
	t.Helper()
	if err := s.Client.Sys().PutPolicy(name, hcl); err != nil {
		t.Fatalf("vaulttest: policy %s: %v", name, err)
	}
}

// AppRole creates an AppRole with the given policies and token TTLs and
// returns its role_id and a fresh secret_id.
func (s *Server) AppRole(t testing.TB, name string, policies []string, ttl, maxTTL time.Duration) (roleID, secretID string) {
	t.Helper()
	_, err := s.Client.Logical().Write("auth/approle/role/"+name, map[string]any{
		"token_policies": policies,
		"token_ttl":      fmt.Sprintf("%ds", int(ttl.Seconds())),
		"token_max_ttl":  fmt.Sprintf("%ds", int(maxTTL.Seconds())),
	})
	if err != nil {
		t.Fatalf("vaulttest: approle %s: %v", name, err)
	}
	r, err := s.Client.Logical().Read("auth/approle/role/" + name + "/role-id")
	if err != nil || r == nil {
		t.Fatalf("vaulttest: role-id: %v", err)
	}
	sid, err := s.Client.Logical().Write("auth/approle/role/"+name+"/secret-id", nil)
	if err != nil || sid == nil {
		t.Fatalf("vaulttest: secret-id: %v", err)
	}
	return r.Data["role_id"].(string), sid.Data["secret_id"].(string)
}

// Token creates a child token with policies and a TTL.
func (s *Server) Token(t testing.TB, policies []string, ttl time.Duration, renewable bool) string {
	t.Helper()
	sec, err := s.Client.Auth().Token().Create(&vault.TokenCreateRequest{
		Policies:  policies,
		TTL:       fmt.Sprintf("%ds", int(ttl.Seconds())),
		Renewable: &renewable,
		NoParent:  true,
	})
	if err != nil {
		t.Fatalf("vaulttest: token: %v", err)
	}
	return sec.Auth.ClientToken
}

// Log is Vault's own output so far.
func (s *Server) Log() string { return s.log.String() }
