package keys

// Red-team tests of key management. TestRedteamKeysFinding* each
// demonstrated a problem (the comment above each describes it as found)
// and now pin its fix; TestRedteamKeysHolds* pin behaviour verified
// correct at the time.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/pgmantle/pgmantle/internal/vaulttest"
)

// ---------------------------------------------------------------------
// Findings
// ---------------------------------------------------------------------

// A KV v2 secret with delete_version_after set (a common retention
// setting) gives every live version a deletion_time in the FUTURE.
// readKV treats any non-zero DeletionTime as "deleted", so every live
// version is skipped: startup fails with "no live versions" (and, were it
// set after startup, the next refresh fails forever).
func TestRedteamKeysFindingKVDeleteVersionAfterHidesLiveVersions(t *testing.T) {
	v := vaulttest.Start(t)
	v.Policy(t, "pgmantle", readPolicy)
	ctx := context.Background()
	if err := v.Client.KVv2("secret").PutMetadata(ctx, "pgmantle/tokenize",
		vault.KVMetadataPutInput{DeleteVersionAfter: 8760 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	k1 := vaulttest.NewKey()
	v.PutKV(t, "pgmantle/tokenize", k1)
	md, err := v.Client.KVv2("secret").GetVersionsAsList(ctx, "pgmantle/tokenize")
	if err != nil || len(md) != 1 || !md[0].DeletionTime.After(time.Now()) || md[0].Destroyed {
		t.Fatalf("precondition: version 1 is live with a future deletion_time: %+v %v", md, err)
	}
	t.Setenv("VAULT_TOKEN", v.Token(t, []string{"pgmantle"}, time.Hour, true))
	cfg := VaultConfig{Address: v.Addr, Timeout: 2 * time.Second, Tokenize: VaultSource{KV: "secret/pgmantle/tokenize"}}
	p, err := NewVaultProvider(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	m, err := NewManager(ctx, p, nil)
	if err != nil {
		t.Fatalf("a live KV version (deletion scheduled in a year) was treated as deleted: %v", err)
	}
	if got := m.Ring(Tokenize).Versions(); len(got) != 1 || ringKey(t, m.Ring(Tokenize), 1) != k1 {
		t.Fatalf("versions %v", got)
	}
}

// A transient Vault hang during token renewal makes renewOnce fall back
// to a new AppRole login with the SAME, already expired context;
// loginWith calls client.ClearToken() before trying, so the still valid
// token is thrown away. When a new login is impossible (single-use or
// expired secret_id: the usual reason for renewing instead of logging in
// again), pgmantle never gets keys again although its token is alive.
func TestRedteamKeysFindingFailedReloginDiscardsValidToken(t *testing.T) {
	v := vaulttest.Start(t)
	v.Policy(t, "pgmantle", readPolicy)
	v.PutKV(t, "pgmantle/tokenize", vaulttest.NewKey())
	v.PutKV(t, "pgmantle/hash", vaulttest.NewKey())
	if _, err := v.Client.Logical().Write("auth/approle/role/single", map[string]any{
		"token_policies": []string{"pgmantle"}, "token_ttl": "1h", "token_max_ttl": "2h",
		"secret_id_num_uses": 1,
	}); err != nil {
		t.Fatal(err)
	}
	r, err := v.Client.Logical().Read("auth/approle/role/single/role-id")
	if err != nil {
		t.Fatal(err)
	}
	sid, err := v.Client.Logical().Write("auth/approle/role/single/secret-id", nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	roleFile, secretFile := filepath.Join(dir, "role_id"), filepath.Join(dir, "secret_id")
	// trailing newline and CRLF, as `echo` / editors write them
	os.WriteFile(roleFile, []byte(r.Data["role_id"].(string)+"\n"), 0o600)
	os.WriteFile(secretFile, []byte(sid.Data["secret_id"].(string)+"\r\n"), 0o600)
	t.Setenv("VAULT_TOKEN", "")
	cfg := kvConfig(v)
	cfg.Timeout = 500 * time.Millisecond
	cfg.Auth = VaultAuth{Method: "approle", RoleIDFile: roleFile, SecretIDFile: secretFile}
	var logs bytes.Buffer
	p, m := startManager(t, cfg, &logs)
	tok := p.client.Token()

	if err := v.Pause(); err != nil {
		t.Fatal(err)
	}
	renewErr := p.RenewNow()
	v.Resume()
	t.Logf("renewal during the hang: %v", renewErr)
	if _, err := v.Client.Auth().Token().Lookup(tok); err != nil {
		t.Fatalf("precondition: the original token is still valid: %v", err)
	}
	if got := p.client.Token(); got != tok {
		t.Errorf("a failed renewal discarded the still valid token (client token now %q)", got)
	}
	// The 500 ms request timeout that makes the hang fail fast can also
	// expire on a loaded machine once Vault is back: a few tries.
	if err := soon(func() error { return m.Refresh(context.Background()) }); err != nil {
		t.Errorf("Vault is back and pgmantle's token is alive, yet refresh fails: %v", err)
	}
	if err := soon(p.RenewNow); err != nil {
		t.Errorf("renewal after the hang: %v", err)
	}
}

// renewOnce logs p.ttl after releasing loginMu; login writes p.ttl under
// loginMu from Fetch's re-login path. Run with -race.
func TestRedteamKeysFindingRenewReadsTTLWithoutLock(t *testing.T) {
	if !raceEnabled() {
		t.Skip("demonstrates a data race: run with -race")
	}
	v := vaulttest.Start(t)
	v.Policy(t, "pgmantle", readPolicy)
	v.PutKV(t, "pgmantle/tokenize", vaulttest.NewKey())
	t.Setenv("VAULT_TOKEN", v.Token(t, []string{"pgmantle"}, time.Hour, true))
	cfg := VaultConfig{Address: v.Addr, Timeout: 2 * time.Second, Tokenize: VaultSource{KV: "secret/pgmantle/tokenize"}}
	p, err := NewVaultProvider(context.Background(), cfg, testLogger(&bytes.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the renewal goroutine
		defer wg.Done()
		for range 30 {
			p.RenewNow()
		}
	}()
	go func() { // Fetch's re-login after a permission error
		defer wg.Done()
		for range 30 {
			p.login(context.Background())
		}
	}()
	wg.Wait()
}

func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" && s.Value == "true" {
			return true
		}
	}
	return false
}

// countingProvider is a Provider that counts fetches.
type countingProvider struct {
	fetches atomic.Int64
	closed  atomic.Bool
}

func (c *countingProvider) Fetch(context.Context) (map[string]*Ring, error) {
	c.fetches.Add(1)
	r, _ := NewRing(map[int][]byte{1: bytes.Repeat([]byte{7}, 32)})
	return map[string]*Ring{Tokenize: r}, nil
}
func (c *countingProvider) Describe() string { return "counting" }
func (c *countingProvider) Close()           { c.closed.Store(true) }

// Run's documentation: "refreshes every interval until ctx is done or
// Close is called". Close only closes the provider (Manager.stop/done
// are never used), so Run keeps fetching from a closed provider.
func TestRedteamKeysFindingCloseDoesNotStopRun(t *testing.T) {
	prov := &countingProvider{}
	m, err := NewManager(context.Background(), prov, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	returned := make(chan struct{})
	go func() { m.Run(ctx, 10*time.Millisecond); close(returned) }()
	time.Sleep(50 * time.Millisecond)
	m.Close()
	select {
	case <-returned:
	case <-time.After(500 * time.Millisecond):
		n := prov.fetches.Load()
		time.Sleep(100 * time.Millisecond)
		t.Fatalf("Run still running 500ms after Close (provider closed: %v; fetches went %d -> %d)",
			prov.closed.Load(), n, prov.fetches.Load())
	}
}

// Keys of a length no generator produces (here 30 bytes: a 32-byte key
// file entry cut at 40 base64 characters by a truncated copy or a bad
// hand edit) are accepted silently as a different key: tokens change and
// old tokens become irreversible, with only "keys changed" in the log.
func TestRedteamKeysFindingOddKeyLengthsAccepted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.yaml")
	if err := InitFile(path); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	lines := strings.Split(string(raw), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "  1: ") && i > 0 && strings.HasPrefix(lines[i-1], "tokenize:") {
			lines[i] = l[:len("  1: ")+40] // truncated: still valid base64, 30 bytes
		}
	}
	os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600)
	if _, err := (&FileProvider{Path: path}).Fetch(context.Background()); err == nil {
		t.Errorf("a truncated key file entry (30-byte key) was accepted")
	}
	for _, n := range []int{17, 20, 31, 33, 1 << 20} {
		if _, err := NewRing(map[int][]byte{1: make([]byte, n)}); err == nil {
			t.Errorf("a %d-byte key was accepted (want 16, 24 or 32)", n)
		}
	}
}

