package audit

import (
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Record types.
const (
	TypeOpen         = "open"          // the writer started (first record of a run)
	TypeClose        = "close"         // the writer stopped cleanly
	TypeSessionStart = "session_start" // a login succeeded
	TypeSessionEnd   = "session_end"   // a session ended
	TypeLoginFailed  = "login_failed"  // PostgreSQL refused a login
	TypeStatement    = "statement"     // one client statement
)

// Decisions of a statement record.
const (
	DecisionAllowed   = "allowed"   // ran; nothing in its result was protected for the role
	DecisionMasked    = "masked"    // ran; protected columns were masked (or hashed)
	DecisionTokenized = "tokenized" // ran; protected columns were tokenized
	DecisionRefused   = "refused"   // pgmantle refused it; it never ran
	DecisionFailed    = "failed"    // PostgreSQL reported an error
)

// Record is one audit record. The writer fills Seq (and the prev hash);
// everything else comes from the proxy. No field may hold a value from a
// statement or a result: SQL is normalized, Reason is a vetted message.
type Record struct {
	Seq  uint64
	Time time.Time
	Type string

	// SessionJSON, when set, is SessionFragment of the session fields
	// below, rendered once per session; they are then not rendered again.
	SessionJSON []byte
	// Text, when set, supplies SQL, Fingerprint and SQLHash, rendered once
	// per statement text.
	Text *Statement

	Session         uint64
	Client          string
	Role            string // the login role
	EffectiveRole   string
	Database        string
	ApplicationName string

	Kind        string // SELECT, INSERT, COPY, ... ("" if unknown)
	Protocol    string // simple, extended, function
	SQL         string // normalized
	Fingerprint string // pg_query fingerprint, hex
	SQLHash     string // for text pg_query cannot parse: SHA-256 of it (SQL then holds a redacted form)
	Tables      []string
	Columns     []string // protected columns touched (schema.table.column)
	Classes     []string // classes of personal data touched
	Decision    string
	Reason      string
	Masks       []string // class:action applied to the result
	Rows        int64
	Bytes       int64
	Duration    time.Duration
	SQLState    string
	PolicyGen   uint64

	// Open records: how the previous run ended, and how this run chains
	// (Chain "" is SHA-256; ChainHMAC with the audit key of KeyVersion).
	Recovered      bool  // the previous run ended without a close record
	TruncatedBytes int64 // an incomplete record cut from the end of the log
	Chain          string
	KeyVersion     int
	// Close records: records written in this run.
	Count uint64
}

// records recycles Records: the Writer puts back those it has written.
var records = sync.Pool{New: func() any { return new(Record) }}

// NewRecord returns a Record to fill and Submit (from a pool: a Record
// must not be used after Submit).
func NewRecord() *Record { return records.Get().(*Record) }

// SessionFragment renders a session's fields for Record.SessionJSON.
func SessionFragment(session uint64, client, role, effectiveRole, database, applicationName string) []byte {
	r := Record{Session: session, Client: client, Role: role, EffectiveRole: effectiveRole, Database: database,
		ApplicationName: applicationName}
	return r.appendSession(nil)
}

func (r *Record) appendSession(b []byte) []byte {
	b = optUint(b, "session", r.Session)
	b = optString(b, "client", r.Client)
	b = optString(b, "role", r.Role)
	b = optString(b, "effective_role", r.EffectiveRole)
	b = optString(b, "database", r.Database)
	return optString(b, "application_name", r.ApplicationName)
}

// appendText renders the fields of a statement's text.
func appendText(b []byte, sql, fingerprint, hash string) []byte {
	b = optString(b, "sql", sql)
	b = optString(b, "fingerprint", fingerprint)
	return optString(b, "sql_hash", hash)
}

// appendJSON appends r as one JSON object (no newline) after the hash of
// the previous record. Fields at their zero value are left out, except
// seq, prev, time and type.
func (r *Record) appendJSON(b []byte, prev *hexDigest) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, r.Seq, 10)
	b = append(b, `,"prev":"`...)
	b = append(b, prev[:]...)
	b = append(b, `","time":"`...)
	b = appendTime(b, r.Time)
	b = append(b, `","type":`...)
	b = appendString(b, r.Type)
	if r.SessionJSON != nil {
		b = append(b, r.SessionJSON...)
	} else {
		b = r.appendSession(b)
	}
	b = optString(b, "kind", r.Kind)
	b = optString(b, "protocol", r.Protocol)
	if r.Text != nil {
		b = append(b, r.Text.fragment...)
	} else {
		b = appendText(b, r.SQL, r.Fingerprint, r.SQLHash)
	}
	b = optList(b, "tables", r.Tables)
	b = optList(b, "columns", r.Columns)
	b = optList(b, "classes", r.Classes)
	b = optString(b, "decision", r.Decision)
	b = optString(b, "reason", r.Reason)
	b = optList(b, "masks", r.Masks)
	if r.Type == TypeStatement {
		b = append(b, `,"rows":`...)
		b = strconv.AppendInt(b, r.Rows, 10)
		b = append(b, `,"bytes":`...)
		b = strconv.AppendInt(b, r.Bytes, 10)
		b = append(b, `,"duration_us":`...)
		b = strconv.AppendInt(b, r.Duration.Microseconds(), 10)
	}
	b = optString(b, "sqlstate", r.SQLState)
	b = optUint(b, "policy_generation", r.PolicyGen)
	if r.Recovered {
		b = append(b, `,"recovered":true`...)
	}
	if r.TruncatedBytes > 0 {
		b = append(b, `,"truncated_bytes":`...)
		b = strconv.AppendInt(b, r.TruncatedBytes, 10)
	}
	b = optString(b, "chain", r.Chain)
	b = optUint(b, "key_version", uint64(r.KeyVersion))
	if r.Type == TypeClose {
		b = append(b, `,"count":`...)
		b = strconv.AppendUint(b, r.Count, 10)
	}
	return append(b, '}')
}

// appendTime renders t in UTC as 2006-01-02T15:04:05.000000Z.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, min, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/1000, 6)
	return append(b, 'Z')
}

// appendDigits appends v (non-negative) zero-padded to width digits.
func appendDigits(b []byte, v, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v > 0 || i > len(buf)-width {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, buf[i:]...)
}

func optString(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func optUint(b []byte, key string, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return strconv.AppendUint(b, v, 10)
}

func optList(b []byte, key string, v []string) []byte {
	if len(v) == 0 {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, `":[`...)
	for i, s := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\t':
				b = append(b, '\\', 't')
			case '\r':
				b = append(b, '\\', 'r')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
