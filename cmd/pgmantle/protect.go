package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmantle/pgmantle/catalog"
	"github.com/pgmantle/pgmantle/internal/config"
	"github.com/pgmantle/pgmantle/keys"
	"github.com/pgmantle/pgmantle/policy"
	"github.com/pgmantle/pgmantle/proxy"
	"github.com/pgmantle/pgmantle/proxy/resultmask"
)

// protection is the policy machinery of a running proxy.
type protection struct {
	catalog *catalog.Manager
	store   *policy.Store
	keys    *keys.Manager
	engine  *resultmask.Engine
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
	km, err := openKeys(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	// A catalog change that restricts a role (a membership in an
	// unrestricted role revoked, or one in a restricted role granted) ends
	// the role's sessions relayed untouched, as a policy reload does
	// (Reevaluate does nothing until srv.Intercept is set below).
	mgr := &catalog.Manager{DSN: cfg.Catalog.DSN, Interval: cfg.Catalog.RefreshInterval,
		CheckInterval: cfg.Catalog.CheckInterval, MaxStale: cfg.Catalog.MaxStale, Logger: logger,
		OnChange: func(string) { srv.Reevaluate() }}
	check := func(p *policy.Policy) error {
		if err := checkKeys(p, km); err != nil {
			return err
		}
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
		if km != nil {
			km.Close()
		}
		return nil, err
	}
	engine := &resultmask.Engine{Catalog: mgr, Policy: store, KeyManager: km, Logger: logger}
	if km != nil {
		go km.Run(ctx, cfg.Keys.RefreshInterval)
	}
	srv.Intercept = engine.Intercept
	srv.UpstreamParams = engine.UpstreamParams
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
	return &protection{catalog: mgr, store: store, keys: km, engine: engine}, nil
}

// keyManager is the policy's key manager, or nil.
func (p *protection) keyManager() *keys.Manager {
	if p == nil {
		return nil
	}
	return p.keys
}

func (p *protection) close() {
	if p != nil {
		p.catalog.Close()
		if p.keys != nil {
			p.keys.Close()
		}
	}
}

// checkKeys refuses a policy whose tokenize or hash rules have no keys,
// or whose tokenize_version the key source does not have.
func checkKeys(p *policy.Policy, km *keys.Manager) error {
	if km == nil {
		if role, class, ok := p.KeyUse(); ok {
			return fmt.Errorf("%s: role %s tokenizes or hashes class %s, which needs keys: configure keys.vault, or create a key file with `pgmantle keys init FILE` and pass --keys-file FILE", p.File, role, class)
		}
		if p.TokenKeyVersion != 0 {
			return fmt.Errorf("%s: keys.tokenize_version is set but no keys are configured", p.File)
		}
		return nil
	}
	if _, err := km.Set(p.TokenKeyVersion); err != nil {
		return fmt.Errorf("%s: %w", p.File, err)
	}
	return nil
}
