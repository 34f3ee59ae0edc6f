package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Defaults for Manager fields left zero.
const (
	DefaultInterval      = 5 * time.Minute
	DefaultTimeout       = time.Minute
	DefaultCheckInterval = time.Second
)

// ErrClosed is returned by Get after Close.
var ErrClosed = errors.New("catalog: manager is closed")

// Manager keeps one Snapshot per database, loaded over pgmantle's own
// connections (never a client's).
//
// The first Get for a database starts its load and waits for it; a load
// that fails is reported to everyone waiting for it, and the next Get tries
// again. Once a database is loaded, Get returns its current snapshot at
// once and never waits for a load: a background goroutine per database
// refreshes the snapshot every Interval, soon after Invalidate and as soon
// as a check (every CheckInterval, over one connection kept per database)
// sees the catalog change, and swaps the new one in atomically. A failed
// refresh is logged and the previous snapshot stays in use until a later
// refresh succeeds, unless the catalog is known to have changed or nothing
// confirmed the snapshot for MaxStale: then Get, Current and Fresh return
// an error, and statements are refused rather than decided on a catalog
// that may be out of date.
//
// Set the exported fields before the first Get and do not change them
// afterwards. A Manager must not be copied after first use.
type Manager struct {
	// DSN is the connection string of pgmantle's catalog role, in any form
	// pgx.ParseConfig accepts (postgres:// URL or key=value). Its database
	// is replaced by the one each load is for; host, user, password, TLS
	// (sslmode, sslrootcert, ...) and other settings are used as given.
	// The role needs LOGIN and CONNECT on the databases, and no privilege
	// on any table. Required.
	DSN string
	// Interval is the time between the end of one load of a database and
	// the start of its next periodic refresh. Zero means DefaultInterval;
	// negative disables periodic refreshes (Invalidate still refreshes).
	Interval time.Duration
	// Timeout bounds one load, connection included. Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// CheckInterval is how often each loaded database is asked, over a
	// connection kept for it, whether its catalog changed (a cheap
	// fingerprint: row counts and newest row versions of the catalogs a
	// snapshot reads). A change, made through pgmantle or not (a view
	// redefined by a DBA, DDL inside DO or a function, a role granted in
	// another database), triggers a reload at once. Zero means
	// DefaultCheckInterval; negative disables the checks.
	CheckInterval time.Duration
	// MaxStale bounds how long a snapshot is used without being confirmed
	// current by a check or a load. A statement that finds it passed asks
	// for a check at once and waits for it (MaxStale, but at least 2 s and
	// at most 10 s or Timeout; at most 1 s while the last check failed; not
	// at all for a check another statement already gave up on as hung);
	// if that does not confirm the snapshot, or as
	// soon as a change was seen and its reload failed, Get and Fresh
	// return an error (fail closed). Zero means 5 × the shorter of CheckInterval and a positive
	// Interval (each confirms the snapshot when it succeeds); negative
	// disables the bound.
	MaxStale time.Duration
	// OnChange, if set, is called (on a goroutine of its own) after a
	// refresh replaced a database's snapshot: rules that follow from the
	// catalog (a role's memberships) may have changed for sessions
	// decided on the old one.
	OnChange func(database string)
	// Logger receives refresh failures (warn), first-load failures (error)
	// and successful loads (debug). nil means slog.Default(). Entries name
	// the database and never hold catalog contents or credentials.
	Logger *slog.Logger

	mu     sync.Mutex
	dbs    map[string]*dbState
	ctx    context.Context // cancelled by Close; parent of every load
	cancel context.CancelFunc
	closed bool
	wg     sync.WaitGroup // one per running refresher

	failures atomic.Uint64 // failed loads and refreshes

	// beforeLoad, if set (by tests), runs before every load; afterLoad
	// after every load that succeeded (a slow load, as seen by the
	// refresher).
	beforeLoad func(ctx context.Context, database string)
	afterLoad  func(ctx context.Context, database string)
}

