package admin_test

// Red-team review of the admin listener. Finding tests each demonstrated a
// problem (the comment above each describes it as found) and now pin its
// fix; Holds tests pin behaviour verified correct at the time.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pgmantle/pgmantle/admin"
	"github.com/pgmantle/pgmantle/audit"
	"github.com/pgmantle/pgmantle/internal/config"
	"github.com/pgmantle/pgmantle/parser"
	"github.com/pgmantle/pgmantle/policy"
	"github.com/pgmantle/pgmantle/proxy"
	"github.com/pgmantle/pgmantle/proxy/audithook"
)

func rtListen(t *testing.T, m *admin.Metrics, ready admin.Ready) *admin.Server {
	t.Helper()
	if m == nil {
		m = admin.New(admin.Sources{})
	}
	s, err := admin.Listen("127.0.0.1:0", m, ready)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func rtDo(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader("x=1"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// rtScrape returns the whole /metrics text.
func rtScrape(t *testing.T, s *admin.Server) string {
	t.Helper()
	code, body := rtDo(t, http.MethodGet, "http://"+s.Addr()+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	return body
}

// rtSeries returns the sample lines of the pgmantle_ metrics.
func rtSeries(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "pgmantle_") {
			out = append(out, l)
		}
	}
	return out
}

// TestRedteamAdminFindingAnyMethodAnswered: /metrics, /healthz and /readyz
// answer POST, PUT, DELETE, PATCH and any made-up method with 200 and the
// full response, instead of 405. Nothing changes state, so the impact is
// low, but the endpoints are unauthenticated and a browser on the
// operator's machine can be made to POST to a loopback admin port
// (answers are then readable by DNS-rebinding pages); being strict costs
// nothing.
//
// Cause: admin/server.go:31-34 registers "/metrics", "/healthz" and
// "/readyz" without a method.
// Fix: register "GET /metrics", "GET /healthz", "GET /readyz" (Go 1.22
// ServeMux patterns; GET also serves HEAD, others get 405 with Allow).
func TestRedteamAdminFindingAnyMethodAnswered(t *testing.T) {
	t.Parallel()
	s := rtListen(t, nil, nil)
	for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
		for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, "PROPFIND"} {
			if code, _ := rtDo(t, method, "http://"+s.Addr()+path); code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s answered %d; want 405", method, path, code)
			}
		}
	}
}

// TestRedteamAdminFindingIdleConnectionsNeverClosed: after one request, a
// keep-alive connection to the admin listener is held open for as long as
// the client likes: the server sets only ReadHeaderTimeout, which does not
// apply while waiting for the next request. There is no connection limit
// either. Anyone who can reach the admin port (often the whole cluster
// network, for Prometheus) can open connections until the process runs
// out of file descriptors — the same process and limit that accepts
// PostgreSQL clients — so the proxy stops accepting sessions.
//
// Cause: admin/server.go:44 builds http.Server with ReadHeaderTimeout only
// (no IdleTimeout, ReadTimeout, WriteTimeout) over an unlimited listener.
// Fix: set IdleTimeout (e.g. 30s), ReadTimeout and WriteTimeout, and wrap
// the listener in golang.org/x/net/netutil.LimitListener (e.g. 64).
func TestRedteamAdminFindingIdleConnectionsNeverClosed(t *testing.T) {
	t.Parallel()
	s := rtListen(t, nil, nil)
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// Idle. ReadHeaderTimeout is 10s; give the server 13s to hang up.
	c.SetReadDeadline(time.Now().Add(13 * time.Second))
	_, err = br.ReadByte()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("an idle keep-alive connection to the admin listener is still open after 13s; the server never times it out")
	}
}

// TestRedteamAdminFindingListenEmptyBindsEverywhere: admin.Listen("")
// listens on every interface on a random port, although the configuration
// contract is "empty: no admin listener". Today cmd/pgmantle/observe.go:92
// guards the call, so this is latent: any other caller (or a refactor that
// drops the guard) exposes /metrics on all interfaces.
//
// Cause: admin/server.go:26 passes addr straight to net.Listen, for which
// "" means ":0".
// Fix: return an error for an empty addr (or return a nil *Server and no
// listener), and never default to all interfaces.
func TestRedteamAdminFindingListenEmptyBindsEverywhere(t *testing.T) {
	t.Parallel()
	s, err := admin.Listen("", admin.New(admin.Sources{}), nil)
	if err != nil {
		return // refused: fine
	}
	defer s.Close()
	host, _, _ := net.SplitHostPort(s.Addr())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		t.Errorf("admin.Listen(\"\") opened a listener on %s (all interfaces)", s.Addr())
	}
}

