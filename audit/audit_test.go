package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeLog writes n statement records (and the open and close records)
// to a new file log in dir and returns its path.
func writeLog(t *testing.T, dir string, n int, opts Options) string {
	t.Helper()
	path := filepath.Join(dir, "audit.log")
	appendRun(t, path, n, opts, 0, 0)
	return path
}

// appendRun runs one writer over path: open, n records, close.
func appendRun(t *testing.T, path string, n int, opts Options, maxSize int64, maxAge time.Duration) {
	t.Helper()
	sink, err := OpenFileSink(path, maxSize, maxAge)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(sink, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		w.Submit(&Record{Time: time.Now(), Type: TypeStatement, Session: uint64(i%3 + 1), Role: "analyst",
			Kind: "SELECT", SQL: fmt.Sprintf("SELECT c%d FROM t WHERE id = $1", i), Decision: DecisionMasked,
			Masks: []string{"cn_id:cn_id"}, Rows: int64(i)}, false)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitAfter(string(data), "\n")
}

func writeLines(t *testing.T, path string, ls []string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(ls, "")), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyIntactChain(t *testing.T) {
	path := writeLog(t, t.TempDir(), 50, Options{})
	s, err := Verify([]string{path}, false)
	if err != nil {
		t.Fatal(err)
	}
	if s.Records != 52 || s.First != 1 || s.Last != 52 || !s.Anchored || !s.Closed {
		t.Fatalf("summary %+v", s)
	}
	// Every line is a JSON object with the record's fields.
	for _, l := range lines(t, path) {
		if l == "" {
			continue
		}
		var e Entry
		if err := json.Unmarshal([]byte(l), &e); err != nil || e.Seq == 0 || e.Time == "" {
			t.Fatalf("line %q: %v", l, err)
		}
	}
}

// TestVerifyCatchesTampering: each kind of change names the first broken
// record and fails.
func TestVerifyCatchesTampering(t *testing.T) {
	cases := []struct {
		name   string
		change func([]string) []string
		line   int // the line Broken names
		why    string
	}{
		{"edited", func(l []string) []string {
			l[10] = strings.Replace(l[10], `"rows":9`, `"rows":8`, 1)
			return l
		}, 11, "does not match"},
		{"edited field order kept, value widened", func(l []string) []string {
			l[5] = strings.Replace(l[5], `"role":"analyst"`, `"role":"analysts"`, 1)
			return l
		}, 6, "does not match"},
		{"removed", func(l []string) []string { return append(l[:20:20], l[21:]...) }, 21, "removed, inserted or reordered"},
		{"inserted", func(l []string) []string {
			return append(append(l[:30:30], l[12]), l[30:]...)
		}, 31, "removed, inserted or reordered"},
		{"reordered", func(l []string) []string {
			l[7], l[8] = l[8], l[7]
			return l
		}, 8, "removed, inserted or reordered"},
		{"truncated mid-record", func(l []string) []string {
			l = l[:41]
			l[40] = l[40][:len(l[40])/2]
			return l
		}, 41, "incomplete record"},
		{"tail removed", func(l []string) []string { return l[:45] }, 0, "without a close record"},
		{"not JSON", func(l []string) []string {
			l[3] = "hello\n"
			return l
		}, 4, "not a valid record"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeLog(t, t.TempDir(), 50, Options{})
			writeLines(t, path, c.change(lines(t, path)))
			_, err := Verify([]string{path}, false)
			var b *Broken
			if !errors.As(err, &b) {
				t.Fatalf("Verify = %v, want a broken chain", err)
			}
			if b.Line != c.line || !strings.Contains(b.Why, c.why) {
				t.Fatalf("Broken %v; want line %d and %q", b, c.line, c.why)
			}
		})
	}
}

// TestRestartContinuesChain: a second run appends to the same chain.
func TestRestartContinuesChain(t *testing.T) {
	dir := t.TempDir()
	path := writeLog(t, dir, 5, Options{})
	appendRun(t, path, 5, Options{}, 0, 0)
	s, err := Verify([]string{path}, false)
	if err != nil {
		t.Fatal(err)
	}
	if s.Records != 14 || s.Restarts != 1 || s.Recovered != 0 {
		t.Fatalf("summary %+v", s)
	}
}

