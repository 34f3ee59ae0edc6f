package admin

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pgmantle/pgmantle/keys"
)

// scrape reads one sample from the listener's /metrics (-1 if absent).
func scrape(t *testing.T, s *Server, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	return -1
}

// TestKeyOutageInMetrics: a key source that stops answering shows in the
// metrics while the cached keys keep serving, and recovery shows too.
func TestKeyOutageInMetrics(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := keys.InitFile(path); err != nil {
		t.Fatal(err)
	}
	p, err := keys.NewFileProvider(path, quiet)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	km, err := keys.NewManager(ctx, p, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer km.Close()
	m := New(Sources{Keys: km})
	s, err := Listen("127.0.0.1:0", m, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v := scrape(t, s, "pgmantle_keys_source_failing"); v != 0 {
		t.Fatalf("failing before the outage: %v", v)
	}
	data, _ := os.ReadFile(path)
	os.Remove(path)
	if err := km.Refresh(ctx); err == nil {
		t.Fatal("refresh of a missing key file succeeded")
	}
	if _, err := km.Set(0); err != nil {
		t.Fatalf("cached keys stopped serving: %v", err)
	}
	if v := scrape(t, s, "pgmantle_keys_source_failing"); v != 1 {
		t.Errorf("pgmantle_keys_source_failing = %v during the outage", v)
	}
	if v := scrape(t, s, "pgmantle_keys_refresh_failures_total"); v != 1 {
		t.Errorf("pgmantle_keys_refresh_failures_total = %v", v)
	}
	os.WriteFile(path, data, 0o600)
	if err := km.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if v := scrape(t, s, "pgmantle_keys_source_failing"); v != 0 {
		t.Errorf("pgmantle_keys_source_failing = %v after recovery", v)
	}
	if v := scrape(t, s, "pgmantle_keys_last_success_timestamp_seconds"); v <= 0 {
		t.Errorf("last success = %v", v)
	}
}

// TestHealthAndReadiness: /healthz answers while the process is up;
// /readyz follows the readiness function.
func TestHealthAndReadiness(t *testing.T) {
	var notReady atomic.Bool
	s, err := Listen("127.0.0.1:0", New(Sources{}), func() error {
		if notReady.Load() {
			return os.ErrClosed
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + s.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("healthz %d", code)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Fatalf("readyz %d", code)
	}
	notReady.Store(true)
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "not ready") {
		t.Fatalf("readyz %d %q", code, body)
	}
	// Go runtime and process metrics are there too.
	if v := scrape(t, s, "go_goroutines"); v <= 0 {
		t.Errorf("go_goroutines = %v", v)
	}
}
