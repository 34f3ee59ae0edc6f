package catalog_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pgmantle/pgmantle/catalog"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// holdingForwarder relays TCP connections to target; while held, it
// forwards nothing in either direction (bytes wait, connections stay
// open), like a network path that has gone silent.
type holdingForwarder struct {
	addr   string
	target string
	mu     sync.Mutex
	held   bool
	resume *sync.Cond
}

func startHoldingForwarder(tb testing.TB, target string) *holdingForwarder {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	f := &holdingForwarder{addr: l.Addr().String(), target: target}
	f.resume = sync.NewCond(&f.mu)
	tb.Cleanup(func() {
		l.Close()
		f.hold(false)
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go f.pipe(u, c)
			go f.pipe(c, u)
		}
	}()
	return f
}

// pipe copies src to dst, waiting before each write while the forwarder
// is held.
func (f *holdingForwarder) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			f.mu.Lock()
			for f.held {
				f.resume.Wait()
			}
			f.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (f *holdingForwarder) hold(on bool) {
	f.mu.Lock()
	f.held = on
	f.mu.Unlock()
	f.resume.Broadcast()
}

// TestManagerHungCheckRefusesAtOnce: when the on-demand check of a
// snapshot past MaxStale hangs (the catalog's network path went silent),
// the statement that asked for it waits the bound and is refused; the
// statements after it are refused at once instead of each waiting for
// the same hung check; once the check has failed, the next statement
// waits at most about a second for a new one; when the path comes back,
// statements are served again.
func TestManagerHungCheckRefusesAtOnce(t *testing.T) {
	t.Parallel()
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	db := newDB(t, `CREATE TABLE t (x int)`)
	fwd := startHoldingForwarder(t, c.Addr())
	m, logs := newManager(t, -1)
	defer func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	}()
	m.DSN = strings.Replace(c.DSN("postgres", "", "postgres"), c.Addr(), fwd.addr, 1)
	m.CheckInterval = time.Hour
	m.MaxStale = 3 * time.Second // a check on a loaded CI machine can take a second
	m.Timeout = 8 * time.Second  // the hung check fails after this; the wait bound is MaxStale
	mustGet(t, m, db)
	// Past MaxStale, a check over the forwarder confirms the snapshot
	// (and keeps its connection); on a loaded machine the first may be
	// slower than the wait.
	time.Sleep(3500 * time.Millisecond)
	eventually(t, "a check over the forwarder to confirm the snapshot", func() bool {
		_, err := m.Get(ctx, db)
		return err == nil
	})

	fwd.hold(true)
	time.Sleep(3500 * time.Millisecond)
	start := time.Now()
	_, err := m.Get(ctx, db)
	first := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "last confirmed") {
		t.Fatalf("Get while the check hangs: %v; want the staleness error", err)
	}
	if first < 2900*time.Millisecond {
		t.Fatalf("the first statement waited %s for the hung check; want the 3 s bound", first)
	}
	start = time.Now()
	_, err = m.Get(ctx, db)
	second := time.Since(start)
	if err == nil {
		t.Fatal("the second Get while the check hangs was served")
	}
	if second >= time.Second {
		t.Fatalf("the second statement waited %s for the check the first gave up on; want an immediate refusal", second)
	}

	// The hung check fails at Timeout (8 s after it began); the check
	// the next statement asks for hangs too, and is waited for briefly.
	eventually(t, "the hung check to fail", func() bool {
		return strings.Contains(logs.String(), "change check failed")
	})
	time.Sleep(500 * time.Millisecond) // the refresher ends the failed check and starts the next
	start = time.Now()
	_, err = m.Get(ctx, db)
	third := time.Since(start)
	if err == nil {
		t.Fatal("Get after the hung check failed was served")
	}
	if third < 900*time.Millisecond || third >= 2900*time.Millisecond {
		t.Fatalf("after a failed check the statement waited %s; want about a second", third)
	}
	// Giving up on that shorter wait does not mark the check hung: a
	// catalog that is back may need longer than a second to log in, and
	// the statements after would otherwise be refused until it did.
	start = time.Now()
	if _, err = m.Get(ctx, db); err == nil {
		t.Fatal("a fourth Get while the new check hangs was served")
	}
	if fourth := time.Since(start); fourth < 900*time.Millisecond {
		t.Fatalf("the statement after a short wait was refused after %s; want it to wait about a second too", fourth)
	}

	fwd.hold(false)
	eventually(t, "the catalog to be confirmed again", func() bool {
		_, err := m.Get(ctx, db)
		return err == nil
	})
}

// TestManagerSlowReloadServes: a snapshot is current as of its load's
// start, so one whose reload took longer than MaxStale arrived already
// past the bound, and the statement that waited for it was refused. The
// refresher now confirms such a snapshot with a check right after the
// load: the statement is served, on the new snapshot.
func TestManagerSlowReloadServes(t *testing.T) {
	t.Parallel()
	db := newDB(t, `CREATE TABLE t (x int)`)
	m, logs := newManager(t, -1)
	defer func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	}()
	m.CheckInterval = time.Hour
	m.MaxStale = 3 * time.Second
	var slow atomic.Bool
	catalog.SetAfterLoad(m, func(ctx context.Context, _ string) {
		if slow.Load() {
			select {
			case <-time.After(4 * time.Second):
			case <-ctx.Done():
			}
		}
	})
	mustGet(t, m, db)
	slow.Store(true)
	execIn(t, db, `ALTER TABLE t ADD COLUMN added text`)
	time.Sleep(3500 * time.Millisecond)
	s, err := m.Get(pgtest.Context(t), db)
	if err != nil {
		t.Fatalf("Get after a reload slower than MaxStale: %v", err)
	}
	if _, ok := s.Column(catalog.ColumnRef{Schema: "public", Table: "t", Column: "added"}); !ok {
		t.Fatal("the snapshot served lacks the column added before the statement")
	}
}
