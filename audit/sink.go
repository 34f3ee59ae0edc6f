package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Sink is where the Writer puts records. Write gets whole records, each
// ending in a newline, and returns how many bytes of them it kept: always
// a prefix of whole records, all of p unless it fails. No part of a
// record it did not count may remain (the sink restores its end), so that
// the Writer can retry the rest with the same chain.
type Sink interface {
	Write(p []byte) (int, error)
	Sync() error
	Close() error
}

var errInUse = errors.New("in use")

// Recoverer is an optional interface of a Sink that keeps earlier records:
// Recover returns the last complete record line of the log (nil for an
// empty log), after removing an incomplete record at its end (a write cut
// short by a crash), and how many bytes it removed.
type Recoverer interface {
	Recover() (last []byte, truncated int64, err error)
}

// FileSink appends records to a file and rotates it by size or age: the
// active file keeps its name and rotated files get a suffix with the time
// of rotation (audit.log.20261127T231500.123Z). The chain continues across
// files: the first record of a new file links to the last of the old.
type FileSink struct {
	path     string
	maxSize  int64         // rotate when the file would grow past it (0: never)
	maxAge   time.Duration // rotate files older than this (0: never)
	mu       sync.Mutex
	f        *os.File
	size     int64 // bytes of whole records in f
	opened   time.Time
	rotateFn func() time.Time // now, for tests
}

// OpenFileSink opens (creating if needed, mode 0600) the audit file at
// path. maxSize and maxAge bound a file before rotation (zero: none).
func OpenFileSink(path string, maxSize int64, maxAge time.Duration) (*FileSink, error) {
	s := &FileSink{path: path, maxSize: maxSize, maxAge: maxAge, rotateFn: time.Now}
	if err := s.open(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *FileSink) open() error {
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open audit file: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errInUse) {
			return fmt.Errorf("audit file %s is being written by another process (another pgmantle?)", s.path)
		}
		return fmt.Errorf("lock audit file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open audit file: %w", err)
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return fmt.Errorf("open audit file: %w", err)
	}
	s.f, s.size, s.opened = f, st.Size(), s.rotateFn()
	syncDir(s.path)
	return nil
}

// Recover implements Recoverer: the last whole record of the active file
// (or, if it is empty, of the newest rotated one), after cutting an
// incomplete record from the end of the active file.
func (s *FileSink) Recover() ([]byte, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	last, keep, err := lastLine(s.f, s.size)
	if err != nil {
		return nil, 0, fmt.Errorf("read audit file %s: %w", s.path, err)
	}
	truncated := s.size - keep
	if truncated > 0 {
		if err := s.f.Truncate(keep); err != nil {
			return nil, 0, fmt.Errorf("cut the incomplete record at the end of %s: %w", s.path, err)
		}
		if _, err := s.f.Seek(keep, io.SeekStart); err != nil {
			return nil, 0, fmt.Errorf("cut the incomplete record at the end of %s: %w", s.path, err)
		}
		s.size = keep
	}
	if last == nil {
		if prev := s.newestRotated(); prev != "" {
			f, err := os.Open(prev)
			if err != nil {
				return nil, 0, fmt.Errorf("read rotated audit file: %w", err)
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return nil, 0, fmt.Errorf("read rotated audit file: %w", err)
			}
			if last, _, err = lastLine(f, st.Size()); err != nil {
				return nil, 0, fmt.Errorf("read rotated audit file %s: %w", prev, err)
			}
		}
	}
	return last, truncated, nil
}

// lastLine returns the last newline-terminated line of the first size
// bytes of f (without its newline) and the offset just past it.
func lastLine(f *os.File, size int64) ([]byte, int64, error) {
	const chunk = 64 << 10
	var tail []byte
	for off := size; off > 0; {
		n := int64(chunk)
		if off < n {
			n = off
		}
		off -= n
		buf := make([]byte, n)
		if _, err := f.ReadAt(buf, off); err != nil {
			return nil, 0, err
		}
		tail = append(buf, tail...)
		end := strings.LastIndexByte(string(tail), '\n')
		if end < 0 {
			continue
		}
		keep := off + int64(end) + 1
		start := strings.LastIndexByte(string(tail[:end]), '\n')
		if start < 0 && off > 0 {
			continue // the line starts in an earlier chunk
		}
		return append([]byte(nil), tail[start+1:end]...), keep, nil
	}
	return nil, 0, nil
}

