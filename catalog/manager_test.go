package catalog_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmantle/pgmantle/catalog"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// logBuffer collects a Manager's log for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newManager returns a Manager connecting as the superuser (to the
// "postgres" database in its DSN, which each load replaces), logging into
// the returned buffer, closed when the test ends.
func newManager(tb testing.TB, interval time.Duration) (*catalog.Manager, *logBuffer) {
	tb.Helper()
	logs := &logBuffer{}
	m := &catalog.Manager{
		DSN:      pgtest.Cluster(tb).DSN("postgres", "", "postgres"),
		Interval: interval,
		Timeout:  30 * time.Second,
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	tb.Cleanup(m.Close)
	return m, logs
}

// eventually polls cond every 10ms until it holds or 20s pass.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustGet(tb testing.TB, m *catalog.Manager, db string) *catalog.Snapshot {
	tb.Helper()
	s, err := m.Get(pgtest.Context(tb), db)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestManagerGetCaches: concurrent first Gets share one load; later Gets
// return the same snapshot; each database has its own, loaded from the
// database substituted into the DSN.
func TestManagerGetCaches(t *testing.T) {
	t.Parallel()
	db1 := newDB(t, `CREATE TABLE one (x int)`)
	db2 := newDB(t, `CREATE TABLE two (x int)`)
	m, logs := newManager(t, -1)
	var loads atomic.Int32
	catalog.SetBeforeLoad(m, func(context.Context, string) { loads.Add(1) })

	const n = 8
	got := make([]*catalog.Snapshot, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := m.Get(pgtest.Context(t), db1)
			if err != nil {
				t.Error(err)
			}
			got[i] = s
		})
	}
	wg.Wait()
	for i := range n {
		if got[i] == nil || got[i] != got[0] {
			t.Fatalf("Get %d returned another snapshot", i)
		}
	}
	s1 := got[0]
	if c, ok := m.Cached(db1); !ok || c != s1 {
		t.Error("Cached does not return the loaded snapshot")
	}
	if _, ok := m.Cached(db2); ok {
		t.Error("Cached returned a snapshot that was never loaded")
	}
	if s1.Database != db1 || s1.RelationByName("public", "one") == nil || s1.RelationByName("public", "two") != nil {
		t.Errorf("snapshot of %s: Database %q", db1, s1.Database)
	}
	if mustGet(t, m, db1) != s1 {
		t.Error("second Get returned another snapshot")
	}
	s2 := mustGet(t, m, db2)
	if s2 == s1 || s2.Database != db2 || s2.RelationByName("public", "two") == nil {
		t.Errorf("snapshot of %s: Database %q", db2, s2.Database)
	}
	if n := loads.Load(); n != 2 {
		t.Errorf("%d loads for two databases", n)
	}
	if !strings.Contains(logs.String(), "database="+db1) {
		t.Errorf("log lacks the load of %s:\n%s", db1, logs)
	}
}

