package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/pgmantle/pgmantle/admin"
	"github.com/pgmantle/pgmantle/audit"
	"github.com/pgmantle/pgmantle/internal/config"
	"github.com/pgmantle/pgmantle/keys"
	"github.com/pgmantle/pgmantle/proxy"
	"github.com/pgmantle/pgmantle/proxy/audithook"
)

// observer is the audit log and the admin listener of a running proxy.
type observer struct {
	writer *audit.Writer
	admin  *admin.Server
	logger *slog.Logger
	keys   *keys.Manager // opened for the audit key when no policy opened one
}

// setupObservation opens the audit log and starts the admin listener, as
// configured, and installs the audit hook on srv. With neither, srv gets
// no hook (nothing is normalized or counted).
func setupObservation(cfg config.Config, srv *proxy.Server, prot *protection, logger *slog.Logger) (*observer, error) {
	o := &observer{logger: logger}
	var sink audit.Sink
	switch cfg.Audit.Sink {
	case config.AuditSinkFile:
		fs, err := audit.OpenFileSink(cfg.Audit.File, int64(cfg.Audit.RotateSize), cfg.Audit.RotateInterval)
		if err != nil {
			return nil, err
		}
		sink = fs
	case config.AuditSinkStdout:
		sink = audit.NewWriterSink(os.Stdout)
	case config.AuditSinkPostgres:
		ps, err := audit.OpenPostgresSink(context.Background(), cfg.Audit.Postgres.DSN, cfg.Audit.Postgres.Table)
		if err != nil {
			return nil, err
		}
		sink = ps
	}
	if sink != nil {
		opts := audit.Options{Sync: cfg.Audit.Sync, SyncInterval: cfg.Audit.SyncInterval,
			OnFailure: cfg.Audit.OnFailure, QueueSize: cfg.Audit.QueueSize, Logger: logger}
		if cfg.Audit.HMAC {
			km := prot.keyManager()
			if km == nil {
				var err error
				if km, err = openKeys(context.Background(), cfg, logger); err != nil {
					sink.Close()
					return nil, fmt.Errorf("audit.hmac: %w", err)
				}
				o.keys = km
			}
			v, key, err := km.AuditKey(0)
			if err != nil {
				sink.Close()
				o.close()
				return nil, fmt.Errorf("audit.hmac: %w", err)
			}
			opts.ChainKey, opts.ChainKeyVersion = key, v
		}
		w, err := audit.NewWriter(sink, opts)
		if err != nil {
			sink.Close()
			return nil, fmt.Errorf("audit log: %w", err)
		}
		o.writer = w
		logger.Info("audit log open", "sink", cfg.Audit.Sink, "file", cfg.Audit.File, "sync", cfg.Audit.Sync,
			"on_failure", cfg.Audit.OnFailure, "hmac", cfg.Audit.HMAC)
	} else {
		logger.Warn("no audit log configured (audit.file or --audit-file): statements are not audited")
	}
	if km := prot.keyManager(); km != nil || o.keys != nil {
		if km == nil {
			km = o.keys
		}
		if key, err := km.AuditHashKey(); err == nil {
			audit.SetHashKey(key)
		}
	}
	hook := &audithook.Hook{Writer: o.writer}
	if prot != nil {
		hook.Touched = prot.engine.Touched
		hook.PolicyGeneration = func() uint64 { return prot.store.Current().Generation }
	}
	if cfg.Admin.Listen != "" {
		src := admin.Sources{Server: srv, Audit: o.writer}
		if prot != nil {
			src.Keys, src.Catalog = prot.keys, prot.catalog
		}
		hook.Metrics = admin.New(src)
		ready := func() error {
			if o.writer != nil {
				if err := o.writer.Healthy(); err != nil {
					return err
				}
			}
			if prot != nil {
				if st := prot.catalog.Status(); st.Failing > 0 {
					return fmt.Errorf("the catalog of %d database(s) may be out of date; their restricted statements are refused", st.Failing)
				}
			}
			return nil
		}
		a, err := admin.Listen(cfg.Admin.Listen, hook.Metrics, ready)
		if err != nil {
			o.close()
			return nil, err
		}
		o.admin = a
		logger.Info("admin listener", "listen", a.Addr(), "paths", "/metrics /healthz /readyz")
	}
	if hook.Writer != nil || hook.Metrics != nil {
		srv.Audit = hook
	}
	return o, nil
}

// close ends the audit log with its close record (after the sessions have
// ended) and stops the admin listener.
func (o *observer) close() {
	if o == nil {
		return
	}
	if o.writer != nil {
		if err := o.writer.Close(); err != nil {
			o.logger.Error("audit log: closing failed", "error", err)
		}
	}
	if o.admin != nil {
		o.admin.Close()
	}
	if o.keys != nil {
		o.keys.Close()
	}
}
