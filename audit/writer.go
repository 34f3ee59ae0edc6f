package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Sync modes.
const (
	SyncAlways   = "always"   // records are synced before the statement's answer is released
	SyncInterval = "interval" // records are synced every SyncInterval
)

// Failure policies.
const (
	OnFailureRefuse   = "refuse"   // statements are refused while the sink cannot be written
	OnFailureContinue = "continue" // statements go on; the failure is logged loudly
)

// Options configure a Writer. Zero values take the defaults.
type Options struct {
	Sync         string        // SyncAlways or SyncInterval (default)
	SyncInterval time.Duration // default 1s
	OnFailure    string        // OnFailureRefuse (default) or OnFailureContinue
	QueueSize    int           // records waiting to be written; default 8192
	// FlushDelay is, under SyncInterval, how long records may wait in the
	// queue before they are written, so that one write carries many
	// (default 10ms). Under SyncAlways records are written at once.
	FlushDelay time.Duration
	RetryDelay time.Duration // between attempts on a failing sink; default 1s
	// ChainKey, if set, chains records with HMAC-SHA256 under this key
	// (the audit key of version ChainKeyVersion) instead of SHA-256.
	ChainKey        []byte
	ChainKeyVersion int
	Logger          *slog.Logger
}

var newline = []byte{'\n'}

// ErrUnavailable is returned by Writer.Healthy while records cannot be
// written and the failure policy is refuse.
var ErrUnavailable = errors.New("the audit log cannot be written")

// Writer queues records and writes them, chained, from one goroutine.
type Writer struct {
	opts Options
	sink Sink
	log  *slog.Logger

	mu       sync.Mutex
	changed  *sync.Cond // queue, progress or failure changed
	queue    []*Record
	spare    []*Record
	tickets  uint64      // records submitted
	written  uint64      // records written to the sink
	synced   uint64      // records synced
	failure  error       // the sink's last error while it fails
	refusing atomic.Bool // failure != nil under OnFailureRefuse (read without the lock)
	closing  bool
	ticks    uint64 // FlushDelay periods elapsed (SyncInterval)
	// An idle writer's ticker sleeps (nothing queued, being written or
	// waiting for a sync), so an idle proxy is not woken 100 times a
	// second; the next Submit wakes it.
	sleeping bool
	wake     chan struct{}
	inFlight int // records taken from the queue and not yet written
	done     chan struct{}
	dropped  uint64
	failures uint64

	// writer goroutine only
	seq      uint64
	prev     hexDigest
	anchored time.Time // when the chain head was last logged
	buf      []byte
	chain    *chainer
}

// Stats is a Writer's state for metrics.
type Stats struct {
	Queued   int
	Written  uint64
	Dropped  uint64 // records lost because the sink failed under OnFailureContinue
	Failures uint64 // failed write or sync attempts
	Failing  bool
}

// NewWriter recovers the chain from sink (if it keeps earlier records),
// writes the open record and starts writing.
func NewWriter(sink Sink, opts Options) (*Writer, error) {
	if opts.Sync == "" {
		opts.Sync = SyncInterval
	}
	if opts.SyncInterval <= 0 {
		opts.SyncInterval = time.Second
	}
	if opts.OnFailure == "" {
		opts.OnFailure = OnFailureRefuse
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 8192
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = time.Second
	}
	if opts.FlushDelay <= 0 {
		opts.FlushDelay = 10 * time.Millisecond
	}
	w := &Writer{opts: opts, sink: sink, log: opts.Logger, done: make(chan struct{}), wake: make(chan struct{}, 1), chain: newChainer(opts.ChainKey)}
	copy(w.prev[:], genesis)
	if w.log == nil {
		w.log = slog.Default()
	}
	w.changed = sync.NewCond(&w.mu)
	open := &Record{Time: time.Now(), Type: TypeOpen}
	if opts.ChainKey != nil {
		open.Chain, open.KeyVersion = ChainHMAC, opts.ChainKeyVersion
	}
	if rc, ok := sink.(Recoverer); ok {
		last, truncated, err := rc.Recover()
		if err != nil {
			return nil, err
		}
		if last != nil {
			var tail struct {
				Seq  uint64 `json:"seq"`
				Type string `json:"type"`
			}
			if err := json.Unmarshal(last, &tail); err != nil || tail.Seq == 0 {
				return nil, fmt.Errorf("the last record of the audit log is not a pgmantle record; move the file aside to start a new chain")
			}
			w.seq = tail.Seq
			w.chain.linkTo(&w.prev, last) // the open record declares this run's chain
			open.Recovered = tail.Type != TypeClose
		}
		open.TruncatedBytes = truncated
		if truncated > 0 {
			w.log.Warn("audit log: an incomplete record was cut from the end of the log (the previous run was interrupted while writing)", "bytes", truncated)
		}
	}
	// The open record is written before anything else, synchronously: a
	// sink that cannot be written fails the start.
	w.buf = w.encode(w.buf[:0], open)
	if _, err := sink.Write(w.buf); err != nil {
		return nil, fmt.Errorf("write the audit log: %w", err)
	}
	if err := sink.Sync(); err != nil {
		return nil, fmt.Errorf("sync the audit log: %w", err)
	}
	go w.run()
	return w, nil
}

