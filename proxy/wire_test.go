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
