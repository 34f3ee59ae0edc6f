package keys

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/pgmantle/pgmantle/internal/vaulttest"
)

const readPolicy = `
path "secret/data/pgmantle/*" { capabilities = ["read"] }
path "secret/metadata/pgmantle/*" { capabilities = ["read"] }
path "transit/export/encryption-key/*" { capabilities = ["read"] }
`

func kvConfig(v *vaulttest.Server) VaultConfig {
	return VaultConfig{Address: v.Addr, Timeout: 2 * time.Second,
		Tokenize: VaultSource{KV: "secret/pgmantle/tokenize"},
		Hash:     &VaultSource{KV: "secret/pgmantle/hash"}}
}

// startManager starts a Vault provider and a manager on it, logging to
// logs; the provider stops with the test.
// soon retries f for up to 10 s until it succeeds: tests that make a
// hung Vault fail fast use a 500 ms request timeout, which a loaded
// machine can also exceed once Vault answers again.
func soon(f func() error) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func startManager(t *testing.T, cfg VaultConfig, logs *bytes.Buffer) (*VaultProvider, *Manager) {
	t.Helper()
	p, err := NewVaultProvider(context.Background(), cfg, testLogger(logs))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	m, err := NewManager(context.Background(), p, testLogger(logs))
	if err != nil {
		t.Fatal(err)
	}
	return p, m
}

func ringKey(t *testing.T, r *Ring, v int) string {
	t.Helper()
	return base64.StdEncoding.EncodeToString(r.versions[v])
}

// TestVaultKVRotation: KV v2 versions are key versions; a new version is
// picked up by the next refresh, a deleted one disappears.
func TestVaultKVRotation(t *testing.T) {
	v := vaulttest.Start(t)
	v.Policy(t, "pgmantle", readPolicy)
	k1, k2 := vaulttest.NewKey(), vaulttest.NewKey()
	v.PutKV(t, "pgmantle/tokenize", k1)
	v.PutKV(t, "pgmantle/tokenize", k2)
	v.PutKV(t, "pgmantle/hash", vaulttest.NewKey())
	t.Setenv("VAULT_TOKEN", v.Token(t, []string{"pgmantle"}, time.Hour, true))

	var logs bytes.Buffer
	_, m := startManager(t, kvConfig(v), &logs)
	r := m.Ring(Tokenize)
	if got := r.Versions(); len(got) != 2 || ringKey(t, r, 1) != k1 || ringKey(t, r, 2) != k2 {
		t.Fatalf("versions %v", got)
	}
	s, _ := m.Set(0)
	if s.TokenVersion() != 2 {
		t.Fatalf("newest version %d", s.TokenVersion())
	}
	notified := make(chan struct{}, 4)
	m.OnChange = func() { notified <- struct{}{} }
	k3 := vaulttest.NewKey()
	v.PutKV(t, "pgmantle/tokenize", k3)
	if err := m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-notified:
	default:
		t.Fatal("rotation not notified")
	}
	if s, _ := m.Set(0); s.TokenVersion() != 3 || ringKey(t, m.Ring(Tokenize), 3) != k3 {
		t.Fatal("version 3 not picked up")
	}
	if err := v.Client.KVv2("secret").DeleteVersions(context.Background(), "pgmantle/tokenize", []int{1}); err != nil {
		t.Fatal(err)
	}
	m.Refresh(context.Background())
	if got := m.Ring(Tokenize).Versions(); len(got) != 2 || got[0] != 2 {
		t.Fatalf("after deleting version 1: %v", got)
	}
	if strings.Contains(logs.String(), k1[:10]) || strings.Contains(logs.String(), k3[:10]) {
		t.Fatal("log shows key material")
	}
}

