package config

// Red-team review of internal/config: strict YAML loading, file:line
// errors, secrets, and flag overrides. Finding tests each demonstrated a
// problem (the comment above each describes it as found) and now pin its
// fix; Holds tests pin behaviour verified correct at the time.

import (
	"strings"
	"testing"
	"time"
)

// TestRedteamConfigFindingTrailingDocumentIgnored: a configuration file
// with a second YAML document ("---") is accepted and everything after the
// separator is silently ignored — including unknown keys, so "unknown keys
// are errors" does not hold there, and settings an operator added (here
// audit.file and audit.on_failure) never take effect: the proxy starts
// with no audit log at all.
//
// Cause: internal/config/load.go:32 calls dec.Decode once and never checks
// that the stream ends; load.go:36 (yaml.Unmarshal for positions) likewise
// reads only the first document.
// Fix: after the first Decode, call dec.Decode(&yaml.Node{}) again and
// report "FILE:LINE: only one YAML document is allowed" unless it returns
// io.EOF.
func TestRedteamConfigFindingTrailingDocumentIgnored(t *testing.T) {
	src := "listen: 127.0.0.1:6432\n---\naudit:\n  file: /var/log/pgmantle/audit.log\n  on_failure: refuse\n  no_such_key: 1\n"
	cfg, err := Parse("c.yaml", []byte(src))
	if err == nil {
		t.Errorf("a second YAML document was silently ignored (audit.sink=%q, audit.file=%q; its unknown key no_such_key raised no error); want an error with c.yaml:2",
			cfg.Audit.Sink, cfg.Audit.File)
	}
}

// TestRedteamConfigFindingByteSizeOverflowWraps: sizes overflow int64
// silently. "17179869184GB" (2^34 GB) wraps to 0, which for
// audit.rotate_size means "never rotate", and "17179869185GB" wraps to
// exactly 1GB, which passes the max_message_size range check. A typo with
// extra digits is accepted as a completely different value.
//
// Cause: internal/config/load.go:144 returns ByteSize(n * mult) without an
// overflow check (load.go:141 only rejects n < 0).
// Fix: reject n > math.MaxInt64/mult ("size too large") before
// multiplying.
func TestRedteamConfigFindingByteSizeOverflowWraps(t *testing.T) {
	for _, in := range []string{"17179869184GB", "17179869185GB", "9223372036854775807kB", "8796093022208MB"} {
		if v, err := ParseByteSize(in); err == nil {
			t.Errorf("ParseByteSize(%q) = %d, nil: an overflowing size wrapped around instead of being rejected", in, v)
		}
	}
	cfg, err := Parse("c.yaml", []byte("audit:\n  file: /tmp/a.log\n  rotate_size: 17179869184GB\nlimits:\n  max_message_size: 17179869185GB\n"))
	if err == nil {
		t.Errorf("overflowing sizes accepted: audit.rotate_size=%d (0 = never rotate), limits.max_message_size=%d",
			cfg.Audit.RotateSize, cfg.Limits.MaxMessageSize)
	}
}

// TestRedteamConfigFindingVaultSettingsUnvalidated: keys.vault.timeout is
// never validated: a negative (or absurdly small) duration is accepted and
// later silently replaced by the 10s default (keys/vault.go:114), so
// "a bad value is reported as FILE:LINE: key: problem and pgmantle does not
// start" (README, Configuration reference) does not hold for it.
//
// Cause: internal/config/validate.go:118 checks only keys.vault.tokenize;
// nothing checks keys.vault.timeout (declared keys/vault.go:33).
// Fix: in Validate, bad("keys.vault.timeout", "must not be negative") for
// v.Timeout < 0 (and consider a lower bound).
func TestRedteamConfigFindingVaultSettingsUnvalidated(t *testing.T) {
	src := "keys:\n  vault:\n    timeout: -5s\n    tokenize: {kv: secret/pgmantle/tokenize}\n"
	cfg, err := Parse("c.yaml", []byte(src))
	if err == nil {
		t.Errorf("keys.vault.timeout: -5s accepted (%v); want c.yaml:3: keys.vault.timeout: must not be negative", cfg.Keys.Vault.Timeout)
	} else if !strings.Contains(err.Error(), "c.yaml:3") {
		t.Errorf("error without the line: %v", err)
	}
}