// TestCrashRecovery: a record cut short by a crash is reported by verify,
// then removed by the next start, which says so in its open record.
func TestCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	path := writeLog(t, dir, 5, Options{})
	// The crash: a run that wrote records but no close record, the last
	// one half-written.
	ls := lines(t, path)
	ls = ls[:len(ls)-2] // drop the close record (and the trailing "")
	half := `{"seq":7,"prev":"` + strings.Repeat("ab", 10)
	writeLines(t, path, append(ls, half))
	if _, err := Verify([]string{path}, false); err == nil || !strings.Contains(err.Error(), "incomplete record") {
		t.Fatalf("Verify of a crashed log = %v", err)
	}
	appendRun(t, path, 2, Options{}, 0, 0)
	s, err := Verify([]string{path}, false)
	if err != nil {
		t.Fatal(err)
	}
	if s.Restarts != 1 || s.Recovered != 1 {
		t.Fatalf("summary %+v", s)
	}
	var open Entry
	for _, l := range lines(t, path) {
		var e Entry
		if json.Unmarshal([]byte(l), &e) == nil && e.Type == TypeOpen && e.Seq > 1 {
			open = e
		}
	}
	if !open.Recovered || open.TruncatedBytes != int64(len(half)) {
		t.Fatalf("open record after the crash: %+v", open)
	}
	// An attacker cannot claim a clean restart after removing records.
	ls = lines(t, path)
	for i, l := range ls {
		if strings.Contains(l, `"recovered":true`) {
			ls[i] = strings.Replace(l, `,"recovered":true`, "", 1)
		}
	}
	writeLines(t, path, ls)
	if _, err := Verify([]string{path}, false); err == nil {
		t.Fatal("an edited open record verified")
	}
}

// TestRotationKeepsChain: files rotated by size verify together in any
// order; a missing file breaks the chain.
func TestRotationKeepsChain(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	appendRun(t, path, 200, Options{}, 4096, 0)
	appendRun(t, path, 50, Options{}, 4096, 0)
	files := append(Rotated(path), path)
	if len(files) < 5 {
		t.Fatalf("%d files after rotation", len(files))
	}
	shuffled := append([]string(nil), files...)
	for i := range shuffled {
		j := (i * 7) % len(shuffled)
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	}
	s, err := Verify(shuffled, false)
	if err != nil {
		t.Fatal(err)
	}
	if s.Records != 254 || s.Restarts != 1 {
		t.Fatalf("summary %+v", s)
	}
	for _, f := range files {
		st, _ := os.Stat(f)
		if st.Size() > 4096 {
			t.Errorf("%s has %d bytes", f, st.Size())
		}
	}
	missing := append(append([]string(nil), files[:2]...), files[3:]...)
	if _, err := Verify(missing, false); err == nil || !strings.Contains(err.Error(), "removed, inserted or reordered") {
		t.Fatalf("Verify without a middle file = %v", err)
	}
	// The newest files alone verify, noting that the chain starts later.
	s, err = Verify(files[len(files)-2:], false)
	if err != nil || s.Anchored {
		t.Fatalf("Verify of the last files = %+v, %v", s, err)
	}
}

func TestRotationByAge(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	sink, err := OpenFileSink(path, 0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	sink.rotateFn = func() time.Time { return now }
	w, err := NewWriter(sink, Options{Sync: SyncAlways})
	if err != nil {
		t.Fatal(err)
	}
	w.WaitDurable(w.Submit(&Record{Type: TypeStatement, Time: now}, false))
	now = now.Add(2 * time.Hour)
	w.WaitDurable(w.Submit(&Record{Type: TypeStatement, Time: now}, false))
	w.Close()
	if r := Rotated(path); len(r) != 1 {
		t.Fatalf("rotated files %v", r)
	}
	if _, err := Verify(append(Rotated(path), path), false); err != nil {
		t.Fatal(err)
	}
}

// flakySink fails while broken is set; a failed write leaves nothing.
type flakySink struct {
	mu     sync.Mutex
	broken bool
	data   []byte
	syncs  int
}

func (s *flakySink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken {
		return 0, errors.New("no space left on device")
	}
	s.data = append(s.data, p...)
	return len(p), nil
}

func (s *flakySink) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken {
		return errors.New("no space left on device")
	}
	s.syncs++
	return nil
}

func (s *flakySink) Close() error { return nil }

func (s *flakySink) set(broken bool) {
	s.mu.Lock()
	s.broken = broken
	s.mu.Unlock()
}

