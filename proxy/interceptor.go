package proxy

import (
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Interceptor is the extension point through which later stages (result
// masking) see and rewrite what a session returns to its client. A nil
// Interceptor means the fast path: rows are relayed as raw bytes and
// RowDescriptions are not even decoded.
//
// Methods are called from the session's server-to-client goroutine only,
// one call at a time, in protocol order.
type Interceptor interface {
	// Result is called when a result set starts, with its columns and the
	// request it answers. It returns the rewriter for the set's rows, or
	// nil to relay them unchanged. An error ends the session with an
	// ErrorResponse (fail closed): no row of the set reaches the client.
	Result(rs *ResultSet) (RowRewriter, error)
}

// RowRewriter rewrites the rows of one result set.
type RowRewriter interface {
	// RewriteRow replaces values in place; a replaced value may point into
	// memory the rewriter owns and reuses, since the row is encoded and
	// written before the next call. An error ends the session (fail
	// closed); the row is not sent.
	RewriteRow(values [][]byte) error
}

// RowPrefetcher is an optional interface of a RowRewriter. When
// Prefetches reports true, the relay gives PrefetchRows, before it
// rewrites a row, that row's values and those of the DataRows already
// received after it (at most MaxPrefetchRows rows; NULL as nil), and then
// rewrites the rows it gave one by one without calling PrefetchRows
// again: the rewriter can prepare values several at a time (tokens
// computed in lockstep). PrefetchRows must not change the values nor
// keep references to them after it returns (copies, to check the rows
// it is then given, it clears once used).
type RowPrefetcher interface {
	Prefetches() bool
	PrefetchRows(rows [][][]byte)
}

// MaxPrefetchRows is the most rows one PrefetchRows call is given.
const MaxPrefetchRows = 64

// ResultSet describes one result set as it starts.
type ResultSet struct {
	// Sent is when the client's Query or Execute the rows answer was sent
	// to PostgreSQL (zero when unknown).
	Sent time.Time
	// SQL is the text of the simple Query or of the prepared statement the
	// rows come from. A simple Query with several statements yields one
	// ResultSet per statement that returns rows, each with the whole text.
	SQL string
	// Index is, for a simple Query, the position of the statement (from 0)
	// among the Query's statements; 0 for the extended protocol.
	Index int
	// Plan is what the Admitter returned when it admitted the SQL; nil if
	// there is no Admitter or the SQL a name stands for may have changed.
	Plan any
	// Statement and Portal are set for the extended protocol.
	Statement *PreparedStatement
	Portal    *Portal
	// Fields are the result columns with the format codes in effect; nil
	// for COPY.
	Fields []pgproto3.FieldDescription
	// Copy marks COPY TO STDOUT data: each CopyData message is passed to
	// the rewriter as a single value.
	Copy bool
	// ClientEncoding is the session's client_encoding as PostgreSQL last
	// reported it: text values arrive in it.
	ClientEncoding string
}

// ErrorScrubber is an optional interface of an Interceptor. When present,
// every ErrorResponse and NoticeResponse of the session is decoded and
// passed to ScrubError before it is relayed, so fields that can echo row
// values (a Detail such as "Failing row contains (...)" or
// "Key (...)=(...)", or a data exception quoting its input) can be removed.
type ErrorScrubber interface {
	ScrubError(e *pgproto3.ErrorResponse)
}

// Predescriber is an optional interface of an Interceptor, for simple
// Queries whose result columns it must know although PostgreSQL sends no
// RowDescription for them (COPY (query) TO STDOUT). Predescribe returns the
// query whose columns it needs; pgmantle then sends Parse, Describe and
// Sync of that query ahead of the client's Query (nothing is executed),
// consumes the answers, and passes the columns as ResultSet.Fields of the
// COPY. If the query cannot be described, Fields stays nil.
//
// Predescribe is called on the session's client-to-server goroutine,
// possibly while other methods run: it must depend on sql alone.
type Predescriber interface {
	Predescribe(sql string) (query string, ok bool)
}

// AsyncScrubber is an optional interface of an Interceptor: messages the
// server sends on its own — NOTIFY payloads and ParameterStatus values,
// both of which a session can fill with any text — pass through it before
// they are relayed. pgmantle itself keeps the real ParameterStatus values.
type AsyncScrubber interface {
	ScrubNotification(n *pgproto3.NotificationResponse)
	ScrubParameterStatus(p *pgproto3.ParameterStatus)
}

// Admitter is an optional interface of an Interceptor: every SQL text the
// client sends (a simple Query, or the query of a Parse) is passed to Admit
// before it is forwarded, and so are every Bind (with the statement's
// name) and FunctionCall.
//
// Admit returns a plan, which pgmantle keeps with the request and hands
// back in ResultSet.Plan, or an error. An *Error of severity ERROR refuses
// the message alone: PostgreSQL receives a stand-in it rejects before
// running anything, and the client gets the *Error in place of
// PostgreSQL's answer, so the session, the transaction (now failed) and
// the extended protocol's skip-until-Sync behave exactly as for any
// failed statement. Any other error ends the session.
//
// Admit is called on the session's client-to-server goroutine, possibly
// while other methods run. The Admission is reused for the next message:
// Admit must not keep it.
type Admitter interface {
	Admit(a *Admission) (plan any, err error)
}

// Admission is a client message Admit decides on.
type Admission struct {
	SQL string
	// Name is the statement name of a Parse or a Bind ("" for the unnamed
	// statement); Portal the portal a Bind creates.
	Name   string
	Portal string
	// Simple: a simple Query (else a Parse, a Bind or a FunctionCall).
	Simple       bool
	Bind         bool
	FunctionCall bool
	// Idle: nothing the client sent before is still in flight and no
	// transaction block is open, so a simple Query runs on its own.
	Idle bool
	// Param returns the session's run-time parameters as PostgreSQL last
	// reported them (client_encoding, standard_conforming_strings, ...).
	Param func(name string) string
	// ParamOIDs are a Parse's parameter types.
	ParamOIDs []uint32
	// Batch counts the Sync, Query and FunctionCall messages the client
	// sent before this one: messages with equal Batch end at the same
	// ReadyForQuery (see Syncer).
	Batch uint64
	// Body is a Bind's message body (valid during Admit only).
	Body []byte

	// Replace, set by Admit, is the message to send to PostgreSQL instead
	// of the client's (a whole encoded frontend message): a Query, Parse or
	// Bind whose literals or parameters pgmantle rewrote. The client's
	// request is answered as usual; nil sends the client's message.
	Replace []byte
}

// Completer is an optional interface of an Interceptor, told what
// PostgreSQL confirmed: a statement complete (CommandComplete, with the
// plan Admit returned for its text and, for a simple Query, the
// statement's position), a named or unnamed statement prepared
// (ParseComplete) or closed (CloseComplete). Its methods run on the
// server-to-client goroutine.
type Completer interface {
	StatementCompleted(plan any, index int)
	StatementParsed(name string, plan any)
	StatementClosed(name string)
}

// SessionProbe is what PostgreSQL reports at login, as it sent it (in the
// session's client encoding).
type SessionProbe struct {
	SearchPath, CurrentUser, SessionUser string
	// PlannerOff lists the enable_* settings the startup packet turned
	// off and the planner cost settings it set, comma-separated ("" for
	// none).
	PlannerOff     string
	ClientEncoding string
	// DateStyle is the session's DateStyle as PostgreSQL reported it
	// (ParameterStatus), e.g. "ISO, MDY".
	DateStyle string
}

// Syncer is an optional interface of an Interceptor, told of each
// ReadyForQuery that answers the client's Sync, Query or FunctionCall.
// batch is that message's count (Admission.Batch of the messages it ends,
// plus one). A Parse of an earlier batch that PostgreSQL did not confirm
// with ParseComplete by then failed or was skipped after an error. It runs
// on the server-to-client goroutine, after the Completer calls of the
// responses before it.
type Syncer interface {
	Synced(batch uint64)
}

// SessionProber is an optional interface of an Interceptor: when the login
// completes, before the client's first statement, pgmantle asks PostgreSQL
// for the session's search_path, current_user and session_user (startup
// parameters can set them: search_path=..., role=..., options=-c ...) and
// passes them to ProbeSession. If they cannot be read, or ProbeSession
// returns an error, the session ends with that error.
type SessionProber interface {
	// ProbeSession gets the values as PostgreSQL sent them, in the
	// session's client encoding.
	ProbeSession(p SessionProbe) error
}
