package proxy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Buffer sizes. Idle sessions use small buffers, matching PostgreSQL's own
// 8 kB socket buffers (PQ_SEND_BUFFER_SIZE), so that thousands of idle
// sessions stay cheap. A session streaming a large result switches the
// server-to-client direction to large buffers from a pool — on this kind
// of machine each system call is expensive, and 64 kB reads and writes
// move a large scan with an eighth of them — and gives them back at the
// next ReadyForQuery.
const (
	readBufferSize  = 8 << 10
	writeBufferSize = 8 << 10
	bigBufferSize   = 64 << 10
	// bigBufferKeep is the largest oversize-message buffer kept between
	// messages; a larger one is dropped so a single huge row does not pin
	// memory for the rest of the session.
	bigBufferKeep = 1 << 20
)

// bigReadBuffers pools the large read buffers of streaming sessions.
var bigReadBuffers = sync.Pool{New: func() any { b := make([]byte, bigBufferSize); return &b }}

// message is one framed protocol message. raw is the whole message (type
// byte, length, body) and body is raw[5:]. Both alias the reader's buffer:
// like pgproto3's decoded messages they are valid only until the next call
// to next. Transform and forward before reading again; copy what must be kept.
type message struct {
	typ  byte
	raw  []byte
	body []byte
}

// errMessageTooLarge is returned when a message body exceeds the reader's limit.
type errMessageTooLarge struct{ size, limit int }

func (e *errMessageTooLarge) Error() string {
	return fmt.Sprintf("message of %d bytes exceeds the limit of %d bytes", e.size, e.limit)
}

var errMalformedLength = errors.New("malformed message length")

// msgReader reads typed protocol messages (everything after startup) with
// zero copies when a message fits the read buffer. The buffered bytes are
// buf[r:w]; the message last returned is buf[r:r+pending].
type msgReader struct {
	rd      io.Reader
	buf     []byte
	r, w    int
	pending int
	pooled  *[]byte // buf came from bigReadBuffers
	small   []byte  // the small buffer, kept while a pooled one is in use
	big     []byte  // holds messages larger than buf
	maxBody int     // 0 means unlimited
}

func newMsgReader(rd io.Reader, maxBody int) *msgReader {
	return &msgReader{rd: rd, buf: make([]byte, readBufferSize), maxBody: maxBody}
}

// fill reads until at least need bytes are buffered (need <= len(buf)).
func (r *msgReader) fill(need int) error {
	if r.w-r.r >= need {
		return nil
	}
	if r.r > 0 && len(r.buf)-r.r < need {
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	}
	for r.w-r.r < need {
		n, err := r.rd.Read(r.buf[r.w:])
		r.w += n
		if err != nil {
			if r.w-r.r >= need {
				return nil
			}
			if errors.Is(err, io.EOF) && r.w > r.r {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// next returns the next message. It returns io.EOF on a clean end of stream
// between messages and io.ErrUnexpectedEOF inside one.
func (r *msgReader) next() (message, error) {
	r.r += r.pending
	r.pending = 0
	if cap(r.big) > bigBufferKeep {
		r.big = nil
	}
	if err := r.fill(5); err != nil {
		return message{}, err
	}
	hdr := r.buf[r.r : r.r+5]
	n := int(binary.BigEndian.Uint32(hdr[1:]))
	if n < 4 || n > 1<<30+4 {
		return message{}, errMalformedLength
	}
	if r.maxBody > 0 && n-4 > r.maxBody {
		return message{}, &errMessageTooLarge{size: n - 4, limit: r.maxBody}
	}
	total := 1 + n
	if total <= len(r.buf) {
		if err := r.fill(total); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return message{}, err
		}
		raw := r.buf[r.r : r.r+total]
		r.pending = total
		return message{typ: raw[0], raw: raw, body: raw[5:]}, nil
	}
	return r.nextBig(total)
}

// nextBig reads a message larger than the buffer into r.big, growing it
// as bytes arrive rather than trusting the announced length up front: a
// garbled length must not allocate a gigabyte.
func (r *msgReader) nextBig(total int) (message, error) {
	raw := append(r.big[:0], r.buf[r.r:r.w]...)
	r.r, r.w = 0, 0
	for len(raw) < total {
		if len(raw) == cap(raw) {
			raw = append(raw, 0)[:len(raw)]
		}
		n, err := io.ReadFull(r.rd, raw[len(raw):min(cap(raw), total)])
		raw = raw[:len(raw)+n]
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return message{}, err
		}
	}
	r.big = raw
	return message{typ: raw[0], raw: raw, body: raw[5:]}, nil
}

// peekDataRows appends to dst the bodies of the whole DataRow messages
// buffered after the message last returned, at most max of them, up to
// the first other or incomplete message. The bodies point into the
// buffer: they are valid until the next call of next.
func (r *msgReader) peekDataRows(dst [][]byte, max int) [][]byte {
	p := r.r + r.pending
	for range max {
		if r.w-p < 5 || r.buf[p] != 'D' {
			break
		}
		n := int(binary.BigEndian.Uint32(r.buf[p+1:]))
		if n < 4 || r.w-p < 1+n {
			break
		}
		dst = append(dst, r.buf[p+5:p+1+n])
		p += 1 + n
	}
	return dst
}

// buffered reports how many bytes of further input are already buffered.
// Zero means a flush of the other direction is due.
func (r *msgReader) buffered() int { return r.w - r.r - r.pending }

// grow switches to a large pooled buffer. Call it between messages: the
// message last returned is finished with.
func (r *msgReader) grow() {
	if r.pooled != nil {
		return
	}
	p := bigReadBuffers.Get().(*[]byte)
	r.small = r.buf
	r.swap(*p)
	r.pooled = p
}

// shrink returns a pooled buffer once nothing is buffered.
func (r *msgReader) shrink() {
	if r.pooled == nil || r.buffered() > 0 {
		return
	}
	p := r.pooled
	r.swap(r.small)
	r.pooled, r.small = nil, nil
	bigReadBuffers.Put(p)
}

func (r *msgReader) swap(buf []byte) {
	r.r += r.pending
	r.pending = 0
	r.w = copy(buf, r.buf[r.r:r.w])
	r.r = 0
	r.buf = buf
}

// cstring splits a NUL-terminated string off the front of b.
func cstring(b []byte) (s, rest []byte, ok bool) {
	for i, c := range b {
		if c == 0 {
			return b[:i], b[i+1:], true
		}
	}
	return nil, nil, false
}