// Versions are meant to be immutable ("every older version stays
// available to detokenize"). When the material of an EXISTING version
// changes (the KV secret was deleted and re-created, or Vault restored
// from an older/empty backup and re-seeded), Refresh silently swaps it:
// every token issued under that version stops reversing and stops
// matching searches, with nothing louder than "keys changed".
func TestRedteamKeysFindingExistingVersionMaterialSilentlyReplaced(t *testing.T) {
	v := vaulttest.Start(t)
	v.Policy(t, "pgmantle", readPolicy)
	v.PutKV(t, "pgmantle/tokenize", vaulttest.NewKey())
	t.Setenv("VAULT_TOKEN", v.Token(t, []string{"pgmantle"}, time.Hour, true))
	cfg := VaultConfig{Address: v.Addr, Timeout: 2 * time.Second, Tokenize: VaultSource{KV: "secret/pgmantle/tokenize"}}
	var logs bytes.Buffer
	_, m := startManager(t, cfg, &logs)
	s1, _ := m.Set(1)
	before, _ := s1.TokenKey("cn_id")
	ctx := context.Background()
	if err := v.Client.KVv2("secret").DeleteMetadata(ctx, "pgmantle/tokenize"); err != nil {
		t.Fatal(err)
	}
	v.PutKV(t, "pgmantle/tokenize", vaulttest.NewKey()) // version 1 again, other material
	err := m.Refresh(ctx)
	s1b, serr := m.Set(1)
	if serr != nil {
		t.Fatal(serr)
	}
	after, _ := s1b.TokenKey("cn_id")
	if err == nil && !bytes.Equal(before, after) {
		t.Errorf("key version 1 changed its material and the refresh accepted it silently (log: %q)", logs.String())
	}
}