// TestRedteamConfigFindingAddressErrorEchoesPassword: a connection string
// pasted where an address is expected (a common mistake: upstream.address,
// listen, admin.listen) is echoed in full in the error, password included,
// and that error goes to stderr / the service journal / CI logs.
//
// Cause: internal/config/validate.go:130 formats the rejected value with
// %q ("want host:port, got %q").
// Fix: do not echo the value, or echo it redacted (parse as a URL and use
// url.URL.Redacted; drop anything before '@').
func TestRedteamConfigFindingAddressErrorEchoesPassword(t *testing.T) {
	const secret = "Pa55-Catalog-Secret"
	for _, key := range []string{"listen", "upstream.address", "admin.listen"} {
		var src string
		switch key {
		case "listen":
			src = "listen: postgres://pgmantle:" + secret + "@db:5432/books\n"
		case "upstream.address":
			src = "upstream:\n  address: postgres://pgmantle:" + secret + "@db:5432/books\n"
		case "admin.listen":
			src = "admin:\n  listen: postgres://pgmantle:" + secret + "@db:5432/books\n"
		}
		_, err := Parse("c.yaml", []byte(src))
		if err == nil {
			t.Errorf("%s: a DSN was accepted as an address", key)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the configuration error echoes the password: %v", key, err)
		}
	}
}

// TestRedteamConfigFindingDSNPasswordInFile: catalog.dsn and
// audit.postgres.dsn accept a password written into the configuration file
// (URL userinfo or password=...), silently. The README says "Secrets
// (tokens, secret IDs, JWTs) are never read from the configuration file:
// only from files it names or from the environment" and the documented
// examples (docs/deployment.md, examples/bookkeeping/pgmantle.yaml) carry no
// password — but nothing enforces it, so the catalog and audit roles'
// passwords end up in a file that is usually world-readable config
// (0644, in git, in a ConfigMap).
//
// Cause: internal/config/validate.go:96 and :168 only check that the DSNs
// are non-empty; the DSN is never parsed at load.
// Fix: parse each DSN (pgconn.ParseConfig without env, or a small parser)
// and reject a password/sslpassword with "FILE:LINE: catalog.dsn: do not
// put a password in the configuration; use passfile=FILE, PGPASSFILE or
// PGPASSWORD".
func TestRedteamConfigFindingDSNPasswordInFile(t *testing.T) {
	const secret = "Cat4log-Secret"
	cases := map[string]string{
		"catalog.dsn url":            "catalog:\n  dsn: postgres://pgmantle_catalog:" + secret + "@db/books\n",
		"catalog.dsn keyword":        "catalog:\n  dsn: host=db user=pgmantle_catalog password=" + secret + "\n",
		"audit.postgres.dsn url":     "audit:\n  sink: postgres\n  postgres:\n    dsn: postgres://pgmantle_audit:" + secret + "@db/audit\n",
		"audit.postgres.dsn keyword": "audit:\n  sink: postgres\n  postgres:\n    dsn: \"host=db password='" + secret + "'\"\n",
	}
	for name, src := range cases {
		if _, err := Parse("c.yaml", []byte(src)); err == nil {
			t.Errorf("%s: a password in the configuration file was accepted; the design says secrets come only from files or the environment", name)
		}
	}
}

