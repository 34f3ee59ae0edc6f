package proxy

import (
	"bufio"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// repeatReader yields the same bytes forever.
type repeatReader struct {
	b   []byte
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.b[r.off:])
		n += c
		r.off = (r.off + c) % len(r.b)
	}
	return n, nil
}

// dataRowSession is a session in the middle of a result set whose
// upstream sends DataRows forever and whose client discards its input.
func dataRowSession(tb testing.TB, ic Interceptor) *session {
	row, err := (&pgproto3.DataRow{Values: [][]byte{
		[]byte("42"), []byte("110101199003074519"), []byte("张伟"), nil, []byte("2026-11-27 10:00:00+08"),
	}}).Encode(nil)
	if err != nil {
		tb.Fatal(err)
	}
	ss := &session{reg: newRegistry(), ic: ic,
		sr: newMsgReader(&repeatReader{b: row}, 0),
		cw: bufio.NewWriterSize(io.Discard, writeBufferSize)}
	ss.q.push(request{kind: reqQuery, sql: "SELECT ..."})
	if ic != nil {
		if err := ss.startResult(&ResultSet{SQL: "SELECT ...", Fields: make([]pgproto3.FieldDescription, 5)}); err != nil {
			tb.Fatal(err)
		}
	} else {
		ss.res.active = true
	}
	return ss
}

// relayOne relays the next server message.
func relayOne(tb testing.TB, ss *session) {
	m, err := ss.sr.next()
	if err != nil {
		tb.Fatal(err)
	}
	if err := ss.relayServerMessage(m); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkRelayDataRow measures the server-to-client hot path per DataRow:
// raw relay (no interceptor) and decode-rewrite-encode (with one).
func BenchmarkRelayDataRow(b *testing.B) {
	for _, c := range []struct {
		name string
		ic   Interceptor
	}{{"raw", nil}, {"rewrite", blank{}}} {
		b.Run(c.name, func(b *testing.B) {
			ss := dataRowSession(b, c.ic)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				relayOne(b, ss)
			}
		})
	}
}

// TestDataRowRelayAllocatesNothing pins the steady state of the hot path:
// relaying a DataRow, raw or rewritten, allocates nothing.
func TestDataRowRelayAllocatesNothing(t *testing.T) {
	for _, ic := range []Interceptor{nil, blank{}} {
		ss := dataRowSession(t, ic)
		relayOne(t, ss) // warm up buffers
		if n := testing.AllocsPerRun(1000, func() { relayOne(t, ss) }); n != 0 {
			t.Errorf("interceptor %T: %.1f allocations per DataRow, want 0", ic, n)
		}
	}
}
