package proxy

import (
	"sync"
	"time"
)

// reqKind is the kind of client request that expects responses.
type reqKind uint8

const (
	reqQuery             reqKind = iota + 1 // simple Query: results..., ReadyForQuery
	reqFunctionCall                         // FunctionCallResponse, ReadyForQuery
	reqParse                                // ParseComplete
	reqBind                                 // BindComplete
	reqDescribeStatement                    // ParameterDescription, RowDescription or NoData
	reqDescribePortal                       // RowDescription or NoData
	reqExecute                              // rows..., CommandComplete | EmptyQueryResponse | PortalSuspended (or COPY)
	reqCloseStatement                       // CloseComplete
	reqClosePortal                          // CloseComplete
	reqSync                                 // ReadyForQuery
	// reqCopyEnd marks where the client ended COPY FROM STDIN data
	// (CopyDone or CopyFail). It gets no response of its own: it only tells
	// which Syncs PostgreSQL ignores, and is discarded on reaching the head.
	reqCopyEnd
)

var reqKindNames = [...]string{
	reqQuery: "Query", reqFunctionCall: "FunctionCall", reqParse: "Parse", reqBind: "Bind",
	reqDescribeStatement: "Describe(statement)", reqDescribePortal: "Describe(portal)",
	reqExecute: "Execute", reqCloseStatement: "Close(statement)", reqClosePortal: "Close(portal)",
	reqSync: "Sync", reqCopyEnd: "CopyDone/CopyFail",
}

func (k reqKind) String() string {
	if int(k) < len(reqKindNames) && reqKindNames[k] != "" {
		return reqKindNames[k]
	}
	return "unknown"
}

// audited reports whether a statement event can answer this request (its
// time is then taken when it is forwarded).
func (k reqKind) audited() bool {
	switch k {
	case reqQuery, reqFunctionCall, reqParse, reqBind, reqExecute:
		return true
	}
	return false
}

// extended reports whether an error answering this request makes
// PostgreSQL skip the following messages until Sync.
func (k reqKind) extended() bool { return k >= reqParse && k < reqSync }

// request is one entry of the expected-response queue: a client message (or
// one pgmantle injected) that PostgreSQL will answer.
type request struct {
	kind     reqKind
	injected bool   // sent by pgmantle itself: its responses are consumed, not relayed
	name     string // statement or portal name (Parse, Bind, Describe, Execute, Close)
	stmt     string // Bind: the statement bound
	sql      string // Query, Parse
	params   []uint32
	formats  []int16 // Bind: result format codes
	plan     any     // Query, Parse: what the Admitter returned
	// refused: the client's message was replaced by a stand-in PostgreSQL
	// rejects; the error answering it is replaced by this one.
	refused *Error
	// batch: for a Sync, Query or FunctionCall, how many of those the
	// client had sent including this one (Syncer.Synced gets it back).
	batch uint64
	// sent: when the client's message was forwarded (with an Auditor).
	sent time.Time
}

// queue is the FIFO of requests awaiting responses. The client-to-server
// goroutine pushes, in the order it forwards messages; the server-to-client
// goroutine peeks and pops as responses arrive. It is a ring buffer so that
// the steady state allocates nothing.
type queue struct {
	mu       sync.Mutex
	ring     []request
	head     int
	n        int
	skipping bool // PostgreSQL is ignoring messages until the next Sync
	// copyIn: PostgreSQL is in COPY FROM STDIN mode and the client has not
	// ended the data yet; Syncs it sends now are ignored by the server.
	copyIn bool
}

// push appends a request. While PostgreSQL skips messages after an error in
// the extended protocol, every request but Sync is dropped, since it will
// get no response; push reports whether the request was queued.
func (q *queue) push(r request) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.copyIn {
		switch r.kind {
		case reqCopyEnd:
			q.copyIn = false
			return false
		case reqSync:
			// PostgreSQL ignores Sync (and Flush) during COPY FROM STDIN;
			// libpq sends one right after an extended-protocol COPY.
			return false
		}
	}
	if q.skipping {
		if r.kind != reqSync {
			return false
		}
		q.skipping = false
	}
	if q.n == len(q.ring) {
		q.grow()
	}
	q.ring[(q.head+q.n)%len(q.ring)] = r
	q.n++
	return true
}

func (q *queue) grow() {
	size := 2 * len(q.ring)
	if size == 0 {
		size = 16
	}
	ring := make([]request, size)
	for i := 0; i < q.n; i++ {
		ring[i] = q.ring[(q.head+i)%len(q.ring)]
	}
	q.ring, q.head = ring, 0
}

// peek returns the oldest pending request.
func (q *queue) peek() (request, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.n > 0 && q.ring[q.head].kind == reqCopyEnd {
		q.popLocked()
	}
	if q.n == 0 {
		return request{}, false
	}
	return q.ring[q.head], true
}

// pop removes the oldest pending request.
func (q *queue) pop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.popLocked()
}

func (q *queue) popLocked() {
	if q.n == 0 {
		return
	}
	q.ring[q.head] = request{} // drop references
	q.head = (q.head + 1) % len(q.ring)
	q.n--
}

// skipToSync applies PostgreSQL's rule after an error answering an
// extended-protocol message: everything up to the next Sync is ignored.
// It drops those requests and, if no Sync is queued yet, drops the ones
// that arrive until it is.
func (q *queue) skipToSync() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.n > 0 && q.ring[q.head].kind != reqSync {
		q.popLocked()
	}
	if q.n == 0 {
		q.skipping = true
	}
}

// startCopyIn applies PostgreSQL's rule for COPY FROM STDIN, started by
// the request at the head: Syncs the client sends before it ends the COPY
// data get no ReadyForQuery. Those already queued are dropped; if the
// client's CopyDone or CopyFail has not been queued yet, later Syncs are
// dropped by push until it is.
func (q *queue) startCopyIn() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.n > 0 && q.ring[q.head].kind == reqCopyEnd {
		q.popLocked()
	}
	for i := 1; i < q.n; {
		switch q.ring[(q.head+i)%len(q.ring)].kind {
		case reqCopyEnd:
			q.removeLocked(i)
			return
		case reqSync:
			q.removeLocked(i)
		default:
			i++
		}
	}
	q.copyIn = true
}

// endCopyIn is called when PostgreSQL leaves COPY FROM STDIN mode on its
// own (an error): Syncs count again even if the client sends no CopyDone.
func (q *queue) endCopyIn() {
	q.mu.Lock()
	q.copyIn = false
	q.mu.Unlock()
}

// removeLocked removes the i-th pending request (0 is the head).
func (q *queue) removeLocked(i int) {
	for ; i < q.n-1; i++ {
		q.ring[(q.head+i)%len(q.ring)] = q.ring[(q.head+i+1)%len(q.ring)]
	}
	q.ring[(q.head+q.n-1)%len(q.ring)] = request{}
	q.n--
}

// idle reports whether no request is pending and no error is being skipped.
func (q *queue) idle() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n == 0 && !q.skipping && !q.copyIn
}