// dbState is one database's snapshot and its refresher.
type dbState struct {
	name string
	snap atomic.Pointer[Snapshot]
	// ready is closed when the first load ends; err is its error, written
	// before ready is closed.
	ready chan struct{}
	err   error
	// kick asks the refresher for a refresh; it holds at most one pending
	// request, so Invalidate never blocks and bursts coalesce.
	kick chan struct{}
	// confirm asks the refresher for a check now (a statement found the
	// snapshot past MaxStale); it coalesces like kick.
	confirm chan struct{}

	// Written by the refresher: the fingerprint the snapshot was loaded
	// at; when the snapshot was last confirmed current (unix ns); whether
	// a change was seen that no load has caught up with.
	fp       string
	verified atomic.Int64
	changed  atomic.Bool
	check    *pgx.Conn // the refresher's connection for checks
	// reloading is closed when the reload of a seen change ends (under
	// mu; nil when none is running). checked is closed when the
	// refresher's next check or load ends, whatever its outcome (under mu;
	// nil when nobody waits for one).
	mu        sync.Mutex
	reloading chan struct{}
	checked   chan struct{}
	// abandoned is the checked channel a statement stopped waiting for
	// (under mu): later statements do not wait for a check known to hang.
	abandoned chan struct{}
	// checkFailed is set while the refresher's last check could not reach
	// the catalog: statements then wait for a new check only briefly.
	checkFailed atomic.Bool
}

// awaitCheck returns a channel closed when the refresher's next check or
// load ends, and whether an earlier statement gave up waiting for that
// same check (it hangs: do not wait again).
func (st *dbState) awaitCheck() (<-chan struct{}, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.checked == nil {
		st.checked = make(chan struct{})
	}
	return st.checked, st.checked == st.abandoned
}

// abandonCheck notes that a statement gave up waiting for done.
func (st *dbState) abandonCheck(done <-chan struct{}) {
	st.mu.Lock()
	if st.checked != nil && (<-chan struct{})(st.checked) == done {
		st.abandoned = st.checked
	}
	st.mu.Unlock()
}

// endCheck wakes those waiting in awaitCheck.
func (st *dbState) endCheck() {
	st.mu.Lock()
	if st.checked != nil {
		close(st.checked)
		st.checked, st.abandoned = nil, nil
	}
	st.mu.Unlock()
}

// beginReload marks a change seen: Fresh waits for the reload.
func (st *dbState) beginReload() {
	st.mu.Lock()
	st.changed.Store(true)
	if st.reloading == nil {
		st.reloading = make(chan struct{})
	}
	st.mu.Unlock()
}

// endReload ends a reload; changed stays set if it failed.
func (st *dbState) endReload(ok bool) {
	st.mu.Lock()
	if ok {
		st.changed.Store(false)
	}
	if st.reloading != nil {
		close(st.reloading)
		st.reloading = nil
	}
	st.mu.Unlock()
}

// Get returns the current snapshot of database. The first call for a
// database waits, within ctx, for its first load; later calls return at
// once. A first load continues when the caller that started it gives up, so
// a later Get may find it done.
func (m *Manager) Get(ctx context.Context, database string) (*Snapshot, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrClosed
	}
	if m.dbs == nil {
		m.dbs = make(map[string]*dbState)
		m.ctx, m.cancel = context.WithCancel(context.Background())
	}
	st := m.dbs[database]
	if st == nil {
		st = &dbState{name: database, ready: make(chan struct{}),
			kick: make(chan struct{}, 1), confirm: make(chan struct{}, 1)}
		m.dbs[database] = st
		m.wg.Add(1)
		go m.refresher(st)
	}
	m.mu.Unlock()

	if st.snap.Load() != nil {
		return m.current(st)
	}
	select {
	case <-st.ready:
		if st.snap.Load() != nil {
			return m.current(st)
		}
		return nil, st.err
	case <-ctx.Done():
		return nil, fmt.Errorf("catalog: waiting for the catalog of database %q: %w", database, ctx.Err())
	}
}