// ---------------------------------------------------------------------
// Holds
// ---------------------------------------------------------------------

// fakeVault answers token lookup, AppRole login, Transit export and KV v2
// with the given bodies (status 200 unless overridden).
type fakeVault struct {
	mu       sync.Mutex
	export   string
	metadata string
	data     string
	status   int
	gotLogin map[string]any
}

func (f *fakeVault) start(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/v1/auth/token/lookup-self":
			io.WriteString(w, `{"data":{"ttl":0,"renewable":false}}`)
		case r.URL.Path == "/v1/auth/approle/login":
			json.NewDecoder(r.Body).Decode(&f.gotLogin)
			io.WriteString(w, `{"auth":{"client_token":"hvs.FAKECLIENTTOKEN0123456789","lease_duration":3600,"renewable":true}}`)
		case strings.HasPrefix(r.URL.Path, "/v1/transit/export/encryption-key/"):
			if f.status != 0 {
				w.WriteHeader(f.status)
			}
			io.WriteString(w, f.export)
		case strings.HasPrefix(r.URL.Path, "/v1/secret/metadata/"):
			io.WriteString(w, f.metadata)
		case strings.HasPrefix(r.URL.Path, "/v1/secret/data/"):
			io.WriteString(w, f.data)
		default:
			w.WriteHeader(404)
			io.WriteString(w, `{"errors":[]}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

const fakeToken = "hvs.SECRETTOKENVALUE0123456789"

// Malformed Transit export responses are refused with an error naming
// the path, never crash, never echo the material.
func TestRedteamKeysHoldsMalformedTransitResponses(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString([]byte("SUPERSECRETKEYMATERIAL-0123456789"))
	good := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	cases := map[string]string{
		"keys a list":      `{"data":{"keys":["` + secret + `"]}}`,
		"key a number":     `{"data":{"keys":{"1":12345}}}`,
		"key an object":    `{"data":{"keys":{"1":{"k":"` + secret + `"}}}}`,
		"version text":     `{"data":{"keys":{"one":"` + good + `"}}}`,
		"version float":    `{"data":{"keys":{"1.5":"` + good + `"}}}`,
		"version zero":     `{"data":{"keys":{"0":"` + good + `"}}}`,
		"version negative": `{"data":{"keys":{"-1":"` + good + `"}}}`,
		"not base64":       `{"data":{"keys":{"1":"!` + secret + `"}}}`,
		"url base64":       `{"data":{"keys":{"1":"` + strings.NewReplacer("+", "-", "/", "_").Replace(secret) + `-_"}}}`,
		"short key":        `{"data":{"keys":{"1":"` + base64.StdEncoding.EncodeToString([]byte("SUPERSECRET")) + `"}}}`,
		"empty keys":       `{"data":{"keys":{}}}`,
		"no keys":          `{"data":{"name":"k"}}`,
		"null data":        `{"data":null}`,
		"not json":         `SUPERSECRET` + secret,
		"truncated json":   `{"data":{"keys":{"1":"` + secret,
		"array body":       `[1,2,3]`,
	}
	f := &fakeVault{}
	srv := f.start(t)
	t.Setenv("VAULT_TOKEN", fakeToken)
	cfg := VaultConfig{Address: srv.URL, Timeout: time.Second, Tokenize: VaultSource{Transit: "transit/k"}}
	var logs bytes.Buffer
	p, err := NewVaultProvider(context.Background(), cfg, testLogger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for name, body := range cases {
		f.mu.Lock()
		f.export = body
		f.mu.Unlock()
		_, err := NewManager(context.Background(), p, testLogger(&logs))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), "SUPERSECRET") || strings.Contains(err.Error(), secret[:16]) || strings.Contains(err.Error(), fakeToken) {
			t.Errorf("%s: error shows a secret: %v", name, err)
		}
		if !strings.Contains(err.Error(), "transit") {
			t.Errorf("%s: error does not name the source: %v", name, err)
		}
	}
	// a 500 with a body that quotes material: only the status is reported
	f.mu.Lock()
	f.status, f.export = 500, `{"errors":["SUPERSECRET `+secret+`"]}`
	f.mu.Unlock()
	if _, err := NewManager(context.Background(), p, nil); err == nil || strings.Contains(err.Error(), "SUPERSECRET") {
		t.Errorf("500: %v", err)
	}
	if strings.Contains(logs.String(), "SUPERSECRET") || strings.Contains(logs.String(), fakeToken) {
		t.Errorf("log shows a secret: %s", logs.String())
	}
}

// Malformed KV v2 responses likewise.
func TestRedteamKeysHoldsMalformedKVResponses(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString([]byte("SUPERSECRETKEYMATERIAL-0123456789"))
	meta := `{"data":{"current_version":7,"versions":{"1":{"created_time":"2024-01-01T00:00:00Z","deletion_time":"","destroyed":false}}}}`
	dataOf := func(v string) string {
		return `{"data":{"data":{"key":` + v + `},"metadata":{"version":1,"created_time":"2024-01-01T00:00:00Z","deletion_time":"","destroyed":false}}}`
	}
	cases := map[string][2]string{
		"field number":         {meta, dataOf(`42`)},
		"field object":         {meta, dataOf(`{"k":"` + secret + `"}`)},
		"field not base64":     {meta, dataOf(`"*` + secret + `"`)},
		"field short":          {meta, dataOf(`"` + base64.StdEncoding.EncodeToString([]byte("SUPERSECRET")) + `"`)},
		"data null":            {meta, `{"data":{"data":null,"metadata":null}}`},
		"no versions":          {`{"data":{"current_version":3,"versions":{}}}`, dataOf(`"` + secret + `"`)},
		"version zero":         {`{"data":{"versions":{"0":{"created_time":"2024-01-01T00:00:00Z","deletion_time":"","destroyed":false}}}}`, dataOf(`"` + secret + `"`)},
		"metadata not json":    {`SUPERSECRET`, dataOf(`"` + secret + `"`)},
		"bad time in metadata": {`{"data":{"versions":{"1":{"created_time":"SUPERSECRET","deletion_time":"","destroyed":false}}}}`, dataOf(`"` + secret + `"`)},
	}
	f := &fakeVault{}
	p := fakeVaultProvider(t, f, VaultSource{KV: "secret/pgmantle/tokenize"})
	for name, c := range cases {
		f.mu.Lock()
		f.metadata, f.data = c[0], c[1]
		f.mu.Unlock()
		_, err := NewManager(context.Background(), p, nil)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), secret[:16]) || strings.Contains(err.Error(), fakeToken) {
			t.Errorf("%s: error shows a secret: %v", name, err)
		}
		if !strings.Contains(err.Error(), "pgmantle/tokenize") {
			t.Errorf("%s: error does not name the path: %v", name, err)
		}
	}
}

