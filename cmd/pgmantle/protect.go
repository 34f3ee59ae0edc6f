package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmantle/pgmantle/catalog"
	"github.com/pgmantle/pgmantle/internal/config"
	"github.com/pgmantle/pgmantle/masking"
	"github.com/pgmantle/pgmantle/policy"
	"github.com/pgmantle/pgmantle/proxy"
	"github.com/pgmantle/pgmantle/proxy/resultmask"
)

// protection is the policy machinery of a running proxy.
type protection struct {
	catalog *catalog.Manager
	store   *policy.Store
}

// setupProtection loads the catalog and the policy (validated against the
// catalog: a bad policy stops startup with every problem listed), installs
// the result masker on srv, and reloads the policy on SIGHUP and on file
// changes until ctx is done. Without a policy it does nothing.
func setupProtection(ctx context.Context, cfg config.Config, srv *proxy.Server, logger *slog.Logger) (*protection, error) {
	if cfg.Policy.File == "" {
		logger.Warn("no policy configured: every session is relayed unchanged")
		return nil, nil
	}
	pcfg, err := pgx.ParseConfig(cfg.Catalog.DSN)
	if err != nil {
		return nil, fmt.Errorf("catalog.dsn: %w", err)
	}
	checkDB := pcfg.Database
	mgr := &catalog.Manager{DSN: cfg.Catalog.DSN, Interval: cfg.Catalog.RefreshInterval, Logger: logger}
	check := func(p *policy.Policy) error {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		mgr.Invalidate(checkDB)
		snap, err := mgr.Get(cctx, checkDB)
		if err != nil {
			return fmt.Errorf("policy check: load catalog of %q: %w", checkDB, err)
		}
		return p.Check(snap)
	}
	store, err := policy.Open(cfg.Policy.File, check, logger)
	if err != nil {
		mgr.Close()
		return nil, err
	}
	keys, err := hashKeys(logger)
	if err != nil {
		mgr.Close()
		return nil, err
	}
	engine := &resultmask.Engine{Catalog: mgr, Policy: store, Keys: keys, Logger: logger}
	srv.Intercept = engine.Intercept
	srv.OnSchemaChange = func(info *proxy.SessionInfo) { mgr.Invalidate(info.Database) }
	// A reload that restricts a role ends its sessions that were relayed
	// untouched; restricted sessions follow the new policy by themselves.
	store.OnChange = func(*policy.Policy) { srv.Reevaluate() }
	logger.Info("policy loaded", "file", cfg.Policy.File, "generation", store.Current().Generation,
		"classes", len(store.Current().Classes), "roles", len(store.Current().Roles))

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				store.Reload()
			}
		}
	}()
	if cfg.Policy.WatchInterval > 0 {
		go store.Watch(ctx, cfg.Policy.WatchInterval)
	}
	return &protection{catalog: mgr, store: store}, nil
}

func (p *protection) close() {
	if p != nil {
		p.catalog.Close()
	}
}

// hashKeys returns the keys of the hash action. Until keys come from Vault,
// a random key is made per process: pseudonyms are stable while pgmantle
// runs and change when it restarts.
func hashKeys(logger *slog.Logger) (masking.KeySource, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate hash key: %w", err)
	}
	logger.Warn("hash and tokenize use a random per-process key until a key provider is configured; pseudonyms change on restart")
	return masking.NewStaticKeys(key, nil), nil
}