// TestRedteamConfigFindingFlagErrorBlamesFileLine: `pgmantle serve
// --config c.yaml --listen bad` reports "c.yaml:1: listen: want host:port,
// got "bad"": the flag's bad value is attributed to the file's line 1,
// which holds a valid value, sending the operator to the wrong place. Every
// flag override (listen, upstream, log-level, policy, catalog-dsn,
// admin-listen) behaves the same, since cmd/pgmantle/serve.go:116-148
// overrides fields and calls Validate again.
//
// Cause: internal/config/validate.go:18 takes the position of any key from
// c.src, whether or not the value still comes from the file.
// Fix: have overrides go through a method (e.g. cfg.Override("listen",
// "--listen", v)) that records the key's origin, and let bad() name the
// flag ("--listen: want host:port") for overridden keys.
func TestRedteamConfigFindingFlagErrorBlamesFileLine(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte("listen: 127.0.0.1:6432\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = "bad" // what loadConfig does for --listen bad
	err = cfg.Validate()
	if err == nil {
		t.Fatal("bad --listen accepted")
	}
	if strings.Contains(err.Error(), "c.yaml:1") {
		t.Errorf("the flag's error is attributed to the file's line: %v", err)
	}
}

// TestRedteamConfigHoldsUnknownKeysEveryLevel: an unknown key is an error
// with file:line at every nesting level, including the structs from
// package keys and keys inside flow mappings.
func TestRedteamConfigHoldsUnknownKeysEveryLevel(t *testing.T) {
	cases := []struct{ src, want string }{
		{"bogus: 1\n", "c.yaml:1: unknown key bogus"},
		{"upstream:\n  bogus: 1\n", "c.yaml:2: unknown key bogus"},
		{"upstream:\n  tls:\n    bogus: 1\n", "c.yaml:3: unknown key bogus"},
		{"tls:\n  bogus: 1\n", "c.yaml:2: unknown key bogus"},
		{"limits:\n  bogus: 1\n", "c.yaml:2: unknown key bogus"},
		{"log:\n  bogus: 1\n", "c.yaml:2: unknown key bogus"},
		{"policy:\n  bogus: 1\n", "c.yaml:2: unknown key bogus"},
		{"catalog:\n  bogus: 1\n", "c.yaml:2: unknown key bogus"},
		{"keys:\n  bogus: 1\n", "c.yaml:2: unknown key bogus"},
		{"keys:\n  vault:\n    bogus: 1\n    tokenize: {kv: a/b}\n", "c.yaml:3: unknown key bogus"},
		{"keys:\n  vault:\n    auth:\n      bogus: 1\n    tokenize: {kv: a/b}\n", "c.yaml:4: unknown key bogus"},
		{"keys:\n  vault:\n    tokenize: {kv: a/b, bogus: 1}\n", "c.yaml:3: unknown key bogus"},
		{"keys:\n  vault:\n    tokenize: {kv: a/b}\n    hash:\n      bogus: 1\n", "c.yaml:5: unknown key bogus"},
		{"audit:\n  bogus: 1\n", "c.yaml:2: unknown key bogus"},
		{"audit:\n  postgres:\n    bogus: 1\n", "c.yaml:3: unknown key bogus"},
		{"admin:\n  bogus: 1\n", "c.yaml:2: unknown key bogus"},
		{"<<: {listen: 127.0.0.1:9}\nbogus: 1\n", "c.yaml:2: unknown key bogus"},
	}
	for _, c := range cases {
		_, err := Parse("c.yaml", []byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.src, err, c.want)
		}
	}
}

// TestRedteamConfigHoldsDuplicateKeys: a key given twice (top level,
// nested, and in the free-form cn_map) is an error naming both lines.
func TestRedteamConfigHoldsDuplicateKeys(t *testing.T) {
	cases := []struct{ src, want string }{
		{"listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\n", `c.yaml:2: mapping key "listen" already defined at line 1`},
		{"audit:\n  on_failure: refuse\n  on_failure: continue\n", `c.yaml:3: mapping key "on_failure" already defined at line 2`},
		{"tls:\n  cn_map:\n    a: b\n    a: c\n", `c.yaml:4: mapping key "a" already defined at line 3`},
	}
	for _, c := range cases {
		_, err := Parse("c.yaml", []byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.src, err, c.want)
		}
	}
}

// TestRedteamConfigHoldsSyntaxAndTypeErrors: malformed YAML and values of
// the wrong type or range are errors with file:line.
func TestRedteamConfigHoldsSyntaxAndTypeErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"upstream:\n\taddress: x:1\n", "c.yaml:2:"},                             // tab indentation
		{"listen: [\n", "c.yaml:"},                                               // unterminated
		{"upstream:\n  connect_timeout: 10\n", "c.yaml:2: cannot unmarshal"},     // bare number as duration
		{"upstream:\n  connect_timeout: \"10\"\n", "c.yaml:2: cannot unmarshal"}, // no unit
		{"upstream:\n  connect_timeout: -1s\n", "c.yaml:2: upstream.connect_timeout: must be positive"},
		{"limits:\n  startup_timeout: 0s\n", "c.yaml:2: limits.startup_timeout: must be positive"},
		{"limits:\n  shutdown_timeout: -1s\n", "c.yaml:2: limits.shutdown_timeout: must not be negative"},
		{"limits:\n  max_message_size: 0\n", "c.yaml:2: limits.max_message_size"},
		{"limits:\n  max_message_size: -1MB\n", "c.yaml:2: invalid size"},
		{"limits:\n  max_message_size: 2GB\n", "c.yaml:2: limits.max_message_size"},
		{"limits: {max_message_size: [1]}\n", "c.yaml:1: invalid size"},
		{"policy:\n  watch_interval: -1s\n", "c.yaml:2: policy.watch_interval"},
		{"catalog:\n  refresh_interval: 0s\n", "c.yaml:2: catalog.refresh_interval: must be positive"},
		{"catalog:\n  check_interval: 0s\n", "c.yaml:2: catalog.check_interval: must be positive"},
		{"catalog:\n  max_stale: -1s\n", "c.yaml:2: catalog.max_stale: must not be negative"},
		{"catalog:\n  check_interval: 2s\n  max_stale: 1s\n", "c.yaml:3: catalog.max_stale: must be at least catalog.check_interval (2s)"},
		{"keys:\n  refresh_interval: -1m\n", "c.yaml:2: keys.refresh_interval: must be positive"},
		{"audit:\n  sync_interval: 0s\n", "c.yaml:2: audit.sync_interval: must be positive"},
		{"audit:\n  queue_size: 0\n", "c.yaml:2: audit.queue_size: must be positive"},
		{"audit:\n  queue_size: \"8192\"\n", "c.yaml:2: cannot unmarshal"},
		{"audit:\n  rotate_interval: -1h\n", "c.yaml:2: audit.rotate_interval"},
		{"audit:\n  hmac: maybe\n", "c.yaml:2: cannot unmarshal"},
		{"audit:\n  on_failure: off\n", "c.yaml:2: audit.on_failure"}, // YAML 1.1 boolean word stays a string
		{"admin:\n  listen: nowhere\n", "c.yaml:2: admin.listen"},
		{"keys:\n  file: /k\n  vault: {tokenize: {kv: a/b}}\n", "c.yaml:3: keys.vault: give either"},
		{"audit:\n  hmac: true\n", "c.yaml:2: audit.hmac: needs keys"},
	}
	for _, c := range cases {
		_, err := Parse("c.yaml", []byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.src, err, c.want)
		}
	}
}