// Cached returns database's current snapshot if one is loaded, without
// waiting and without starting a load.
func (m *Manager) Cached(database string) (*Snapshot, bool) {
	m.mu.Lock()
	st := m.dbs[database]
	m.mu.Unlock()
	if st == nil {
		return nil, false
	}
	s := st.snap.Load()
	return s, s != nil
}

// Status is the health of the loaded snapshots, for metrics and
// readiness.
type Status struct {
	Databases       int           // databases with a snapshot
	Failing         int           // of them, those Fresh refuses
	OldestConfirmed time.Duration // the longest time since a snapshot was confirmed current
	RefreshFailures uint64        // failed loads and refreshes since start
}

// Status reports the health of every loaded database's snapshot.
func (m *Manager) Status() Status {
	m.mu.Lock()
	sts := make([]*dbState, 0, len(m.dbs))
	for _, st := range m.dbs {
		sts = append(sts, st)
	}
	m.mu.Unlock()
	out := Status{RefreshFailures: m.failures.Load()}
	for _, st := range sts {
		if st.snap.Load() == nil {
			continue
		}
		out.Databases++
		out.OldestConfirmed = max(out.OldestConfirmed, time.Since(time.Unix(0, st.verified.Load())))
		if st.changed.Load() || m.staleFor(st) {
			out.Failing++
		}
	}
	return out
}

// staleFor reports whether st's snapshot is past the staleness bound.
func (m *Manager) staleFor(st *dbState) bool {
	bound := m.maxStale()
	return bound > 0 && time.Since(time.Unix(0, st.verified.Load())) > bound
}

// Current is Cached and Fresh in one step, for the per-statement path:
// the snapshot (nil if none is loaded) and whether it may decide a
// statement.
func (m *Manager) Current(database string) (*Snapshot, error) {
	m.mu.Lock()
	st := m.dbs[database]
	m.mu.Unlock()
	if st == nil || st.snap.Load() == nil {
		return nil, fmt.Errorf("catalog: database %q is not loaded", database)
	}
	return m.current(st)
}

// current returns a loaded database's snapshot and whether it may decide a
// statement. Freshness first: fresh may wait for a check or a reload that
// replaces the snapshot, and the snapshot returned must be the one it
// vouched for, never the one it found out of date.
func (m *Manager) current(st *dbState) (*Snapshot, error) {
	err := m.fresh(st)
	return st.snap.Load(), err
}

// Fresh reports whether database's snapshot may be used to decide a
// statement: nil, or an error when it is not loaded or may be out of date
// (a change was seen and not reloaded, or nothing confirmed it for
// MaxStale).
func (m *Manager) Fresh(database string) error {
	m.mu.Lock()
	st := m.dbs[database]
	m.mu.Unlock()
	if st == nil || st.snap.Load() == nil {
		return fmt.Errorf("catalog: database %q is not loaded", database)
	}
	return m.fresh(st)
}

// fresh is Fresh for a loaded database.
func (m *Manager) fresh(st *dbState) error {
	// One deadline for both waits below: a statement waits at most 10 s
	// (or Timeout) in all.
	limit := min(m.timeout(), 10*time.Second)
	deadline := time.Now().Add(limit)
	if bound := m.maxStale(); bound > 0 && m.staleFor(st) {
		// The periodic confirmation is late (a starved machine, a slow
		// connection): ask for a check now and decide on its outcome. A
		// failed check ends the wait at once; a hung one is given up on
		// after the bound (at least 2 s, at most 10 s), and only once:
		// statements that come while it still hangs are refused at once.
		// After a failed check the wait for the next is at most a second
		// (enough for a catalog that is back to answer), and giving up on
		// that shorter wait does not mark the check hung.
		done, hung := st.awaitCheck()
		select {
		case st.confirm <- struct{}{}:
		default: // a check is already requested
		}
		wait, full := min(limit, max(bound, 2*time.Second)), true
		if st.checkFailed.Load() && wait > time.Second {
			wait, full = time.Second, false
		}
		if !hung {
			t := time.NewTimer(wait)
			select {
			case <-done:
			case <-m.ctx.Done():
			case <-t.C:
				if full {
					st.abandonCheck(done)
				}
			}
			t.Stop()
		}
		// A change the check saw is waited for below, and the reloaded
		// snapshot must be within the bound too.
		if !st.changed.Load() {
			if err := m.withinBound(st, bound); err != nil {
				return err
			}
		}
	}
	if st.changed.Load() {
		// A change was seen: wait for its reload (a DDL statement costs
		// the statements that race it a reload's time, never a decision
		// on the catalog it replaced).
		if err := st.awaitReload(deadline); err != nil {
			return err
		}
		if bound := m.maxStale(); bound > 0 {
			return m.withinBound(st, bound)
		}
	}
	return nil
}

