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
	DefaultInterval = 5 * time.Minute
	DefaultTimeout  = time.Minute
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
// refreshes the snapshot every Interval and soon after Invalidate, and
// swaps the new one in atomically. A failed refresh is logged and the
// previous snapshot stays in use until a later refresh succeeds.
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

	// beforeLoad, if set (by tests), runs before every load.
	beforeLoad func(ctx context.Context, database string)
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
		st = &dbState{name: database, ready: make(chan struct{}), kick: make(chan struct{}, 1)}
		m.dbs[database] = st
		m.wg.Add(1)
		go m.refresher(st)
	}
	m.mu.Unlock()

	if s := st.snap.Load(); s != nil {
		return s, nil
	}
	select {
	case <-st.ready:
		if s := st.snap.Load(); s != nil {
			return s, nil
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
	select {
	case st.kick <- struct{}{}:
	default: // a refresh is already pending
	}
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

	s, err := m.load(st.name)
	if err != nil {
		if m.ctx.Err() == nil {
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
	st.snap.Store(s)
	close(st.ready)
	m.logLoaded(log, nil, s)

	interval := m.Interval
	if interval == 0 {
		interval = DefaultInterval
	}
	var tick <-chan time.Time
	var timer *time.Timer
	if interval > 0 {
		timer = time.NewTimer(interval)
		defer timer.Stop()
		tick = timer.C
	}
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-st.kick:
		case <-tick:
		}
		s, err := m.load(st.name)
		if m.ctx.Err() != nil {
			return
		}
		if err != nil {
			old := st.snap.Load()
			log.Warn("catalog: refresh failed; keeping the previous snapshot",
				"err", err, "snapshot_loaded_at", old.LoadedAt)
		} else {
			m.logLoaded(log, st.snap.Swap(s), s)
		}
		if timer != nil {
			timer.Reset(interval)
		}
	}
}

// load connects to database with the DSN's settings and loads its catalog.
func (m *Manager) load(database string) (*Snapshot, error) {
	timeout := m.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(m.ctx, timeout)
	defer cancel()
	if m.beforeLoad != nil {
		m.beforeLoad(ctx, database)
	}
	cfg, err := pgx.ParseConfig(m.DSN)
	if err != nil {
		// pgconn redacts the password in its parse errors.
		return nil, fmt.Errorf("catalog: parse DSN: %w", err)
	}
	cfg.Database = database
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "pgmantle catalog"
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("catalog: connect to database %q: %w", database, err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Close(ctx)
	}()
	return Load(ctx, conn, database)
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