// TestManagerInvalidate: Invalidate refreshes in the background; while the
// refresh is in progress (held in the hook), Get and Invalidate return at
// once with the previous snapshot; the new snapshot then replaces it.
func TestManagerInvalidate(t *testing.T) {
	t.Parallel()
	db := newDB(t, `CREATE TABLE before (x int)`)
	m, _ := newManager(t, -1)
	// No change checks: one that saw the new table before Invalidate's
	// refresh began would have Get wait for the held refresh (CI flake).
	m.CheckInterval = -1
	var loads atomic.Int32
	refreshing := make(chan struct{}, 1)
	release := make(chan struct{})
	catalog.SetBeforeLoad(m, func(ctx context.Context, _ string) {
		if loads.Add(1) == 1 {
			return // the first load goes through
		}
		select {
		case refreshing <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
	})
	old := mustGet(t, m, db)
	m.Invalidate("no_such_database_loaded") // no-op
	if _, ok := m.Cached("no_such_database_loaded"); ok {
		t.Error("Invalidate loaded a database")
	}

	execIn(t, db, `CREATE TABLE after (y int)`)
	m.Invalidate(db)
	<-refreshing // the refresh is running and held

	start := time.Now()
	for range 100 {
		if s := mustGet(t, m, db); s != old {
			t.Fatal("Get returned a new snapshot while the refresh was held")
		}
		if s, _ := m.Cached(db); s != old {
			t.Fatal("Cached returned a new snapshot while the refresh was held")
		}
		m.Invalidate(db) // coalesces; must not block
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("100 Get+Invalidate during a refresh took %v", d)
	}
	close(release)
	eventually(t, "the new table in the snapshot", func() bool {
		s, _ := m.Cached(db)
		return s.RelationByName("public", "after") != nil
	})
	s := mustGet(t, m, db)
	if !s.LoadedAt.After(old.LoadedAt) || old.RelationByName("public", "after") != nil {
		t.Error("old snapshot changed or new one not newer")
	}
	// The Invalidates issued during the refresh coalesced into at most one
	// more refresh.
	time.Sleep(200 * time.Millisecond)
	if n := loads.Load(); n > 3 {
		t.Errorf("%d loads; Invalidate calls did not coalesce", n)
	}
}

// TestManagerInterval: without Invalidate, the snapshot is refreshed on the
// interval.
func TestManagerInterval(t *testing.T) {
	t.Parallel()
	db := newDB(t, `CREATE TABLE before (x int)`)
	m, _ := newManager(t, 50*time.Millisecond)
	// Not the staleness bound under test (5 intervals by default, 250ms):
	// under -race on a loaded machine one refresh can take longer.
	m.MaxStale = time.Minute
	old := mustGet(t, m, db)
	execIn(t, db, `CREATE TABLE later (y int)`)
	eventually(t, "the interval refresh", func() bool {
		return mustGet(t, m, db).RelationByName("public", "later") != nil
	})
	if old.RelationByName("public", "later") != nil {
		t.Error("the old snapshot changed")
	}
}

// TestManagerLateConfirmationChecksOnDemand: a snapshot past MaxStale
// because the periodic check is late (here: hourly) is confirmed by a
// check the statement asks for, and serves; when that check cannot reach
// the catalog, Get fails closed; once it can again, Get serves. Not
// parallel: the fingerprint covers roles, which other tests create, and
// a role created during the wait made the check see a change (CI).
func TestManagerLateConfirmationChecksOnDemand(t *testing.T) {
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	role, password := unique("catalog_late"), "late-Pa55word"
	if err := c.CreateRole(ctx, role, password, pgcluster.AuthSCRAM); err != nil {
		t.Fatal(err)
	}
	db := newDB(t, `CREATE TABLE t (x int)`)
	m, _ := newManager(t, -1)
	m.DSN = c.DSN(role, password, "postgres")
	m.CheckInterval = time.Hour
	m.MaxStale = 3 * time.Second // a check on a loaded CI machine can take a second
	old := mustGet(t, m, db)

	time.Sleep(3500 * time.Millisecond)
	if s, err := m.Get(ctx, db); err != nil || s != old {
		t.Fatalf("Get past MaxStale with the catalog reachable: %v (same snapshot: %v); want the on-demand check to confirm it", err, s == old)
	}
	// The check connection opened above is kept; end it and forbid new
	// ones, so the next on-demand check fails.
	if err := c.Exec(ctx, "ALTER ROLE "+role+" NOLOGIN"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Exec(context.Background(), "ALTER ROLE "+role+" LOGIN") })
	if err := c.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '"+role+"'"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3500 * time.Millisecond)
	if _, err := m.Get(ctx, db); err == nil || !strings.Contains(err.Error(), "last confirmed") {
		t.Fatalf("Get past MaxStale with the catalog unreachable: %v; want the staleness error", err)
	}
	if st := m.Status(); st.Failing != 1 {
		t.Errorf("Status().Failing = %d, want 1", st.Failing)
	}

	if err := c.Exec(ctx, "ALTER ROLE "+role+" LOGIN"); err != nil {
		t.Fatal(err)
	}
	// After a failed check a statement waits at most a second for the
	// next, which must log in again: under load it may take longer, and
	// that statement is refused; one soon after is served.
	eventually(t, "Get to serve once the catalog is reachable again", func() bool {
		_, err := m.Get(ctx, db)
		return err == nil
	})
}

