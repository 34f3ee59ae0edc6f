package audit

import (
	"io"
	"testing"
	"time"
)

// TestWriterIdleTickerSleeps: under sync: interval, a writer with nothing
// queued, in flight or waiting for its sync stops ticking (an idle proxy
// is not woken every FlushDelay), and the next record wakes it and is
// written as before.
func TestWriterIdleTickerSleeps(t *testing.T) {
	w, err := NewWriter(NewWriterSink(io.Discard), Options{Sync: SyncInterval, FlushDelay: time.Millisecond, SyncInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ticks := func() uint64 {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.ticks
	}
	synced := func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.written >= w.tickets && w.synced == w.written
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 5 s", what)
			}
			time.Sleep(time.Millisecond)
		}
	}
	for round := range 3 {
		w.Submit(&Record{Type: TypeStatement, Time: time.Now()}, false)
		waitFor("record written and synced", synced)
		waitFor("ticker asleep", func() bool { w.mu.Lock(); defer w.mu.Unlock(); return w.sleeping })
		before := ticks()
		time.Sleep(100 * time.Millisecond) // 100 FlushDelays
		if n := ticks() - before; n > 0 {
			t.Fatalf("round %d: an idle writer ticked %d times in 100 ms", round, n)
		}
	}
}