// rotatedName is the name a rotated file gets.
func (s *FileSink) rotatedName(t time.Time) string {
	return s.path + "." + t.UTC().Format("20060102T150405.000000000Z")
}

// Rotated lists the rotated files of path, oldest first.
func Rotated(path string) []string {
	matches, _ := filepath.Glob(path + ".2*Z")
	sort.Strings(matches)
	return matches
}

func (s *FileSink) newestRotated() string {
	r := Rotated(s.path)
	if len(r) == 0 {
		return ""
	}
	return r[len(r)-1]
}

// Write appends whole records, rotating between them when the file is
// full or old.
func (s *FileSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	done := 0
	for done < len(p) {
		chunk := p[done:]
		if s.maxSize > 0 && s.size+int64(len(chunk)) > s.maxSize {
			chunk = fit(chunk, s.maxSize-s.size)
			if len(chunk) == 0 && s.size == 0 {
				chunk = fit(p[done:], 1) // one record larger than a file
			}
		}
		if len(chunk) == 0 || (s.maxAge > 0 && s.size > 0 && s.rotateFn().Sub(s.opened) >= s.maxAge) {
			if err := s.rotate(); err != nil {
				return done, err
			}
			continue
		}
		if err := s.append(chunk); err != nil {
			return done, err
		}
		done += len(chunk)
	}
	return done, nil
}

// fit returns the longest prefix of whole records of p within limit bytes
// (at least one record when limit is 1 and nothing fits).
func fit(p []byte, limit int64) []byte {
	end := 0
	for end < len(p) {
		i := bytes.IndexByte(p[end:], '\n')
		if i < 0 {
			break
		}
		if int64(end+i+1) > limit {
			if end == 0 && limit == 1 {
				return p[:i+1]
			}
			break
		}
		end += i + 1
	}
	return p[:end]
}

// append writes whole records to the active file, taking back a partial
// write so that no half record stays.
func (s *FileSink) append(p []byte) error {
	if s.f == nil {
		if err := s.open(); err != nil {
			return err
		}
	}
	n, err := s.f.Write(p)
	if err != nil {
		if n > 0 {
			if terr := s.f.Truncate(s.size); terr != nil {
				s.f.Close()
				s.f = nil // reopened by the next Write
				return fmt.Errorf("write audit file: %w (and removing the partial record failed: %v)", err, terr)
			}
			s.f.Seek(s.size, io.SeekStart)
		}
		return fmt.Errorf("write audit file: %w", err)
	}
	s.size += int64(n)
	return nil
}

// rotate syncs and renames the active file and starts a new one.
func (s *FileSink) rotate() error {
	if s.f == nil {
		if err := s.open(); err != nil {
			return err
		}
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("sync audit file before rotation: %w", err)
	}
	if err := os.Rename(s.path, s.rotatedName(s.rotateFn())); err != nil {
		return fmt.Errorf("rotate audit file: %w", err)
	}
	s.f.Close()
	s.f = nil
	return s.open()
}

// Sync makes the written records durable.
func (s *FileSink) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return errors.New("audit file is not open")
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("sync audit file: %w", err)
	}
	return nil
}

// Close syncs and closes the file.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Sync()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.f = nil
	return err
}

// syncDir makes a file's creation or rename durable (best effort).
func syncDir(path string) {
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
}

// WriterSink writes records to an io.Writer (stdout): no recovery, and
// Sync flushes.
type WriterSink struct {
	mu sync.Mutex
	w  *bufio.Writer
}

// NewWriterSink returns a Sink writing to w.
func NewWriterSink(w io.Writer) *WriterSink { return &WriterSink{w: bufio.NewWriter(w)} }

func (s *WriterSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write(p); err != nil {
		return 0, err
	}
	return len(p), s.w.Flush()
}

func (s *WriterSink) Sync() error  { return nil }
func (s *WriterSink) Close() error { return nil }