// encode appends rec, chained, to b and advances a tentative chain
// (commit or rollback make it final).
func (w *Writer) encode(b []byte, rec *Record) []byte {
	rec.Seq = w.seq + 1
	start := len(b)
	b = rec.appendJSON(b, &w.prev)
	w.seq = rec.Seq
	w.chain.linkTo(&w.prev, b[start:])
	return append(b, '\n')
}

// Submit queues a record and returns its ticket for WaitDurable. It
// blocks while the queue is full (backpressure), except that with a
// failing sink a droppable record (a refusal, which served nothing) is
// dropped, and under OnFailureContinue every record is.
func (w *Writer) Submit(rec *Record, droppable bool) uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.queue) >= w.opts.QueueSize && !w.closing {
		if w.failure != nil && (droppable || w.opts.OnFailure == OnFailureContinue) {
			w.dropped++
			return w.tickets
		}
		w.changed.Wait()
	}
	if w.closing {
		w.dropped++
		return w.tickets
	}
	w.queue = append(w.queue, rec)
	w.tickets++
	if w.sleeping {
		w.sleeping = false
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	if (len(w.queue) == 1 && w.opts.Sync == SyncAlways) || len(w.queue) == w.opts.QueueSize/2 {
		w.changed.Broadcast()
	}
	return w.tickets
}

// WaitDurable blocks, under SyncAlways, until the record with the ticket
// is synced; under OnFailureRefuse it waits through a sink failure (the
// statement's answer is held until its record is safe), under
// OnFailureContinue it gives up then. Under SyncInterval it returns at
// once: records are written within FlushDelay and synced within
// SyncInterval.
func (w *Writer) WaitDurable(ticket uint64) {
	if w.opts.Sync != SyncAlways {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for !w.closing {
		if w.synced >= ticket || (w.failure != nil && w.opts.OnFailure == OnFailureContinue) {
			return
		}
		w.changed.Wait()
	}
}

// Healthy returns nil while records can be written, or an error wrapping
// ErrUnavailable while the sink fails under OnFailureRefuse.
func (w *Writer) Healthy() error {
	if w.refusing.Load() {
		return ErrUnavailable
	}
	return nil
}

// Stats reports the writer's state.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return Stats{Queued: len(w.queue), Written: w.written, Dropped: w.dropped, Failures: w.failures, Failing: w.failure != nil}
}

// run writes queued records until Close.
func (w *Writer) run() {
	defer close(w.done)
	stopTick := make(chan struct{})
	defer close(stopTick)
	if w.opts.Sync == SyncInterval {
		ticker := time.NewTicker(w.opts.FlushDelay)
		go func() {
			defer ticker.Stop()
			for {
				select {
				case <-ticker.C:
					w.mu.Lock()
					w.ticks++
					w.changed.Broadcast()
					idle := len(w.queue) == 0 && w.inFlight == 0 && w.written == w.synced && w.failure == nil && !w.closing
					w.sleeping = idle
					w.mu.Unlock()
					if !idle {
						continue
					}
					ticker.Stop()
					select {
					case <-w.wake:
						ticker.Reset(w.opts.FlushDelay)
					case <-stopTick:
						return
					}
				case <-stopTick:
					return
				}
			}
		}()
	}
	lastSync := time.Now()
	var seen uint64
	for {
		w.mu.Lock()
		for !w.closing {
			ticked := w.ticks != seen
			if len(w.queue) > 0 && (w.opts.Sync == SyncAlways || ticked || len(w.queue) >= w.opts.QueueSize/2) {
				break
			}
			if ticked && w.written > w.synced && time.Since(lastSync) >= w.opts.SyncInterval {
				break
			}
			seen = w.ticks
			w.changed.Wait()
		}
		seen = w.ticks
		batch := w.queue
		w.queue, w.spare = w.spare[:0], nil
		w.inFlight = len(batch)
		closing := w.closing
		w.mu.Unlock()

		if len(batch) > 0 {
			w.writeBatch(batch)
		}
		w.mu.Lock()
		w.inFlight = 0
		if w.spare == nil {
			clear(batch)
			w.spare = batch[:0]
		}
		needSync := w.written > w.synced && (w.opts.Sync == SyncAlways || time.Since(lastSync) >= w.opts.SyncInterval || closing)
		w.mu.Unlock()
		if needSync {
			w.sync()
			lastSync = time.Now()
		}
		if closing {
			w.mu.Lock()
			empty := len(w.queue) == 0
			w.mu.Unlock()
			if empty || w.Healthy() != nil {
				return
			}
		}
	}
}