// Confirm waits for a change check that started after the call (and for
// the reload of a change it sees) and returns the snapshot current then:
// for a statement that ran long enough to have waited for a DDL's lock,
// whose analysis may predate a change committed before it ran. It errs
// when a check or reload fails or hangs (10 s at most).
func (m *Manager) Confirm(database string) (*Snapshot, error) {
	m.mu.Lock()
	st := m.dbs[database]
	m.mu.Unlock()
	if st == nil || st.snap.Load() == nil {
		return nil, fmt.Errorf("catalog: database %q is not loaded", database)
	}
	deadline := time.Now().Add(min(m.timeout(), 10*time.Second))
	// The check that ends next may have started before the call: wait
	// for the one after it too.
	for range 2 {
		done, hung := st.awaitCheck()
		if hung {
			return nil, fmt.Errorf("catalog: the catalog check of database %q hangs", st.name)
		}
		select {
		case st.confirm <- struct{}{}:
		default: // a check is already requested
		}
		t := time.NewTimer(time.Until(deadline))
		select {
		case <-done:
		case <-m.ctx.Done():
		case <-t.C:
		}
		t.Stop()
		if time.Now().After(deadline) || m.ctx.Err() != nil {
			return nil, fmt.Errorf("catalog: no catalog check of database %q answered in time", st.name)
		}
		if st.checkFailed.Load() {
			return nil, fmt.Errorf("catalog: the catalog check of database %q failed", st.name)
		}
	}
	if st.changed.Load() {
		if err := st.awaitReload(deadline); err != nil {
			return nil, err
		}
	}
	return st.snap.Load(), nil
}

// awaitReload waits, until deadline, for the reload of a change seen, and
// errs if the change is still not reloaded then.
func (st *dbState) awaitReload(deadline time.Time) error {
	st.mu.Lock()
	wait := st.reloading
	st.mu.Unlock()
	if left := time.Until(deadline); wait != nil && left > 0 {
		t := time.NewTimer(left)
		select {
		case <-wait:
		case <-t.C:
		}
		t.Stop()
	}
	if st.changed.Load() {
		return fmt.Errorf("catalog: the catalog of database %q changed and could not be reloaded", st.name)
	}
	return nil
}

// withinBound reports an error when st's snapshot was last confirmed
// longer than bound ago.
func (m *Manager) withinBound(st *dbState, bound time.Duration) error {
	if age := time.Since(time.Unix(0, st.verified.Load())); age > bound {
		return fmt.Errorf("catalog: the catalog of database %q was last confirmed %s ago (limit %s)", st.name, age.Round(time.Millisecond), bound)
	}
	return nil
}

// maxStale is MaxStale with its default.
func (m *Manager) maxStale() time.Duration {
	if m.MaxStale != 0 {
		return m.MaxStale
	}
	every := m.checkInterval()
	if i := m.interval(); i > 0 && (every <= 0 || i < every) {
		every = i
	}
	if every <= 0 {
		return 0
	}
	return 5 * every
}

func (m *Manager) checkInterval() time.Duration {
	if m.CheckInterval == 0 {
		return DefaultCheckInterval
	}
	return m.CheckInterval
}

func (m *Manager) interval() time.Duration {
	if m.Interval == 0 {
		return DefaultInterval
	}
	return m.Interval
}

