package admin

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/pgmantle/pgmantle/audit"
	"github.com/pgmantle/pgmantle/catalog"
	"github.com/pgmantle/pgmantle/keys"
	"github.com/pgmantle/pgmantle/proxy"
)

// Sources are where scrape-time metrics are read; any may be nil.
type Sources struct {
	Server  *proxy.Server
	Audit   *audit.Writer
	Keys    *keys.Manager
	Catalog *catalog.Manager
}

// Metrics holds the registry and the counters the audit hook increments.
// Its methods are safe for concurrent use.
type Metrics struct {
	Registry *prometheus.Registry

	sessions     prometheus.Counter
	sessionsOpen prometheus.Gauge
	loginsFailed prometheus.Counter
	statements   *prometheus.CounterVec // by decision
	refusals     *prometheus.CounterVec // by reason
	masked       *prometheus.CounterVec // by class, action

	mu          sync.Mutex
	perSession  map[uint64]*atomic.Uint64 // refusals of each open session
	decisionCtr map[string]prometheus.Counter
}

// New registers pgmantle's metrics, reading the sources at scrape time.
func New(src Sources) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry(), perSession: map[uint64]*atomic.Uint64{},
		decisionCtr: map[string]prometheus.Counter{}}
	f := func(c prometheus.Collector) { m.Registry.MustRegister(c) }
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.sessions = prometheus.NewCounter(prometheus.CounterOpts{Name: "pgmantle_sessions_total",
		Help: "Sessions whose login PostgreSQL accepted."})
	m.sessionsOpen = prometheus.NewGauge(prometheus.GaugeOpts{Name: "pgmantle_sessions_open",
		Help: "Sessions logged in and not yet ended."})
	m.loginsFailed = prometheus.NewCounter(prometheus.CounterOpts{Name: "pgmantle_logins_failed_total",
		Help: "Logins PostgreSQL refused."})
	m.statements = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pgmantle_statements_total",
		Help: "Client statements by decision: allowed (shown clear), masked, tokenized, refused (by pgmantle), failed (by PostgreSQL)."},
		[]string{"decision"})
	m.refusals = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pgmantle_refusals_total",
		Help: "Statements pgmantle refused, by reason: policy (the role's rules), audit (the audit log cannot be written), protocol (a message restricted roles may not send)."},
		[]string{"reason"})
	m.masked = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pgmantle_masked_values_total",
		Help: "Values shown masked, tokenized or hashed, by class and action (rows times the protected columns of each result)."},
		[]string{"class", "action"})
	for _, c := range []prometheus.Collector{m.sessions, m.sessionsOpen, m.loginsFailed, m.statements, m.refusals, m.masked} {
		f(c)
	}
	f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pgmantle_session_refusals_max",
		Help: "The most refusals any open session has met: a session probing the policy shows here."},
		m.maxSessionRefusals))
	if s := src.Server; s != nil {
		f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pgmantle_connections_open",
			Help: "Client connections being served, logging in or in session."},
			func() float64 { return float64(s.Stats().Connections) }))
		f(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "pgmantle_upstream_errors_total",
			Help: "Connections to PostgreSQL that could not be made or were lost."},
			func() float64 { return float64(s.Stats().UpstreamErrors) }))
	}
	if w := src.Audit; w != nil {
		f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pgmantle_audit_queue_depth",
			Help: "Audit records waiting to be written."}, func() float64 { return float64(w.Stats().Queued) }))
		f(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "pgmantle_audit_records_written_total",
			Help: "Audit records written to the sink."}, func() float64 { return float64(w.Stats().Written) }))
		f(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "pgmantle_audit_failures_total",
			Help: "Failed attempts to write or sync the audit sink."}, func() float64 { return float64(w.Stats().Failures) }))
		f(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "pgmantle_audit_dropped_total",
			Help: "Audit records lost: refusals that could not be queued while the sink failed, or any record under on_failure: continue."},
			func() float64 { return float64(w.Stats().Dropped) }))
		f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pgmantle_audit_failing",
			Help: "1 while the audit sink cannot be written."}, func() float64 { return b2f(w.Stats().Failing) }))
	}
	// Catalog metrics exist without a catalog too (zero), so an alert on
	// them needs no configuration of its own.
	catStatus := func() catalog.Status {
		if src.Catalog == nil {
			return catalog.Status{}
		}
		return src.Catalog.Status()
	}
	f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pgmantle_catalog_failing",
		Help: "Databases whose catalog snapshot may be out of date (a change not reloaded, or not confirmed in time): their restricted statements are refused."},
		func() float64 { return float64(catStatus().Failing) }))
	f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pgmantle_catalog_snapshot_age_seconds",
		Help: "The longest time since a database's catalog snapshot was confirmed current."},
		func() float64 { return catStatus().OldestConfirmed.Seconds() }))
	f(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "pgmantle_catalog_refresh_failures_total",
		Help: "Failed catalog loads and refreshes."}, func() float64 { return float64(catStatus().RefreshFailures) }))
	if k := src.Keys; k != nil {
		f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pgmantle_keys_source_failing",
			Help: "1 while the key source (Vault) cannot be reached and cached keys are serving."},
			func() float64 { return b2f(k.Status().Failing) }))
		f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pgmantle_keys_last_success_timestamp_seconds",
			Help: "When keys were last fetched successfully (Unix time)."},
			func() float64 { return float64(k.Status().LastSuccess.UnixNano()) / 1e9 }))
		f(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "pgmantle_keys_refresh_failures_total",
			Help: "Failed key refreshes."}, func() float64 { return float64(k.Status().Failures) }))
		f(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "pgmantle_keys_refreshes_total",
			Help: "Key refreshes attempted."}, func() float64 { return float64(k.Status().Refreshes) }))
		f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pgmantle_keys_generation",
			Help: "Changes whenever the key rings change (a rotation)."},
			func() float64 { return float64(k.Status().Generation) }))
	}
	return m
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// SessionOpened counts a login.
func (m *Metrics) SessionOpened(id uint64) {
	m.sessions.Inc()
	m.sessionsOpen.Inc()
	m.mu.Lock()
	m.perSession[id] = new(atomic.Uint64)
	m.mu.Unlock()
}

// SessionEnded counts a session's end.
func (m *Metrics) SessionEnded(id uint64) {
	m.sessionsOpen.Dec()
	m.mu.Lock()
	delete(m.perSession, id)
	m.mu.Unlock()
}

// LoginFailed counts a refused login.
func (m *Metrics) LoginFailed() { m.loginsFailed.Inc() }

// Statement counts a statement's decision.
func (m *Metrics) Statement(decision string) {
	m.mu.Lock()
	c := m.decisionCtr[decision]
	if c == nil {
		c = m.statements.WithLabelValues(decision)
		m.decisionCtr[decision] = c
	}
	m.mu.Unlock()
	c.Inc()
}

// Refused counts a refusal of a session's statement.
func (m *Metrics) Refused(session uint64, reason string) {
	m.refusals.WithLabelValues(reason).Inc()
	m.mu.Lock()
	c := m.perSession[session]
	m.mu.Unlock()
	if c != nil {
		c.Add(1)
	}
}

// Masked counts values shown masked by an action.
func (m *Metrics) Masked(class, action string, n int64) {
	if n > 0 {
		m.masked.WithLabelValues(class, action).Add(float64(n))
	}
}

func (m *Metrics) maxSessionRefusals() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var most uint64
	for _, c := range m.perSession {
		most = max(most, c.Load())
	}
	return float64(most)
}