// TestRedteamAdminFindingNoCatalogHealth: nothing about pgmantle's catalog
// connection reaches /metrics or /readyz. When catalog refreshes fail (the
// catalog role's password rotated, pg_hba changed, the database
// unreachable from pgmantle only) the proxy keeps serving restricted
// sessions from a snapshot of unbounded age (catalog/manager.go:210-213
// only logs a WARN), while /readyz says ready and no metric moves —
// unlike the key source, whose outage the design requires to be visible in
// metrics. An operator cannot alert on it.
//
// Cause: admin/metrics.go:16-20 Sources has no catalog; catalog.Manager
// exposes no status (last success, last error); cmd/pgmantle/observe.go:
// 98-103 readiness looks only at the audit writer.
// Fix: add Manager.Status() (per database: last success time, consecutive
// failures, last error class), Sources.Catalog, and metrics
// pgmantle_catalog_refresh_failures_total,
// pgmantle_catalog_snapshot_age_seconds, pgmantle_catalog_failing; make
// /readyz 503 when a snapshot is older than a configured bound.
func TestRedteamAdminFindingNoCatalogHealth(t *testing.T) {
	t.Parallel()
	srv, err := proxy.NewServer(rtProxyConfig(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	w, err := audit.NewWriter(audit.NewWriterSink(io.Discard), audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	s := rtListen(t, admin.New(admin.Sources{Server: srv, Audit: w}), w.Healthy)
	if text := rtScrape(t, s); !strings.Contains(text, "pgmantle_catalog_") {
		t.Errorf("no pgmantle_catalog_* metric: a failing catalog connection is invisible to monitoring and /readyz")
	}
}

func rtProxyConfig() config.Config { return config.Default() }

// hostile strings a client controls.
const (
	rtSecretApp  = "app-110101199003074518"
	rtSecretUser = "user_13800138000"
	rtSecretDB   = "db_6222021234567890123"
	rtSecretSQL  = "zhangsan@example.com"
	rtSecretMsg  = "Key (id_no)=(110101199003074518) already exists"
)

// TestRedteamAdminHoldsNoClientInputInMetrics: metrics driven through the
// real audit hook by many sessions with distinct, personal-data-laden
// application names, users, databases, SQL texts, refusal messages and
// SQLSTATEs hold none of those strings, and the number of series does not
// grow with the number of sessions (labels come from fixed sets and the
// policy's class and mask names only).
func TestRedteamAdminHoldsNoClientInputInMetrics(t *testing.T) {
	t.Parallel()
	m := admin.New(admin.Sources{})
	s := rtListen(t, m, nil)
	hook := &audithook.Hook{Metrics: m}
	masked := &parser.Plan{Statements: []*parser.Decision{{
		Statement: &parser.Statement{Kind: "SELECT"},
		Outputs: []parser.OutputPlan{
			{Class: "cn_id", Action: policy.Action{Kind: policy.Mask, Mask: "partial"}},
			{Class: "cn_mobile", Action: policy.Action{Kind: policy.Tokenize}},
		},
	}}}
	run := func(from, to int) {
		for i := from; i < to; i++ {
			info := &proxy.SessionInfo{ID: uint64(i + 1), RemoteAddr: fmt.Sprintf("10.0.%d.%d:5432", i/250, i%250),
				User: fmt.Sprintf("%s_%d", rtSecretUser, i), Database: fmt.Sprintf("%s_%d", rtSecretDB, i),
				StartupParams: map[string]string{"application_name": fmt.Sprintf("%s-%d", rtSecretApp, i)}}
			sa := hook.Open(info)
			now := time.Now()
			sql := fmt.Sprintf("SELECT * FROM t WHERE email = '%s%d'", rtSecretSQL, i)
			sa.Statement(&proxy.StatementEvent{SQL: sql, Protocol: proxy.ProtocolSimple, Outcome: proxy.OutcomeRefused,
				Refusal: &proxy.Error{Severity: "ERROR", Code: "42501", Message: fmt.Sprintf("%s %d", rtSecretMsg, i)}, Start: now, End: now})
			sa.Statement(&proxy.StatementEvent{SQL: sql, Protocol: proxy.ProtocolSimple, Outcome: proxy.OutcomeFailed,
				SQLState: fmt.Sprintf("%05d", i), Start: now, End: now})
			sa.Statement(&proxy.StatementEvent{SQL: sql, Protocol: proxy.ProtocolSimple, Outcome: proxy.OutcomeOK,
				Plan: masked, Tag: []byte("SELECT 3"), Rows: 3, Start: now, End: now})
			hook.LoginFailed(info, "28P01")
			sa.Ended(rtSecretMsg)
		}
	}
	run(0, 20)
	first := rtSeries(rtScrape(t, s))
	run(20, 400)
	text := rtScrape(t, s)
	later := rtSeries(text)
	if len(later) != len(first) {
		t.Errorf("series grew with client input: %d after 20 sessions, %d after 400", len(first), len(later))
	}
	// Client input must not reach names, labels or help texts; sample
	// values are numbers that may spell a short input by chance (a
	// duration of 0.00017 s spelled "00017" in CI).
	var named strings.Builder
	for _, line := range strings.Split(text, "\n") {
		if i := strings.LastIndexByte(line, ' '); i > 0 && !strings.HasPrefix(line, "#") {
			line = line[:i]
		}
		named.WriteString(line + "\n")
	}
	for _, secret := range []string{rtSecretApp, rtSecretUser, rtSecretDB, rtSecretSQL, "110101199003074518", "already exists", "10.0.", "28P01", "00017"} {
		if strings.Contains(named.String(), secret) {
			t.Errorf("/metrics holds client input %q", secret)
		}
	}
	for _, want := range []string{`pgmantle_statements_total{decision="refused"} 400`, `pgmantle_refusals_total{reason="policy"} 400`,
		`pgmantle_masked_values_total{action="partial",class="cn_id"} 1200`, `pgmantle_sessions_open 0`, `pgmantle_logins_failed_total 400`} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// failingSink is an audit sink whose writes fail on demand, with an error
// that names a credential-bearing location.
type failingSink struct{ fail atomic.Bool }

var errSinkSecret = errors.New("write postgres://audit:Aud1t-Secret@db/audit: no space left on device")

func (f *failingSink) Write(p []byte) (int, error) {
	if f.fail.Load() {
		return 0, errSinkSecret
	}
	return len(p), nil
}
func (f *failingSink) Sync() error {
	if f.fail.Load() {
		return errSinkSecret
	}
	return nil
}
func (f *failingSink) Close() error { return nil }

// TestRedteamAdminHoldsReadyzFollowsAudit: with the audit writer wired as
// pgmantle wires it (readiness = Writer.Healthy), a failing sink under
// on_failure: refuse turns /readyz into 503 and pgmantle_audit_failing to
// 1, without echoing the sink's error (which may name a DSN); recovery
// turns both back. /healthz stays 200.
func TestRedteamAdminHoldsReadyzFollowsAudit(t *testing.T) {
	t.Parallel()
	sink := &failingSink{}
	w, err := audit.NewWriter(sink, audit.Options{RetryDelay: 20 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	s := rtListen(t, admin.New(admin.Sources{Audit: w}), w.Healthy)
	base := "http://" + s.Addr()
	if code, _ := rtDo(t, http.MethodGet, base+"/readyz"); code != 200 {
		t.Fatalf("readyz %d before the failure", code)
	}
	sink.fail.Store(true)
	rec := audit.NewRecord()
	rec.Type, rec.Time = audit.TypeStatement, time.Now()
	w.Submit(rec, false)
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := rtDo(t, http.MethodGet, base+"/readyz")
		if code == http.StatusServiceUnavailable {
			if strings.Contains(body, "Aud1t-Secret") || strings.Contains(body, "postgres://") {
				t.Errorf("/readyz echoes the sink error: %q", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d while the audit sink fails", code)
		}
		time.Sleep(20 * time.Millisecond)
	}
	text := rtScrape(t, s)
	if !strings.Contains(text, "pgmantle_audit_failing 1") || strings.Contains(text, "Aud1t-Secret") {
		t.Errorf("metrics during the failure:\n%s", strings.Join(rtSeries(text), "\n"))
	}
	if code, _ := rtDo(t, http.MethodGet, base+"/healthz"); code != 200 {
		t.Errorf("healthz %d during an audit failure", code)
	}
	sink.fail.Store(false)
	deadline = time.Now().Add(10 * time.Second)
	for {
		if code, _ := rtDo(t, http.MethodGet, base+"/readyz"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz did not recover")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRedteamAdminHoldsOnlyThreePaths: the admin mux serves its three
// paths only: no index, no pprof/expvar (the mux is its own, not
// http.DefaultServeMux), no prefix matches, no case folding.
func TestRedteamAdminHoldsOnlyThreePaths(t *testing.T) {
	t.Parallel()
	s := rtListen(t, nil, nil)
	for _, p := range []string{"/", "/metrics/", "/metrics/x", "/healthz/", "/readyz/x", "/READYZ", "/Metrics",
		"/debug/pprof/", "/debug/pprof/goroutine", "/debug/vars", "/%2e%2e/metrics"} {
		if code, _ := rtDo(t, http.MethodGet, "http://"+s.Addr()+p); code != http.StatusNotFound {
			t.Errorf("GET %s answered %d; want 404", p, code)
		}
	}
	if code, body := rtDo(t, http.MethodGet, "http://"+s.Addr()+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("healthz %d %q", code, body)
	}
}