// TestVaultTransit: every version of an exportable Transit key.
func TestVaultTransit(t *testing.T) {
	v := vaulttest.Start(t)
	v.Policy(t, "pgmantle", readPolicy)
	v.TransitKey(t, "pgmantle-tokenize")
	v.RotateTransit(t, "pgmantle-tokenize")
	t.Setenv("VAULT_TOKEN", v.Token(t, []string{"pgmantle"}, time.Hour, true))
	cfg := VaultConfig{Address: v.Addr, Tokenize: VaultSource{Transit: "transit/pgmantle-tokenize"}}
	p, err := NewVaultProvider(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	m, err := NewManager(context.Background(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Ring(Tokenize).Versions(); len(got) != 2 {
		t.Fatalf("transit versions %v", got)
	}
	if len(m.Ring(Tokenize).versions[1]) != 32 {
		t.Fatal("transit key is not 32 bytes")
	}
	v.RotateTransit(t, "pgmantle-tokenize")
	m.Refresh(context.Background())
	if s, _ := m.Set(0); s.TokenVersion() != 3 {
		t.Fatalf("rotated transit key: %v", s)
	}
	// hash keys without a hash ring come from the tokenize ring
	s, _ := m.Set(0)
	if _, err := s.HashKey("cn_id"); err != nil {
		t.Fatal(err)
	}
}

// TestVaultAppRole: login with role_id and secret_id from files or the
// environment, renewal, and a new login after the token is revoked.
func TestVaultAppRole(t *testing.T) {
	v := vaulttest.Start(t)
	v.Policy(t, "pgmantle", readPolicy)
	v.PutKV(t, "pgmantle/tokenize", vaulttest.NewKey())
	v.PutKV(t, "pgmantle/hash", vaulttest.NewKey())
	roleID, secretID := v.AppRole(t, "pgmantle", []string{"pgmantle"}, 20*time.Second, time.Hour)
	t.Setenv("VAULT_TOKEN", "")

	cfg := kvConfig(v)
	cfg.Auth.Method = "approle"
	if _, err := NewVaultProvider(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "PGMANTLE_VAULT_ROLE_ID") {
		t.Fatalf("missing role id: %v", err)
	}
	dir := t.TempDir()
	writeFile := func(name, s string) string {
		p := dir + "/" + name
		if err := osWriteFile(p, s); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg.Auth.RoleIDFile = writeFile("role", roleID)
	t.Setenv("PGMANTLE_VAULT_SECRET_ID", "wrong-"+secretID)
	if _, err := NewVaultProvider(context.Background(), cfg, nil); err == nil || strings.Contains(err.Error(), secretID) {
		t.Fatalf("wrong secret id: %v", err)
	}
	t.Setenv("PGMANTLE_VAULT_SECRET_ID", secretID)
	var logs bytes.Buffer
	p, err := NewVaultProvider(context.Background(), cfg, testLogger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if ttl := p.TokenTTL(); ttl <= 0 || ttl > 20*time.Second {
		t.Fatalf("token ttl %v", ttl)
	}
	m, err := NewManager(context.Background(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if err := p.RenewNow(); err != nil {
		t.Fatal(err)
	}
	if ttl := p.TokenTTL(); ttl < 19*time.Second {
		t.Fatalf("renewal did not extend the ttl: %v", ttl)
	}
	// an operator revokes pgmantle's token: the next fetch logs in again
	if err := v.Client.Auth().Token().RevokeTree(p.client.Token()); err != nil {
		t.Fatal(err)
	}
	if err := m.Refresh(context.Background()); err != nil {
		t.Fatalf("refresh after revocation: %v", err)
	}
	if strings.Contains(logs.String(), secretID) || strings.Contains(logs.String(), roleID) {
		t.Fatal("log shows AppRole credentials")
	}
}

// TestVaultTokenRenewal: a renewable token is renewed in place.
func TestVaultTokenRenewal(t *testing.T) {
	v := vaulttest.Start(t)
	v.Policy(t, "pgmantle", readPolicy)
	v.PutKV(t, "pgmantle/tokenize", vaulttest.NewKey())
	v.PutKV(t, "pgmantle/hash", vaulttest.NewKey())
	tok := v.Token(t, []string{"pgmantle"}, 10*time.Second, true)
	t.Setenv("VAULT_TOKEN", tok)
	p, err := NewVaultProvider(context.Background(), kvConfig(v), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	time.Sleep(2 * time.Second)
	before := p.TokenTTL()
	if err := p.RenewNow(); err != nil {
		t.Fatal(err)
	}
	s, err := v.Client.Auth().Token().Lookup(tok)
	if err != nil {
		t.Fatal(err)
	}
	ttl, _ := s.TokenTTL()
	if ttl < 9*time.Second || before > 10*time.Second {
		t.Fatalf("ttl after renewal %v (before %v)", ttl, before)
	}
}

// TestVaultTokenRenewedInBackground: the provider's own renewal loop
// (not RenewNow) keeps a short-lived token alive: three of its lifetimes
// later Vault still knows it and keys are still read with it.
func TestVaultTokenRenewedInBackground(t *testing.T) {
	v := vaulttest.Start(t)
	v.Policy(t, "pgmantle", readPolicy)
	v.PutKV(t, "pgmantle/tokenize", vaulttest.NewKey())
	v.PutKV(t, "pgmantle/hash", vaulttest.NewKey())
	const ttl = 3 * time.Second
	tok := v.Token(t, []string{"pgmantle"}, ttl, true)
	t.Setenv("VAULT_TOKEN", tok)
	p, err := NewVaultProvider(context.Background(), kvConfig(v), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for end := time.Now().Add(3 * ttl); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		s, err := v.Client.Auth().Token().Lookup(tok)
		if err != nil {
			t.Fatalf("the token expired though the provider runs: %v", err)
		}
		if left, _ := s.TokenTTL(); left <= 0 {
			t.Fatalf("the token has %v left", left)
		}
	}
	if _, err := p.Fetch(context.Background()); err != nil {
		t.Fatalf("keys no longer read after three token lifetimes: %v", err)
	}
}

// TestVaultStartupErrors: unreachable Vault, denied path, missing and
// malformed keys each give a clear error naming the path, never a key.
func TestVaultStartupErrors(t *testing.T) {
	v := vaulttest.Start(t)
	v.Policy(t, "pgmantle", readPolicy)
	v.Policy(t, "nothing", `path "secret/data/other" { capabilities = ["read"] }`)
	bad := "!!" + vaulttest.NewKey()
	if _, err := v.Client.KVv2("secret").Put(context.Background(), "pgmantle/malformed", map[string]any{"key": bad}); err != nil {
		t.Fatal(err)
	}
	short := base64.StdEncoding.EncodeToString([]byte("0123456789"))
	v.PutKV(t, "pgmantle/short", short)
	v.PutKV(t, "pgmantle/hash", vaulttest.NewKey())
	good := v.Token(t, []string{"pgmantle"}, time.Hour, true)
	start := func(cfg VaultConfig, token string) error {
		t.Setenv("VAULT_TOKEN", token)
		p, err := NewVaultProvider(context.Background(), cfg, nil)
		if err != nil {
			return err
		}
		defer p.Close()
		_, err = NewManager(context.Background(), p, nil)
		return err
	}
	cases := []struct {
		name  string
		cfg   VaultConfig
		token string
		want  []string
	}{
		{"unreachable", VaultConfig{Address: "http://127.0.0.1:1", Timeout: time.Second, Tokenize: VaultSource{KV: "secret/pgmantle/tokenize"}}, good, []string{"unreachable", "127.0.0.1:1"}},
		{"denied", VaultConfig{Address: v.Addr, Tokenize: VaultSource{KV: "secret/pgmantle/tokenize"}}, v.Token(t, []string{"nothing"}, time.Hour, true), []string{"permission denied", "secret/metadata/pgmantle/tokenize"}},
		{"bad token", VaultConfig{Address: v.Addr, Tokenize: VaultSource{KV: "secret/pgmantle/tokenize"}}, "hvs.not-a-token", []string{"permission denied"}},
		{"missing", VaultConfig{Address: v.Addr, Tokenize: VaultSource{KV: "secret/pgmantle/absent"}}, good, []string{"not found", "pgmantle/absent"}},
		{"malformed", VaultConfig{Address: v.Addr, Tokenize: VaultSource{KV: "secret/pgmantle/malformed"}}, good, []string{"not base64", "pgmantle/malformed"}},
		{"short", VaultConfig{Address: v.Addr, Tokenize: VaultSource{KV: "secret/pgmantle/short"}}, good, []string{"at least 16", "pgmantle/short"}},
		{"wrong field", VaultConfig{Address: v.Addr, Tokenize: VaultSource{KV: "secret/pgmantle/hash", Field: "material"}}, good, []string{`field "material"`}},
		{"no transit key", VaultConfig{Address: v.Addr, Tokenize: VaultSource{Transit: "transit/absent"}}, good, []string{"transit/export/encryption-key/absent"}},
		{"both sources", VaultConfig{Address: v.Addr, Tokenize: VaultSource{KV: "a/b", Transit: "c/d"}}, good, []string{"exactly one"}},
	}
	for _, c := range cases {
		err := start(c.cfg, c.token)
		if err == nil {
			t.Fatalf("%s: started", c.name)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.name, err, w)
			}
		}
		for _, secret := range []string{bad[2:14], short[:8], good} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error shows a secret: %v", c.name, err)
			}
		}
	}
}

// TestVaultOutage: while Vault hangs, refreshes fail visibly and cached
// keys keep serving; when it comes back, the next refresh recovers.
func TestVaultOutage(t *testing.T) {
	v := vaulttest.Start(t)
	v.Policy(t, "pgmantle", readPolicy)
	v.PutKV(t, "pgmantle/tokenize", vaulttest.NewKey())
	v.PutKV(t, "pgmantle/hash", vaulttest.NewKey())
	t.Setenv("VAULT_TOKEN", v.Token(t, []string{"pgmantle"}, time.Hour, true))
	cfg := kvConfig(v)
	cfg.Timeout = 500 * time.Millisecond
	var logs bytes.Buffer
	_, m := startManager(t, cfg, &logs)
	before, _ := m.Set(0)
	kBefore, _ := before.TokenKey("cn_id")
	if err := v.Pause(); err != nil {
		t.Fatal(err)
	}
	err := m.Refresh(context.Background())
	v.Resume()
	if err == nil {
		t.Fatal("refresh against a hung Vault succeeded")
	}
	st := m.Status()
	if !st.Failing || st.Failures != 1 {
		t.Fatalf("outage not visible: %+v", st)
	}
	if !strings.Contains(logs.String(), "cached keys keep serving") {
		t.Fatalf("outage not logged: %s", logs.String())
	}
	s, err := m.Set(0)
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := s.TokenKey("cn_id"); !bytes.Equal(k, kBefore) {
		t.Fatal("cached key changed during the outage")
	}
	if err := soon(func() error { return m.Refresh(context.Background()) }); err != nil {
		t.Fatalf("refresh after recovery: %v", err)
	}
	if m.Status().Failing || !strings.Contains(logs.String(), "reachable again") {
		t.Fatal("recovery not visible")
	}
}
