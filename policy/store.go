package policy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Store holds the current policy and replaces it atomically on reload. An
// invalid new policy is rejected and the old one stays in force.
type Store struct {
	path   string
	check  func(*Policy) error // extra validation (against the live catalog); may be nil
	logger *slog.Logger

	// OnChange, if set, is called after a new policy has been swapped in
	// (not for the first one). Set it before the first Reload or Watch.
	OnChange func(*Policy)

	mu   sync.Mutex // serialises reloads
	cur  atomic.Pointer[Policy]
	gen  uint64
	hash [sha256.Size]byte
}

// Open loads the policy at path, validates it with check (if non-nil) and
// returns a Store serving it as generation 1.
func Open(path string, check func(*Policy) error, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Store{path: path, check: check, logger: logger}
	if _, err := s.reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Current returns the policy in force.
func (s *Store) Current() *Policy { return s.cur.Load() }

// Reload re-reads the file. If it is unchanged nothing happens; if it is
// invalid the error is returned (and logged) and the current policy stays.
func (s *Store) Reload() error {
	changed, err := s.reload()
	if err != nil {
		s.logger.Error("policy reload rejected; keeping the current policy",
			"file", s.path, "generation", s.Current().Generation, "problems", err.Error())
		return err
	}
	if changed {
		s.logger.Info("policy reloaded", "file", s.path, "generation", s.Current().Generation)
		if s.OnChange != nil {
			s.OnChange(s.Current())
		}
	}
	return nil
}

func (s *Store) reload() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, err := os.ReadFile(s.path)
	if err != nil {
		return false, fmt.Errorf("read policy: %w", err)
	}
	sum := sha256.Sum256(data)
	if s.cur.Load() != nil && bytes.Equal(sum[:], s.hash[:]) {
		return false, nil
	}
	p, err := Parse(s.path, data)
	if err != nil {
		return false, err
	}
	if s.check != nil {
		if err := s.check(p); err != nil {
			return false, err
		}
	}
	s.gen++
	p.Generation = s.gen
	s.hash = sum
	s.cur.Store(p)
	return true, nil
}

// Watch reloads the policy whenever the file changes (checked every
// interval) until ctx is done. SIGHUP handling is the caller's: it calls
// Reload.
func (s *Store) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var last os.FileInfo
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fi, err := os.Stat(s.path)
		if err != nil {
			continue
		}
		if last != nil && fi.ModTime().Equal(last.ModTime()) && fi.Size() == last.Size() {
			continue
		}
		last = fi
		s.Reload() // a no-op when the content is unchanged

	}
}
