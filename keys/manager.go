package keys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Provider fetches key rings from where they are kept.
type Provider interface {
	// Fetch returns every configured ring (by purpose). Errors name the
	// source (a Vault path, a file), never key material.
	Fetch(ctx context.Context) (map[string]*Ring, error)
	// Describe names the source for logs ("vault https://... kv secret/...").
	Describe() string
	// Close stops background work (token renewal).
	Close()
}

// Status is the health of the key source, for logs, metrics and
// readiness.
type Status struct {
	Source      string
	Versions    map[string][]int // by purpose
	LastSuccess time.Time
	LastFailure time.Time
	LastError   string // the source's error, never key material
	Failing     bool   // the last refresh failed; cached keys are serving
	Refreshes   uint64
	Failures    uint64
	Generation  uint64 // changes whenever the rings change
}

// Manager caches the rings of a Provider, refreshes them in the
// background and tells OnChange when they change. Methods are safe for
// concurrent use.
type Manager struct {
	provider Provider
	logger   *slog.Logger

	mu     sync.Mutex
	rings  map[string]*Ring
	status Status
	// OnChange, if set before Run, is called (without locks held) after a
	// refresh changed the rings.
	OnChange func()

	stop     chan struct{} // closed by Close: Run returns
	stopOnce sync.Once
}

// NewManager fetches the rings once; it fails (naming the source) when
// the provider cannot deliver them, so a proxy never starts without keys.
func NewManager(ctx context.Context, p Provider, logger *slog.Logger) (*Manager, error) {
	if logger == nil {
		logger = slog.Default()
	}
	rings, err := p.Fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys from %s: %w", p.Describe(), err)
	}
	if len(rings) == 0 {
		return nil, fmt.Errorf("keys from %s: no key rings", p.Describe())
	}
	m := &Manager{provider: p, logger: logger, rings: rings, stop: make(chan struct{})}
	m.status = Status{Source: p.Describe(), LastSuccess: time.Now(), Refreshes: 1, Generation: 1, Versions: versionsOf(rings)}
	logger.Info("keys loaded", "source", p.Describe(), "versions", fmt.Sprint(m.status.Versions))
	return m, nil
}

func versionsOf(rings map[string]*Ring) map[string][]int {
	out := make(map[string][]int, len(rings))
	for p, r := range rings {
		out[p] = r.Versions()
	}
	return out
}

// Set returns the keys to use with a policy that tokenizes with
// tokenVersion (0: the newest).
func (m *Manager) Set(tokenVersion int) (*Set, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return newSet(m.rings, tokenVersion)
}

// Ring returns the ring of a purpose, or nil.
func (m *Manager) Ring(purpose string) *Ring {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rings[purpose]
}

// Generation changes whenever the rings change.
func (m *Manager) Generation() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status.Generation
}

// Status returns the current health.
func (m *Manager) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.status
	s.Versions = versionsOf(m.rings)
	return s
}

// Refresh fetches the rings now. On failure the cached rings keep
// serving and the error is returned (and logged by Run).
func (m *Manager) Refresh(ctx context.Context) error {
	rings, err := m.provider.Fetch(ctx)
	m.mu.Lock()
	m.status.Refreshes++
	if err == nil && len(rings) == 0 {
		err = errors.New("no key rings")
	}
	if err == nil {
		err = changedMaterial(m.rings, rings)
	}
	if err != nil {
		wasFailing := m.status.Failing
		m.status.Failing = true
		m.status.Failures++
		m.status.LastFailure = time.Now()
		m.status.LastError = err.Error()
		m.mu.Unlock()
		if !wasFailing {
			m.logger.Error("key refresh failed; cached keys keep serving", "source", m.provider.Describe(), "err", err)
		} else {
			m.logger.Warn("key refresh still failing; cached keys keep serving", "source", m.provider.Describe(), "err", err)
		}
		return err
	}
	recovered := m.status.Failing
	m.status.Failing = false
	m.status.LastSuccess = time.Now()
	m.status.LastError = ""
	changed := len(rings) != len(m.rings)
	for p, r := range rings {
		if !r.same(m.rings[p]) {
			changed = true
		}
	}
	if changed {
		m.rings = rings
		m.status.Generation++
	}
	onChange := m.OnChange
	m.mu.Unlock()
	if recovered {
		m.logger.Info("key source reachable again", "source", m.provider.Describe())
	}
	if changed {
		m.logger.Info("keys changed", "source", m.provider.Describe(), "versions", fmt.Sprint(versionsOf(rings)))
		if onChange != nil {
			onChange()
		}
	}
	return nil
}

// changedMaterial refuses fetched rings in which a version already
// cached holds different material: versions are immutable, and tokens
// issued under the old material would stop reversing and matching. It
// happens when a KV secret is deleted and re-created or Vault is restored
// from another backup; the operator restores the old version (or adds a
// new one) and the next refresh goes through.
func changedMaterial(cached, fetched map[string]*Ring) error {
	for purpose, r := range fetched {
		old := cached[purpose]
		if old == nil {
			continue
		}
		for _, v := range r.Versions() {
			if k := old.versions[v]; k != nil && string(k) != string(r.versions[v]) {
				return fmt.Errorf("%s key version %d changed its material at the source; refusing the new keys (versions never change: restore the old material or add a new version)", purpose, v)
			}
		}
	}
	return nil
}

// Run refreshes every interval until ctx is done or Close is called.
func (m *Manager) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-m.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rctx, cancel := context.WithTimeout(ctx, max(interval, 10*time.Second))
			_ = m.Refresh(rctx)
			cancel()
		}
	}
}

// Close stops Run (cancelling a refresh in flight) and the provider's
// background work.
func (m *Manager) Close() {
	m.stopOnce.Do(func() { close(m.stop) })
	m.provider.Close()
}

// String shows the source and versions only.
func (m *Manager) String() string {
	s := m.Status()
	return fmt.Sprintf("keys.Manager{source: %s, versions: %v}", s.Source, s.Versions)
}

// AuditKey returns the key that chains audit records (HMAC-SHA256), from
// the hash ring if there is one and the tokenize ring otherwise, at
// version v (0: the newest), and the version it used.
func (m *Manager) AuditKey(v int) (int, []byte, error) {
	return m.auditDerived(v, "chain")
}

// AuditHashKey returns the key of the audit log's hashes of redacted
// statement texts, from the newest version of the ring AuditKey uses.
func (m *Manager) AuditHashKey() ([]byte, error) {
	_, k, err := m.auditDerived(0, "statement-hash")
	return k, err
}

// auditDerived derives an audit key of a purpose from version v (0: the
// newest) of the hash ring, or of the tokenize ring without one.
func (m *Manager) auditDerived(v int, purpose string) (int, []byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.rings[Hash]
	if r == nil {
		r = m.rings[Tokenize]
	}
	if r == nil {
		return 0, nil, fmt.Errorf("no %q or %q key ring is configured", Hash, Tokenize)
	}
	if v == 0 {
		v = r.Latest()
	}
	k, err := r.derive(v, "audit", purpose)
	return v, k, err
}