// writeBatch writes records until they are all in the sink, retrying a
// failing sink with the same chain.
func (w *Writer) writeBatch(batch []*Record) {
	seq, prev := w.seq, w.prev
	w.buf = w.buf[:0]
	for _, rec := range batch {
		w.buf = w.encode(w.buf, rec)
		*rec = Record{}
		records.Put(rec)
	}
	rest := w.buf
	for {
		// Once closing, one more attempt is made, then the records are
		// given up.
		w.mu.Lock()
		closing := w.closing
		w.mu.Unlock()
		n, err := w.sink.Write(rest)
		if n > 0 {
			records := uint64(bytes.Count(rest[:n], newline))
			w.progress(func() { w.written += records })
			rest = rest[n:]
		}
		if err == nil {
			if len(w.buf) > 16<<20 {
				w.buf = nil
			}
			if time.Since(w.anchored) >= anchorEvery {
				w.logHead()
			}
			return
		}
		w.fail(err)
		if closing {
			// Give up: the chain goes on from the last record written.
			lost := bytes.Count(rest, newline)
			if written := w.buf[:len(w.buf)-len(rest)]; len(written) > 0 {
				i := bytes.LastIndexByte(written[:len(written)-1], '\n')
				w.seq = seq + uint64(len(batch)-lost)
				w.chain.linkTo(&w.prev, written[i+1:len(written)-1])
			} else {
				w.seq, w.prev = seq, prev
			}
			w.mu.Lock()
			w.dropped += uint64(lost)
			w.mu.Unlock()
			return
		}
		time.Sleep(w.opts.RetryDelay)
	}
}

func (w *Writer) sync() {
	w.mu.Lock()
	target := w.written
	w.mu.Unlock()
	for {
		w.mu.Lock()
		closing := w.closing
		w.mu.Unlock()
		err := w.sink.Sync()
		if err == nil {
			w.progress(func() { w.synced = target })
			return
		}
		w.fail(err)
		if closing {
			return
		}
		time.Sleep(w.opts.RetryDelay)
	}
}

// anchorEvery is how often the writer logs the chain head while it
// writes.
const anchorEvery = time.Minute

// logHead logs the chain head — the newest record written and its chain
// hash — to pgmantle's own log, which is kept apart from the audit log:
// an anchor for `pgmantle audit verify --head`, which then catches records
// cut from the log's end even where the cut leaves a clean-looking end (an
// earlier run's close record, or a restart that looks like a crash).
func (w *Writer) logHead() {
	w.anchored = time.Now()
	w.log.Info("audit chain head", "seq", w.seq, "hash", string(w.prev[:]))
}

// progress applies a change of the writer's counters and clears a failure.
func (w *Writer) progress(f func()) {
	w.mu.Lock()
	f()
	recovered := w.failure != nil
	w.failure = nil
	w.refusing.Store(false)
	w.changed.Broadcast()
	w.mu.Unlock()
	if recovered {
		w.log.Warn("audit log: writing again; statements are served again")
	}
}

// fail records a sink failure; the first of a run is logged loudly.
func (w *Writer) fail(err error) {
	w.mu.Lock()
	first := w.failure == nil
	w.failure = err
	w.refusing.Store(w.opts.OnFailure == OnFailureRefuse)
	w.failures++
	w.changed.Broadcast()
	w.mu.Unlock()
	if first {
		if w.opts.OnFailure == OnFailureRefuse {
			w.log.Error("AUDIT LOG CANNOT BE WRITTEN: statements are refused until it can", "error", err)
		} else {
			w.log.Error("AUDIT LOG CANNOT BE WRITTEN: statements go on UNAUDITED (audit.on_failure: continue)", "error", err)
		}
	}
}

// Close writes what is queued (unless the sink fails), then the close
// record, and closes the sink.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closing {
		w.mu.Unlock()
		<-w.done
		return nil
	}
	w.closing = true
	w.changed.Broadcast()
	w.mu.Unlock()
	<-w.done
	w.mu.Lock()
	failed := w.failure
	count := w.written
	lost := len(w.queue) + int(w.dropped)
	w.mu.Unlock()
	if failed != nil {
		w.sink.Close()
		return fmt.Errorf("audit log: %d records were not written: %w", lost, failed)
	}
	w.buf = w.encode(w.buf[:0], &Record{Time: time.Now(), Type: TypeClose, Count: count})
	_, err := w.sink.Write(w.buf)
	if err == nil {
		err = w.sink.Sync()
	}
	if err == nil {
		w.logHead()
	}
	if cerr := w.sink.Close(); err == nil {
		err = cerr
	}
	return err
}