// Invalidate asks for a refresh of database's snapshot, without waiting for
// it; Get keeps returning the previous snapshot until the new one is in.
// Call it after DDL has been committed (when the session's transaction has
// ended): a refresh started earlier cannot see uncommitted changes. A
// database not loaded yet is left alone: its first load is fresh anyway.
func (m *Manager) Invalidate(database string) {
	m.mu.Lock()
	st := m.dbs[database]
	m.mu.Unlock()
	if st == nil {
		return
	}
	st.kickRefresh() // coalesces with a refresh already pending
}

// Close stops the refreshers, aborting loads in progress, and waits for
// them to end. Get then returns ErrClosed. Close may be called more than
// once.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	if m.cancel != nil {
		m.cancel()
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// refresher loads st's first snapshot, then refreshes it on the interval
// and on request until Close.
func (m *Manager) refresher(st *dbState) {
	defer m.wg.Done()
	log := m.logger().With("database", st.name)

	defer st.closeCheck()
	s, fp, err := m.load(st.name)
	if err != nil {
		if m.ctx.Err() == nil {
			m.failures.Add(1)
			log.Error("catalog: first load failed", "err", err)
		}
		st.err = err
		// Forget the database so the next Get tries again.
		m.mu.Lock()
		if m.dbs[st.name] == st {
			delete(m.dbs, st.name)
		}
		m.mu.Unlock()
		close(st.ready)
		return
	}
	st.fp = fp
	st.verified.Store(s.LoadedAt.UnixNano())
	st.snap.Store(s)
	if m.changedDuringSlowLoad(st, log) {
		st.kickRefresh()
	}
	st.endCheck() // a Get that found the load stale waits for no second check
	close(st.ready)
	m.logLoaded(log, nil, s)

	interval := m.interval()
	var tick <-chan time.Time
	var timer *time.Timer
	if interval > 0 {
		timer = time.NewTimer(interval)
		defer timer.Stop()
		tick = timer.C
	}
	var checks <-chan time.Time
	if every := m.checkInterval(); every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		checks = t.C
	}
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-st.kick:
		case <-tick:
		case <-checks:
			if m.unchanged(st, log) {
				st.endCheck()
				continue
			}
		case <-st.confirm:
			if m.unchanged(st, log) {
				st.endCheck()
				continue
			}
		}
		s, fp, err := m.load(st.name)
		if m.ctx.Err() != nil {
			return
		}
		if err != nil {
			m.failures.Add(1)
			old := st.snap.Load()
			log.Warn("catalog: refresh failed; keeping the previous snapshot",
				"err", err, "snapshot_loaded_at", old.LoadedAt)
			// Is the snapshot kept still current? If the catalog changed,
			// it stays marked stale until a reload succeeds.
			m.unchanged(st, log)
		} else {
			st.fp = fp
			st.verified.Store(s.LoadedAt.UnixNano())
			st.checkFailed.Store(false) // the catalog answered
			m.logLoaded(log, st.snap.Swap(s), s)
			if m.OnChange != nil {
				go m.OnChange(st.name)
			}
		}
		// A load slower than MaxStale is confirmed before those waiting
		// for it are woken; a change seen meanwhile keeps them waiting
		// for the next load, which starts at once.
		if err == nil && m.changedDuringSlowLoad(st, log) {
			st.kickRefresh()
		} else {
			st.endReload(err == nil)
		}
		st.endCheck()
		if timer != nil {
			timer.Reset(interval)
		}
	}
}

// changedDuringSlowLoad confirms a snapshot whose load took longer than
// the staleness bound, and reports whether the catalog changed meanwhile
// (the change is then marked seen; the caller has it loaded again). A
// snapshot is current as of its load's start, so one that took longer to
// load than MaxStale (a large catalog on a busy machine) would otherwise
// be refused by every statement that waited for it.
func (m *Manager) changedDuringSlowLoad(st *dbState, log *slog.Logger) bool {
	return m.staleFor(st) && !m.unchanged(st, log)
}

// kickRefresh asks the refresher for a load without blocking.
func (st *dbState) kickRefresh() {
	select {
	case st.kick <- struct{}{}:
	default:
	}
}