// TestFailingSinkRefusesAndLosesNothing: while the sink fails, Healthy
// reports it (statements are refused), queued records wait, and once it
// recovers every record is written in one intact chain.
func TestFailingSinkRefusesAndLosesNothing(t *testing.T) {
	sink := &flakySink{}
	w, err := NewWriter(sink, Options{RetryDelay: 10 * time.Millisecond, SyncInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if w.Healthy() != nil {
		t.Fatal("unhealthy at start")
	}
	sink.set(true)
	w.Submit(&Record{Type: TypeStatement, Time: time.Now(), SQL: "SELECT 1"}, false)
	deadline := time.Now().Add(5 * time.Second)
	for w.Healthy() == nil {
		if time.Now().After(deadline) {
			t.Fatal("a failing sink was not noticed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !errors.Is(w.Healthy(), ErrUnavailable) || !w.Stats().Failing {
		t.Fatalf("Healthy = %v, stats %+v", w.Healthy(), w.Stats())
	}
	for i := 0; i < 5; i++ {
		w.Submit(&Record{Type: TypeStatement, Time: time.Now(), SQL: "SELECT 2"}, false)
	}
	sink.set(false)
	w.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "log")
	os.WriteFile(path, sink.data, 0o600)
	s, err := Verify([]string{path}, false)
	if err != nil {
		t.Fatal(err)
	}
	if s.Records != 8 {
		t.Fatalf("%d records after recovery, want 8", s.Records)
	}
	if st := w.Stats(); st.Failures == 0 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFailingSinkContinue(t *testing.T) {
	sink := &flakySink{}
	w, err := NewWriter(sink, Options{OnFailure: OnFailureContinue, RetryDelay: 10 * time.Millisecond, QueueSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	sink.set(true)
	for i := 0; i < 20; i++ {
		w.WaitDurable(w.Submit(&Record{Type: TypeStatement, Time: time.Now()}, false)) // never blocks
	}
	if w.Healthy() != nil {
		t.Fatal("continue mode refused")
	}
	sink.set(false)
	w.Close()
	if w.Stats().Dropped == 0 {
		t.Fatal("no record counted as dropped")
	}
}

// TestSyncAlways: a record's ticket is durable once WaitDurable returns.
func TestSyncAlways(t *testing.T) {
	sink := &flakySink{}
	w, err := NewWriter(sink, Options{Sync: SyncAlways})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				w.WaitDurable(w.Submit(&Record{Type: TypeStatement, Time: time.Now()}, false))
			}
		}()
	}
	wg.Wait()
	sink.mu.Lock()
	n, syncs := strings.Count(string(sink.data), "\n"), sink.syncs
	sink.mu.Unlock()
	if n != 401 || syncs < 2 {
		t.Fatalf("%d records, %d syncs", n, syncs)
	}
	w.Close()
}

// TestDiskFull writes the log on a tiny tmpfs: a full disk refuses, takes
// back a half-written record, and writing resumes when space returns.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	if err := mountTmpfs(dir, "64k"); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() { unmount(dir) })
	path := filepath.Join(dir, "audit.log")
	sink, err := OpenFileSink(path, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(sink, Options{RetryDelay: 10 * time.Millisecond, Sync: SyncAlways})
	if err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(dir, "filler")
	f, _ := os.Create(filler)
	f.Write(make([]byte, 60<<10))
	f.Close()
	big := strings.Repeat("x", 3000)
	done := make(chan struct{})
	go func() {
		for i := 0; i < 5; i++ {
			w.WaitDurable(w.Submit(&Record{Type: TypeStatement, Time: time.Now(), SQL: big}, false))
		}
		close(done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for w.Healthy() == nil {
		if time.Now().After(deadline) {
			t.Fatal("a full disk was not noticed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Nothing half-written stays while the disk is full.
	if _, err := Verify([]string{path}, true); err != nil {
		t.Fatalf("log during the outage: %v", err)
	}
	os.Remove(filler)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("records were not written after space returned")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Verify([]string{path}, false)
	if err != nil || s.Records != 7 {
		t.Fatalf("after the outage: %+v, %v", s, err)
	}
}

// TestLiveLog: a log pgmantle is writing verifies without its close
// record (the writer holds a lock on the file), and a second writer of
// the same file is refused.
func TestLiveLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	sink, err := OpenFileSink(path, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(sink, Options{Sync: SyncAlways})
	if err != nil {
		t.Fatal(err)
	}
	w.WaitDurable(w.Submit(&Record{Type: TypeStatement, Time: time.Now()}, false))
	if _, err := OpenFileSink(path, 0, 0); err == nil || !strings.Contains(err.Error(), "being written by another process") {
		t.Fatalf("a second writer: %v", err)
	}
	s, err := Verify([]string{path}, false)
	if err != nil || !s.Live || s.Closed || s.Records != 2 {
		t.Fatalf("live log: %+v, %v", s, err)
	}
	w.Close()
	// Stopped, the same log must end with its close record.
	s, err = Verify([]string{path}, false)
	if err != nil || s.Live || !s.Closed {
		t.Fatalf("closed log: %+v, %v", s, err)
	}
	ls := lines(t, path)
	writeLines(t, path, ls[:len(ls)-2])
	if _, err := Verify([]string{path}, false); err == nil {
		t.Fatal("a log whose close record was removed verified")
	}
}