// TestRedteamConfigHoldsNoInlineVaultSecrets: the Vault credentials cannot
// be written into the file: the keys that would hold them are unknown keys.
func TestRedteamConfigHoldsNoInlineVaultSecrets(t *testing.T) {
	for _, key := range []string{"token", "secret_id", "role_id", "jwt", "password"} {
		src := "keys:\n  vault:\n    tokenize: {kv: a/b}\n    auth:\n      method: approle\n      " + key + ": hvs.SECRETVALUE123\n"
		_, err := Parse("c.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), "c.yaml:6: unknown key "+key) {
			t.Errorf("keys.vault.auth.%s: got %v", key, err)
			continue
		}
		if strings.Contains(err.Error(), "SECRETVALUE") {
			t.Errorf("keys.vault.auth.%s: the error echoes the value: %v", key, err)
		}
	}
}

// TestRedteamConfigHoldsNoEnvironmentExpansion: values are taken
// literally; $VAR and ${VAR} are not expanded from the environment, so an
// attacker-influenced environment cannot rewrite a setting, and a typo
// cannot silently become an empty value.
func TestRedteamConfigHoldsNoEnvironmentExpansion(t *testing.T) {
	t.Setenv("PGM_REDTEAM_ADDR", "127.0.0.1:7777")
	for _, v := range []string{"$PGM_REDTEAM_ADDR", "${PGM_REDTEAM_ADDR}"} {
		_, err := Parse("c.yaml", []byte("listen: "+v+"\n"))
		if err == nil {
			t.Errorf("listen: %s was expanded from the environment", v)
		}
	}
	cfg, err := Parse("c.yaml", []byte("policy:\n  file: ''\ncatalog:\n  dsn: \"postgres://u@${PGM_REDTEAM_ADDR}/db\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Catalog.DSN != "postgres://u@${PGM_REDTEAM_ADDR}/db" {
		t.Errorf("catalog.dsn expanded: %q", cfg.Catalog.DSN)
	}
}

// TestRedteamConfigHoldsDefaultsFailSafe: the defaults are the safe ones:
// no admin listener, audit refuses on failure, client-facing listener on
// loopback, upstream TLS mode explicit.
func TestRedteamConfigHoldsDefaultsFailSafe(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte("# nothing\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Admin.Listen != "" {
		t.Errorf("admin listener on by default: %q", cfg.Admin.Listen)
	}
	if cfg.Audit.OnFailure != "refuse" {
		t.Errorf("audit.on_failure default %q", cfg.Audit.OnFailure)
	}
	if !strings.HasPrefix(cfg.Listen, "127.0.0.1:") {
		t.Errorf("listen default %q", cfg.Listen)
	}
	if cfg.Catalog.RefreshInterval != 5*time.Minute {
		t.Errorf("catalog.refresh_interval default %v", cfg.Catalog.RefreshInterval)
	}
	if cfg.Catalog.CheckInterval != time.Second || cfg.Catalog.MaxStale != 0 {
		t.Errorf("catalog.check_interval default %v, max_stale %v", cfg.Catalog.CheckInterval, cfg.Catalog.MaxStale)
	}
}