// unchanged asks whether st's catalog changed since its snapshot was
// loaded. It reports true when it did not (the snapshot is confirmed
// current) or when the check failed (the staleness bound then runs), and
// false when it changed: the caller reloads.
func (m *Manager) unchanged(st *dbState, log *slog.Logger) bool {
	ctx, cancel := context.WithTimeout(m.ctx, m.timeout())
	defer cancel()
	at := time.Now()
	if st.check == nil {
		cfg, err := m.connConfig(st.name)
		if err != nil {
			st.checkFailed.Store(true)
			return true
		}
		cfg.RuntimeParams["application_name"] = "pgmantle catalog check"
		if st.check, err = pgx.ConnectConfig(ctx, cfg); err != nil {
			st.check = nil
			st.checkFailed.Store(true)
			log.Debug("catalog: change check cannot connect", "err", err)
			return true
		}
	}
	fp, err := fingerprint(ctx, st.check)
	if err != nil {
		st.closeCheck()
		st.checkFailed.Store(true)
		log.Debug("catalog: change check failed", "err", err)
		return true
	}
	st.checkFailed.Store(false)
	if fp != st.fp {
		st.beginReload()
		log.Debug("catalog: change seen; reloading")
		return false
	}
	st.verified.Store(at.UnixNano())
	return true
}

// closeCheck closes the refresher's check connection.
func (st *dbState) closeCheck() {
	if st.check != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st.check.Close(ctx)
		st.check = nil
	}
}

// dsnError reports a DSN that does not parse without its text, which
// may hold a password; the parser's error stays reachable with errors.As.
type dsnError struct{ err error }

func (e *dsnError) Error() string {
	return "catalog: the catalog DSN cannot be parsed (check its syntax; it is not shown, as it may hold a password)"
}

func (e *dsnError) Unwrap() error { return e.err }

// fingerprintSQL changes whenever a catalog a snapshot reads gains, loses
// or rewrites a row: each catalog's row count and a sum over its rows of
// a hash of each row's version (xmin). A row rewritten in place (CREATE
// OR REPLACE VIEW, a rename) gets a new xmin, so the sum moves even when
// the newest xmin does not: the rewriting transaction may commit after a
// younger one whose change was seen already (the newest xmin and the
// count alone missed that until the next full reload). Role names come
// from pg_roles, a view without row versions: their hash. Temporary
// relations, which snapshots leave out and sessions create all the time,
// are left out. The catalogs of what a write is checked against
// (constraints, indexes, triggers, row-level security policies) are read
// too: a second trigger or a policy changes no pg_class row. It reads a
// few thousand catalog rows, a millisecond or two.
const fingerprintSQL = `SELECT concat_ws('/',
 (SELECT count(*) || ':' || coalesce(sum(hashint8(xmin::text::bigint)), 0) FROM pg_catalog.pg_class WHERE relpersistence <> 't'),
 (SELECT count(*) || ':' || coalesce(sum(hashint8(a.xmin::text::bigint)), 0) FROM pg_catalog.pg_attribute a
   JOIN pg_catalog.pg_class c ON c.oid = a.attrelid WHERE c.relpersistence <> 't'),
 (SELECT count(*) || ':' || coalesce(sum(hashint8(xmin::text::bigint)), 0) FROM pg_catalog.pg_inherits),
 (SELECT count(*) || ':' || coalesce(sum(hashint8(xmin::text::bigint)), 0) FROM pg_catalog.pg_rewrite),
 (SELECT count(*) || ':' || coalesce(sum(hashint8(xmin::text::bigint)), 0) FROM pg_catalog.pg_auth_members),
 (SELECT count(*) || ':' || coalesce(sum(hashint8(xmin::text::bigint)), 0) FROM pg_catalog.pg_proc),
 (SELECT count(*) || ':' || coalesce(sum(hashint8(xmin::text::bigint)), 0) FROM pg_catalog.pg_namespace),
 (SELECT count(*) || ':' || coalesce(sum(hashint8(xmin::text::bigint)), 0) FROM pg_catalog.pg_language),
 (SELECT count(*) || ':' || coalesce(sum(hashint8(xmin::text::bigint)), 0) FROM pg_catalog.pg_operator),
 (SELECT count(*) || ':' || coalesce(sum(hashint8(xmin::text::bigint)), 0) FROM pg_catalog.pg_cast),
 (SELECT count(*) || ':' || coalesce(sum(hashint8(k.xmin::text::bigint)), 0) FROM pg_catalog.pg_constraint k
   LEFT JOIN pg_catalog.pg_class c ON c.oid = k.conrelid WHERE c.relpersistence IS DISTINCT FROM 't'),
 (SELECT count(*) || ':' || coalesce(sum(hashint8(i.xmin::text::bigint)), 0) FROM pg_catalog.pg_index i
   JOIN pg_catalog.pg_class c ON c.oid = i.indrelid WHERE c.relpersistence <> 't'),
 (SELECT count(*) || ':' || coalesce(sum(hashint8(g.xmin::text::bigint)), 0) FROM pg_catalog.pg_trigger g
   JOIN pg_catalog.pg_class c ON c.oid = g.tgrelid WHERE c.relpersistence <> 't'),
 (SELECT count(*) || ':' || coalesce(sum(hashint8(p.xmin::text::bigint)), 0) FROM pg_catalog.pg_policy p
   JOIN pg_catalog.pg_class c ON c.oid = p.polrelid WHERE c.relpersistence <> 't'),
 (SELECT md5(coalesce(string_agg(oid::text || rolname, ',' ORDER BY oid), '')) FROM pg_catalog.pg_roles))`