// TestManagerLateConfirmationSeesChange: a snapshot past MaxStale whose
// on-demand check finds the catalog changed is reloaded while the
// statement waits; Get and Current return the new snapshot, never the one
// found out of date (review finding: the snapshot was read before the
// wait, so the replaced one came back with no error).
func TestManagerLateConfirmationSeesChange(t *testing.T) {
	t.Parallel()
	db := newDB(t, `CREATE TABLE t (x int)`)
	for _, via := range []string{"Get", "Current"} {
		m, _ := newManager(t, -1)
		m.CheckInterval = time.Hour
		m.MaxStale = 3 * time.Second
		old := mustGet(t, m, db)
		col := "c_" + strings.ToLower(via)
		execIn(t, db, `ALTER TABLE t ADD COLUMN `+col+` text`)
		time.Sleep(3500 * time.Millisecond)
		var s *catalog.Snapshot
		var err error
		if via == "Get" {
			s, err = m.Get(pgtest.Context(t), db)
		} else {
			s, err = m.Current(db)
		}
		if err == nil && s == old {
			t.Fatalf("%s returned the snapshot its check found out of date, with no error", via)
		}
		if _, ok := s.Column(catalog.ColumnRef{Schema: "public", Table: "t", Column: col}); err == nil && !ok {
			t.Errorf("%s: the snapshot returned lacks column %s", via, col)
		}
	}
}

// TestManagerRefreshFailureKeepsSnapshot: a refresh that fails (the catalog
// role may no longer log in) is logged and the previous snapshot stays;
// once the role is fixed, the next refresh succeeds.
func TestManagerRefreshFailureKeepsSnapshot(t *testing.T) {
	t.Parallel()
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	role, password := unique("catalog_flaky"), "flaky-Pa55word"
	if err := c.CreateRole(ctx, role, password, pgcluster.AuthSCRAM); err != nil {
		t.Fatal(err)
	}
	db := newDB(t, `CREATE TABLE before (x int)`)
	m, logs := newManager(t, -1)
	m.DSN = c.DSN(role, password, "postgres")
	old := mustGet(t, m, db)

	if err := c.Exec(ctx, "ALTER ROLE "+role+" NOLOGIN"); err != nil {
		t.Fatal(err)
	}
	execIn(t, db, `CREATE TABLE after (y int)`)
	m.Invalidate(db)
	eventually(t, "the refresh failure in the log", func() bool {
		return strings.Contains(logs.String(), "refresh failed")
	})
	if s, _ := m.Cached(db); s != old {
		t.Error("a failed refresh replaced the snapshot")
	}
	// Get serves the kept snapshot, unless the change check (on its own,
	// older connection) has seen that the catalog changed: then it fails
	// closed until a reload succeeds. Which one depends on whether a check
	// connection was open before the role lost LOGIN.
	if s, err := m.Get(ctx, db); err != nil {
		if !strings.Contains(err.Error(), "could not be reloaded") {
			t.Errorf("Get after a failed refresh: %v", err)
		}
	} else if s != old {
		t.Error("Get after a failed refresh returned a new snapshot")
	}
	out := logs.String()
	if strings.Contains(out, password) {
		t.Errorf("the log holds the password:\n%s", out)
	}
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "database="+db) || !strings.Contains(out, "not permitted to log in") {
		t.Errorf("refresh failure log:\n%s", out)
	}

	if err := c.Exec(ctx, "ALTER ROLE "+role+" LOGIN"); err != nil {
		t.Fatal(err)
	}
	m.Invalidate(db)
	eventually(t, "a successful refresh", func() bool {
		s, err := m.Get(ctx, db)
		return err == nil && s.RelationByName("public", "after") != nil
	})
}

// TestManagerFirstLoadFailure: a first load that fails is returned to Get
// and not cached: a later Get tries again.
func TestManagerFirstLoadFailure(t *testing.T) {
	t.Parallel()
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	m, logs := newManager(t, -1)
	db := unique("catalog_created_late")
	_, err := m.Get(ctx, db)
	if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), db) {
		t.Fatalf("Get of a missing database: %v", err)
	}
	if !strings.Contains(logs.String(), "first load failed") {
		t.Errorf("log:\n%s", logs)
	}
	if err := c.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Exec(context.Background(), "DROP DATABASE "+db+" WITH (FORCE)") })
	s, err := m.Get(ctx, db)
	if err != nil || s.Database != db {
		t.Fatalf("Get after creating the database: %v", err)
	}
}