// A KV metadata response whose "versions" (or one version's entry) is not
// an object makes vault/api's extractFullMetadata panic (unchecked type
// assertions, kv_v2.go:591/595). readKV does not recover, and Manager.Run
// refreshes on a bare goroutine, so one malformed answer (a proxy in
// front of Vault, a KV v1 mount holding a secret at metadata/...) kills
// the whole proxy instead of "cached keys keep serving".
func TestRedteamKeysFindingMalformedKVMetadataPanics(t *testing.T) {
	for name, meta := range map[string]string{
		"versions a string":      `{"data":{"versions":"x"}}`,
		"version entry a string": `{"data":{"versions":{"1":"x"}}}`,
	} {
		p := fakeVaultProvider(t, &fakeVault{metadata: meta, data: `{}`}, VaultSource{KV: "secret/pgmantle/tokenize"})
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: Fetch panicked: %v", name, r)
				}
			}()
			if _, err := p.Fetch(context.Background()); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}()
	}
}

// Printing the provider and manager with any verb, and the login log
// line, never show the token, role_id or secret_id; secret files with
// trailing newlines work.
func TestRedteamKeysHoldsProviderPrintingAndLoginLogsHideCredentials(t *testing.T) {
	good := base64.StdEncoding.EncodeToString([]byte("KEYMATERIALKEYMATERIAL0123456789"))
	f := &fakeVault{export: `{"data":{"keys":{"1":"` + good + `"}}}`}
	srv := f.start(t)
	dir := t.TempDir()
	const roleID, secretID = "ROLEID-4b7c2e", "SECRETID-9f1d3a"
	os.WriteFile(filepath.Join(dir, "r"), []byte(roleID+"\n\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "s"), []byte("  "+secretID+"\r\n"), 0o600)
	cfg := VaultConfig{Address: srv.URL, Timeout: time.Second, Tokenize: VaultSource{Transit: "transit/k"},
		Auth: VaultAuth{Method: "approle", RoleIDFile: filepath.Join(dir, "r"), SecretIDFile: filepath.Join(dir, "s")}}
	var logs bytes.Buffer
	p, err := NewVaultProvider(context.Background(), cfg, testLogger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if f.gotLogin["role_id"] != roleID || f.gotLogin["secret_id"] != secretID {
		t.Fatalf("whitespace not trimmed: %v", f.gotLogin)
	}
	m, err := NewManager(context.Background(), p, testLogger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		fmt.Fprintf(&out, verb, m)
		fmt.Fprintf(&out, verb, m.Status())
		fmt.Fprintf(&out, verb, cfg)
		fmt.Fprintf(&out, verb, m.Ring(Tokenize))
	}
	// (the provider itself is printed in the Finding test below: printing
	// it reads its fields without loginMu, a race under -race)
	slog.New(slog.NewTextHandler(&out, nil)).Info("x", "m", m, "status", m.Status())
	slog.New(slog.NewJSONHandler(&out, nil)).Info("x", "m", m, "status", m.Status())
	out.WriteString(logs.String())
	for _, s := range []string{"FAKECLIENTTOKEN", roleID, secretID, good[:16], "KEYMATERIAL", "S0VZTUFURVJJQUw"} {
		if strings.Contains(out.String(), s) {
			t.Errorf("printed output shows %q", s)
		}
	}
}

// VaultProvider has no String/Format (unlike Ring, Set and Manager): with
// %s or %q (e.g. fmt.Errorf("keys from %s: ...", provider)) fmt's bad-verb
// path prints the pointed-to structs in full, including vault.Client's
// token (%x prints it hex-encoded).
func TestRedteamKeysFindingProviderFormatShowsVaultToken(t *testing.T) {
	f := &fakeVault{export: `{"data":{"keys":{"1":"` + base64.StdEncoding.EncodeToString(make([]byte, 32)) + `"}}}`}
	p := fakeVaultProvider(t, f, VaultSource{Transit: "transit/k"})
	for _, verb := range []string{"%s", "%q", "%x"} {
		for _, val := range []any{p} {
			out := fmt.Sprintf(verb, val)
			if hexTok := fmt.Sprintf("%x", fakeToken); strings.Contains(out, hexTok) {
				t.Errorf("fmt %s of %T shows the Vault token hex-encoded", verb, val)
			}
			if strings.Contains(out, fakeToken) {
				i := strings.Index(out, fakeToken)
				t.Errorf("fmt %s of %T shows the Vault token: ...%s", verb, val, out[max(0, i-60):i+len(fakeToken)])
			}
		}
	}
}

// `keys init` never writes through a symlink (dangling or not) and
// exactly one of concurrent inits wins.
func TestRedteamKeysHoldsInitRefusesSymlinksAndRaces(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	link := filepath.Join(dir, "link")
	os.Symlink(target, link)
	if err := InitFile(link); err == nil {
		t.Fatal("init through a dangling symlink succeeded")
	}
	if _, err := os.Stat(target); err == nil {
		t.Fatal("init created the symlink's target")
	}
	os.WriteFile(target, []byte("precious"), 0o644)
	if err := InitFile(link); err == nil {
		t.Fatal("init through a symlink to a file succeeded")
	}
	if b, _ := os.ReadFile(target); string(b) != "precious" {
		t.Fatal("target overwritten")
	}
	path := filepath.Join(dir, "race.yaml")
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if InitFile(path) == nil {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent inits succeeded", wins.Load())
	}
	if _, err := (&FileProvider{Path: path}).Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	// a world-readable key file is refused through a symlink too
	os.Chmod(target, 0o644)
	os.WriteFile(target, []byte("tokenize:\n  1: "+newKey()+"\n"), 0o644)
	if _, err := NewFileProvider(link, nil); err == nil {
		t.Fatal("loose key file behind a symlink accepted")
	}
}

// Readers (Set, TokenKey, Status, String) run safely against refreshes
// that swap rings (run with -race); a Set taken before a rotation keeps
// its keys.
func TestRedteamKeysHoldsConcurrentRefreshAndReaders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.yaml")
	if err := InitFile(path); err != nil {
		t.Fatal(err)
	}
	p, err := NewFileProvider(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(context.Background(), p, slogDiscard())
	if err != nil {
		t.Fatal(err)
	}
	s1, _ := m.Set(1)
	k1, _ := s1.TokenKey("cn_id")
	var changes atomic.Int32
	m.OnChange = func() { changes.Add(1) }
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				s, err := m.Set(0)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := s.TokenKey("cn_id"); err != nil {
					t.Error(err)
					return
				}
				s.HashKey("cn_id")
				m.AuditKey(0)
				_ = m.Status()
				_ = m.String()
				_ = m.Generation()
			}
		}()
	}
	for range 10 {
		if _, err := RotateFile(path, Tokenize); err != nil {
			t.Fatal(err)
		}
		if err := m.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if changes.Load() != 10 || m.Ring(Tokenize).Latest() != 11 {
		t.Fatalf("changes %d latest %d", changes.Load(), m.Ring(Tokenize).Latest())
	}
	if k, _ := s1.TokenKey("cn_id"); !bytes.Equal(k, k1) {
		t.Fatal("an old Set's key changed")
	}
}

func slogDiscard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fakeVaultProvider starts f and a VaultProvider reading the tokenize
// keys from src on it, closed when the test ends.
func fakeVaultProvider(t *testing.T, f *fakeVault, src VaultSource) *VaultProvider {
	t.Helper()
	srv := f.start(t)
	t.Setenv("VAULT_TOKEN", fakeToken)
	p, err := NewVaultProvider(context.Background(), VaultConfig{Address: srv.URL, Timeout: time.Second, Tokenize: src}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}
