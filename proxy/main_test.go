package proxy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/proxy"
)

// TestMain starts one throwaway PostgreSQL (with server TLS) for all the
// proxy tests.
func TestMain(m *testing.M) {
	pgtest.Main(m, pgcluster.Options{TLS: true})
}

// testProxy is a pgmantle Server running in front of the package cluster.
type testProxy struct {
	srv  *proxy.Server
	addr string
}

// startProxy starts a Server relaying to the package cluster on a free
// loopback port; configure adjusts it before it serves. It is shut down when
// the test ends.
func startProxy(tb testing.TB, configure func(*proxy.Server)) *testProxy {
	tb.Helper()
	c := pgtest.Cluster(tb)
	srv := &proxy.Server{UpstreamAddr: c.Addr(), Logger: testLogger(tb)}
	if configure != nil {
		configure(srv)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-done; !errors.Is(err, proxy.ErrServerClosed) {
			tb.Errorf("Serve: %v", err)
		}
	})
	return &testProxy{srv: srv, addr: l.Addr().String()}
}

// dsn is a postgres:// URL for connecting through the proxy; extra holds
// additional query parameters such as "sslmode=require".
func (p *testProxy) dsn(user, password, database string, extra ...string) string {
	u := url.URL{Scheme: "postgres", Host: p.addr, Path: "/" + database}
	if password != "" {
		u.User = url.UserPassword(user, password)
	} else {
		u.User = url.User(user)
	}
	q := "sslmode=disable"
	for _, e := range extra {
		if len(e) > 8 && e[:8] == "sslmode=" {
			q = ""
		}
	}
	for _, e := range extra {
		if q != "" {
			q += "&"
		}
		q += e
	}
	u.RawQuery = q
	return u.String()
}

func (p *testProxy) hostPort() (string, string) {
	h, port, _ := net.SplitHostPort(p.addr)
	return h, port
}

// testLogger logs to the test log when -v is given, else discards; set
// PGMANTLE_TEST_LOG=1 to see the proxy's log on stderr.
func testLogger(tb testing.TB) *slog.Logger {
	var w io.Writer = io.Discard
	if os.Getenv("PGMANTLE_TEST_LOG") != "" {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})).
		With("test", fmt.Sprint(tb.Name()))
}
