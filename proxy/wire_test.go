package proxy

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"testing"
)

// chunkReader returns its data in chunks of random sizes, as a socket does.
type chunkReader struct {
	data []byte
	rng  *rand.Rand
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.data), 1+c.rng.IntN(20000))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// TestMsgReaderFramesAcrossResizes: whatever the chunking of the input,
// the sizes of the messages (up to several times the buffer) and the
// moments the buffer grows and shrinks, every message comes out whole and
// in order, and the end of the stream is a clean io.EOF.
func TestMsgReaderFramesAcrossResizes(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, seed))
		var stream bytes.Buffer
		var want [][]byte
		for i := 0; i < 300; i++ {
			size := rng.IntN(300)
			if rng.IntN(10) == 0 {
				size = rng.IntN(3 * bigBufferSize)
			}
			msg := make([]byte, 5+size)
			msg[0] = byte('A' + i%26)
			binary.BigEndian.PutUint32(msg[1:], uint32(4+size))
			for j := 5; j < len(msg); j++ {
				msg[j] = byte(rng.Uint32())
			}
			want = append(want, msg)
			stream.Write(msg)
		}
		r := newMsgReader(&chunkReader{data: stream.Bytes(), rng: rng}, 0)
		for i, w := range want {
			m, err := r.next()
			if err != nil {
				t.Fatalf("seed %d message %d: %v", seed, i, err)
			}
			if !bytes.Equal(m.raw, w) || m.typ != w[0] || !bytes.Equal(m.body, w[5:]) {
				t.Fatalf("seed %d message %d differs (len %d vs %d)", seed, i, len(m.raw), len(w))
			}
			switch rng.IntN(4) {
			case 0:
				r.grow()
			case 1:
				r.shrink()
			}
		}
		if _, err := r.next(); err != io.EOF {
			t.Fatalf("seed %d: end of stream gave %v, want io.EOF", seed, err)
		}
	}
}

// TestMsgReaderTruncated: a stream cut inside a message is an unexpected EOF.
func TestMsgReaderTruncated(t *testing.T) {
	msg := []byte{'Q', 0, 0, 0, 9, 'a', 'b', 'c', 'd', 0}
	for cut := 1; cut < len(msg); cut++ {
		r := newMsgReader(bytes.NewReader(msg[:cut]), 0)
		if _, err := r.next(); err != io.ErrUnexpectedEOF {
			t.Fatalf("cut at %d: got %v, want io.ErrUnexpectedEOF", cut, err)
		}
	}
}

// dataRow encodes a DataRow message of values (nil: NULL).
func dataRow(values ...[]byte) []byte {
	body := binary.BigEndian.AppendUint16(nil, uint16(len(values)))
	for _, v := range values {
		if v == nil {
			body = binary.BigEndian.AppendUint32(body, 0xFFFFFFFF)
			continue
		}
		body = binary.BigEndian.AppendUint32(body, uint32(len(v)))
		body = append(body, v...)
	}
	msg := []byte{'D'}
	msg = binary.BigEndian.AppendUint32(msg, uint32(4+len(body)))
	return append(msg, body...)
}

// TestPeekDataRows: after a message, peekDataRows sees the whole DataRows
// buffered behind it, up to the first other or incomplete message and at
// most max, without consuming them: next still returns each in turn; and
// appendRowValues decodes their values (NULLs as nil) and refuses a
// malformed body.
func TestPeekDataRows(t *testing.T) {
	var stream []byte
	stream = append(stream, dataRow([]byte("110101199003078515"), nil)...)
	stream = append(stream, dataRow([]byte("310105199003078032"), []byte("x"))...)
	stream = append(stream, dataRow(nil, []byte("y"))...)
	stream = append(stream, 'C', 0, 0, 0, 13)
	stream = append(stream, []byte("SELECT 3\x00")...)
	stream = append(stream, dataRow([]byte("after the CommandComplete"))...)
	partial := dataRow([]byte("incomplete"))
	r := newMsgReader(bytes.NewReader(append(stream, partial[:8]...)), 0)
	first, err := r.next()
	if err != nil || first.typ != 'D' {
		t.Fatalf("first message: %v %q", err, first.typ)
	}
	if err := r.fill(len(stream) - len(first.raw)); err != nil {
		t.Fatal(err)
	}
	bodies := r.peekDataRows(nil, 10)
	if len(bodies) != 2 {
		t.Fatalf("peeked %d DataRows, want the 2 before the CommandComplete", len(bodies))
	}
	if got := r.peekDataRows(nil, 1); len(got) != 1 {
		t.Errorf("max 1: peeked %d", len(got))
	}
	var vals [][]byte
	var ok bool
	for _, b := range bodies {
		if vals, ok = appendRowValues(vals, b); !ok {
			t.Fatalf("appendRowValues refused %q", b)
		}
	}
	if len(vals) != 4 || string(vals[0]) != "310105199003078032" || string(vals[1]) != "x" || vals[2] != nil || string(vals[3]) != "y" {
		t.Errorf("values %q", vals)
	}
	for _, bad := range [][]byte{{0}, {0, 2, 0, 0, 0, 1, 'a'}, {0, 1, 0, 0, 0, 5, 'a'}, append(dataRow([]byte("a"))[5:], 'z')} {
		if _, ok := appendRowValues(nil, bad); ok {
			t.Errorf("appendRowValues accepted the malformed body %q", bad)
		}
	}
	for i, want := range []byte{'D', 'D', 'C', 'D'} {
		m, err := r.next()
		if err != nil || m.typ != want {
			t.Fatalf("message %d after the peeks: %v %q, want %q", i+2, err, m.typ, want)
		}
	}
	if got := r.peekDataRows(nil, 10); len(got) != 0 {
		t.Errorf("an incomplete DataRow was peeked")
	}
}