func fingerprint(ctx context.Context, conn *pgx.Conn) (string, error) {
	var fp string
	err := conn.QueryRow(ctx, fingerprintSQL).Scan(&fp)
	return fp, err
}

func (m *Manager) timeout() time.Duration {
	if m.Timeout == 0 {
		return DefaultTimeout
	}
	return m.Timeout
}

// connConfig is the DSN's connection settings for database. A DSN that
// does not parse is reported without its text (pgconn's redaction of
// passwords in parse errors is best-effort: "password =x" slips through).
func (m *Manager) connConfig(database string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(m.DSN)
	if err != nil {
		return nil, &dsnError{err}
	}
	cfg.Database = database
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "pgmantle catalog"
	}
	return cfg, nil
}

// load connects to database with the DSN's settings and loads its
// catalog, with the fingerprint taken just before (a change racing the
// load is then seen by the next check).
func (m *Manager) load(database string) (*Snapshot, string, error) {
	ctx, cancel := context.WithTimeout(m.ctx, m.timeout())
	defer cancel()
	if m.beforeLoad != nil {
		m.beforeLoad(ctx, database)
	}
	cfg, err := m.connConfig(database)
	if err != nil {
		return nil, "", err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, "", fmt.Errorf("catalog: connect to database %q: %w", database, err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Close(ctx)
	}()
	fp, err := fingerprint(ctx, conn)
	if err != nil {
		return nil, "", fmt.Errorf("catalog: database %q: fingerprint: %w", database, err)
	}
	s, err := Load(ctx, conn, database)
	if err == nil && m.afterLoad != nil {
		m.afterLoad(ctx, database)
	}
	return s, fp, err
}

// logLoaded logs a successful load of s, which replaced old (nil for the
// first load). Warnings are logged when they differ from old's, so a
// lasting condition is reported once, not on every refresh.
func (m *Manager) logLoaded(log *slog.Logger, old, s *Snapshot) {
	log.Debug("catalog: loaded", "relations", len(s.rels), "roles", len(s.roles),
		"duration", time.Since(s.LoadedAt).Round(time.Millisecond))
	if old != nil && slices.Equal(old.warnings, s.warnings) {
		return
	}
	for _, w := range s.warnings {
		log.Warn("catalog: incomplete snapshot", "warning", w)
	}
}

func (m *Manager) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.Default()
}
