package proxy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Buffer sizes for each direction. PostgreSQL itself uses 8 kB socket
// buffers (PQ_SEND_BUFFER_SIZE); matching it keeps idle sessions small.
const (
	readBufferSize  = 8 << 10
	writeBufferSize = 8 << 10
	// bigBufferKeep is the largest oversize-message buffer kept between
	// messages; a larger one is dropped so a single huge row does not pin
	// memory for the rest of the session.
	bigBufferKeep = 1 << 20
)

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
// zero copies when a message fits the read buffer.
type msgReader struct {
	br      *bufio.Reader
	big     []byte // holds messages larger than the bufio buffer
	pending int    // bytes of the previous message still to discard
	maxBody int    // 0 means unlimited
}

func newMsgReader(r io.Reader, maxBody int) *msgReader {
	return &msgReader{br: bufio.NewReaderSize(r, readBufferSize), maxBody: maxBody}
}

// next returns the next message. It returns io.EOF on a clean end of stream
// between messages and io.ErrUnexpectedEOF inside one.
func (r *msgReader) next() (message, error) {
	if r.pending > 0 {
		r.br.Discard(r.pending) // cannot fail: the bytes are buffered
		r.pending = 0
	}
	if cap(r.big) > bigBufferKeep {
		r.big = nil
	}
	hdr, err := r.br.Peek(5)
	if err != nil {
		if len(hdr) > 0 && errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return message{}, err
	}
	n := int(binary.BigEndian.Uint32(hdr[1:]))
	if n < 4 || n > 1<<30+4 {
		return message{}, errMalformedLength
	}
	if r.maxBody > 0 && n-4 > r.maxBody {
		return message{}, &errMessageTooLarge{size: n - 4, limit: r.maxBody}
	}
	total := 1 + n
	if total <= r.br.Size() {
		raw, err := r.br.Peek(total)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return message{}, err
		}
		r.pending = total
		return message{typ: raw[0], raw: raw, body: raw[5:]}, nil
	}
	// Grow the buffer as bytes arrive rather than trusting the announced
	// length up front: a garbled length must not allocate a gigabyte.
	raw := r.big[:0]
	for len(raw) < total {
		if len(raw) == cap(raw) {
			raw = append(raw, 0)[:len(raw)]
		}
		chunk := raw[len(raw):min(cap(raw), total)]
		n, err := io.ReadFull(r.br, chunk)
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

// buffered reports how many bytes of further input are already buffered.
// Zero means a flush of the other direction is due.
func (r *msgReader) buffered() int { return r.br.Buffered() - r.pending }

// cstring splits a NUL-terminated string off the front of b.
func cstring(b []byte) (s, rest []byte, ok bool) {
	for i, c := range b {
		if c == 0 {
			return b[:i], b[i+1:], true
		}
	}
	return nil, nil, false
}