// TestManagerGetContext: a Get that gives up waiting for the first load
// does not abort it; a later Get gets its result.
func TestManagerGetContext(t *testing.T) {
	t.Parallel()
	db := newDB(t, `CREATE TABLE a (x int)`)
	m, _ := newManager(t, -1)
	var loads atomic.Int32
	release := make(chan struct{})
	catalog.SetBeforeLoad(m, func(ctx context.Context, _ string) {
		loads.Add(1)
		select {
		case <-release:
		case <-ctx.Done():
		}
	})
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := m.Get(short, db); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get with an expiring context: %v", err)
	}
	if _, ok := m.Cached(db); ok {
		t.Error("Cached returned a snapshot during the first load")
	}
	close(release)
	s := mustGet(t, m, db)
	if s.RelationByName("public", "a") == nil || loads.Load() != 1 {
		t.Errorf("loads %d", loads.Load())
	}
}

// TestManagerClose: Close aborts a load in progress, fails its waiters,
// and makes Get return ErrClosed; it may be called again.
func TestManagerClose(t *testing.T) {
	t.Parallel()
	db := newDB(t, ``)
	m, _ := newManager(t, -1)
	started := make(chan struct{})
	catalog.SetBeforeLoad(m, func(ctx context.Context, _ string) {
		close(started)
		<-ctx.Done() // held until Close
	})
	errc := make(chan error, 1)
	go func() {
		_, err := m.Get(context.Background(), db)
		errc <- err
	}()
	<-started
	closed := make(chan struct{})
	go func() { m.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("waiting Get after Close: %v", err)
	}
	if _, err := m.Get(context.Background(), db); !errors.Is(err, catalog.ErrClosed) {
		t.Errorf("Get after Close: %v", err)
	}
	m.Invalidate(db)
	m.Close()
}

// TestManagerBadDSN: an unusable DSN fails Get without revealing the
// password.
func TestManagerBadDSN(t *testing.T) {
	t.Parallel()
	m, logs := newManager(t, -1)
	m.DSN = "postgres://someone:T0pSecret@127.0.0.1:notaport/postgres"
	_, err := m.Get(pgtest.Context(t), "postgres")
	if err == nil {
		t.Fatal("Get with a bad DSN succeeded")
	}
	if strings.Contains(err.Error(), "T0pSecret") || strings.Contains(logs.String(), "T0pSecret") {
		t.Errorf("password revealed: %v\n%s", err, logs)
	}
	if _, ok := errors.AsType[*pgconn.ParseConfigError](err); !ok {
		t.Errorf("error is not a DSN parse error: %v", err)
	}
}

// TestManagerNoticesWriteChecks: the change check notices changes to
// what a write is checked against even when no pg_class, pg_attribute
// or pg_proc row changes with them: a second trigger, a trigger
// disabled, a policy added, a domain's CHECK added (each is what round
// 17 and 18's refusals read; a snapshot that missed one would let a
// write through it).
func TestManagerNoticesWriteChecks(t *testing.T) {
	t.Parallel()
	db := newDB(t, `
CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE FUNCTION yes(v numeric) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE TABLE t (id int, v numeric);
CREATE TRIGGER first BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION noop();
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE DOMAIN d AS numeric;
`)
	m, _ := newManager(t, -1) // no periodic reload: the check alone
	m.CheckInterval = 50 * time.Millisecond
	m.MaxStale = time.Minute
	for _, step := range []struct {
		ddl  string
		seen func(*catalog.Snapshot) bool
	}{
		{`CREATE TRIGGER second BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION noop()`, func(s *catalog.Snapshot) bool {
			return len(s.RelationByName("public", "t").Triggers) == 2
		}},
		{`ALTER TABLE t DISABLE TRIGGER second`, func(s *catalog.Snapshot) bool {
			return len(s.RelationByName("public", "t").Triggers) == 1
		}},
		{`CREATE POLICY p ON t USING (yes(v))`, func(s *catalog.Snapshot) bool {
			return len(s.RelationByName("public", "t").PolicyFunctions) == 1
		}},
		{`ALTER DOMAIN d ADD CONSTRAINT d_yes CHECK (yes(VALUE))`, func(s *catalog.Snapshot) bool {
			return s.DomainFunctions("d") != nil
		}},
	} {
		// A reload racing the DDL may fail once (Get then says so); the
		// next check reloads again, so poll past errors.
		seen := func() (bool, bool) {
			s, err := m.Get(pgtest.Context(t), db)
			return err == nil && step.seen(s), err == nil
		}
		if now, ok := seen(); ok && now {
			t.Fatalf("before %s: already seen", step.ddl)
		}
		execIn(t, db, step.ddl)
		eventually(t, step.ddl, func() bool { now, _ := seen(); return now })
	}
}
