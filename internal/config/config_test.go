package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultsWhenEmpty(t *testing.T) {
	cfg, err := Parse("empty.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:6432" || cfg.Upstream.Address != "127.0.0.1:5432" ||
		cfg.Limits.MaxMessageSize != 64<<20 || cfg.TLS.Mode != ClientTLSDisable {
		t.Fatalf("unexpected defaults: %+v", cfg)
	}
}

func TestParseValues(t *testing.T) {
	cfg, err := Parse("p.yaml", []byte(`
listen: 0.0.0.0:7000
upstream:
  address: db:5433
  connect_timeout: 3s
  tls: {mode: require}
limits:
  max_message_size: 2MB
  startup_timeout: 1m
log: {level: debug, format: json}
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "0.0.0.0:7000" || cfg.Upstream.Address != "db:5433" || cfg.Upstream.ConnectTimeout != 3*time.Second ||
		cfg.Upstream.TLS.Mode != "require" || cfg.Limits.MaxMessageSize != 2<<20 || cfg.Limits.StartupTimeout != time.Minute ||
		cfg.Log.Level != "debug" || cfg.Log.Format != "json" {
		t.Fatalf("parsed %+v", cfg)
	}
}

func TestErrorsCarryFileAndLine(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown key", "listen: 127.0.0.1:1\nupstream:\n  adress: x:1\n", "c.yaml:3: unknown key adress"},
		{"bad mode", "upstream:\n  tls:\n    mode: sometimes\n", "c.yaml:3: upstream.tls.mode: must be disable, require or verify-full"},
		{"bad duration", "limits:\n  startup_timeout: soon\n", "c.yaml:2:"},
		{"bad size", "limits:\n  max_message_size: lots\n", "c.yaml:2: invalid size"},
		{"bad address", "\n\nlisten: nowhere\n", "c.yaml:3: listen: want host:port"},
		{"syntax", "listen: [\n", "c.yaml:"},
		{"verify without require", "tls:\n  mode: disable\n  client_auth: verify\n  client_ca_file: /nonexistent\n",
			"c.yaml:3: tls.client_auth: verify needs tls.mode: require"},
		{"missing cert file", "tls:\n  mode: require\n  cert_file: /nonexistent.crt\n  key_file: /nonexistent.key\n",
			"c.yaml:3: tls.cert_file: cannot read /nonexistent.crt"},
		{"log level", "log:\n  level: loud\n", "c.yaml:2: log.level"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pgmantle.yaml")
	if err := os.WriteFile(path, []byte("listen: 127.0.0.1:7777\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil || cfg.Listen != "127.0.0.1:7777" {
		t.Fatalf("Load: %v %+v", err, cfg)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{"1024": 1024, "8kB": 8192, "64MB": 64 << 20, "1GB": 1 << 30, "10 MB": 10 << 20} {
		got, err := ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("%q: got %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1TB", "x"} {
		if _, err := ParseByteSize(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}
