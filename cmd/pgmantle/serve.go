package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/pgmantle/pgmantle/internal/config"
	"github.com/pgmantle/pgmantle/proxy"
)

// serveCmd runs the proxy until SIGINT or SIGTERM.
func serveCmd(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgFile := fs.String("config", "", "configuration `FILE` (YAML); defaults apply without it")
	listen := fs.String("listen", "", "client-facing `ADDR` (overrides listen; default 127.0.0.1:6432)")
	upstream := fs.String("upstream", "", "PostgreSQL `ADDR` (overrides upstream.address)")
	level := fs.String("log-level", "", "log `LEVEL`: debug, info, warn, error (overrides log.level)")
	policyFile := fs.String("policy", "", "policy `FILE` (overrides policy.file)")
	catalogDSN := fs.String("catalog-dsn", "", "pgmantle's own `DSN` for reading the catalog (overrides catalog.dsn)")
	keysFile := fs.String("keys-file", "", "local key `FILE` made by `pgmantle keys init` (overrides keys; insecure, for demos)")
	auditFile := fs.String("audit-file", "", "audit log `FILE` (overrides audit.file; JSON Lines, hash-chained)")
	adminListen := fs.String("admin-listen", "", "admin `ADDR` for /metrics, /healthz, /readyz (overrides admin.listen)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "serve: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	cfg, err := loadConfig(*cfgFile, overrides{listen: *listen, upstream: *upstream, level: *level, policy: *policyFile, catalogDSN: *catalogDSN, keysFile: *keysFile,
		auditFile: *auditFile, adminListen: *adminListen})
	if err != nil {
		return err
	}
	logger := newLogger(cfg.Log, stderr)
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if path := os.Getenv("PGMANTLE_CPUPROFILE"); path != "" {
		// A diagnostic for benchmarks: a CPU profile of the whole run.
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("PGMANTLE_CPUPROFILE: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("PGMANTLE_CPUPROFILE: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	return serve(ctx, cfg, l, logger)
}

// serve runs a proxy on l until ctx is done, then shuts down gracefully
// within the configured timeout.
func serve(ctx context.Context, cfg config.Config, l net.Listener, logger *slog.Logger) error {
	srv, err := proxy.NewServer(cfg, logger)
	if err != nil {
		l.Close()
		return err
	}
	prot, err := setupProtection(ctx, cfg, srv, logger)
	if err != nil {
		l.Close()
		return err
	}
	defer prot.close()
	obs, err := setupObservation(cfg, srv, prot, logger)
	if err != nil {
		l.Close()
		return err
	}
	defer obs.close()
	logger.Info("pgmantle listening", "listen", l.Addr().String(), "upstream", cfg.Upstream.Address,
		"client_tls", cfg.TLS.Mode, "upstream_tls", cfg.Upstream.TLS.Mode, "version", version())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: no new connections; waiting for sessions", "timeout", cfg.Limits.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Limits.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("shutdown timeout reached; remaining sessions were closed")
	}
	if err := <-errc; !errors.Is(err, proxy.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

type overrides struct {
	listen, upstream, level, policy, catalogDSN, keysFile string
	auditFile, adminListen                                string
}

// loadConfig reads the file (if any), applies command-line overrides and
// validates the result.
func loadConfig(file string, o overrides) (config.Config, error) {
	cfg := config.Default()
	if file != "" {
		var err error
		if cfg, err = config.Load(file); err != nil {
			return cfg, err
		}
	}
	if o.listen != "" {
		cfg.Listen = o.listen
	}
	if o.upstream != "" {
		cfg.Upstream.Address = o.upstream
	}
	if o.level != "" {
		cfg.Log.Level = o.level
	}
	if o.policy != "" {
		cfg.Policy.File = o.policy
	}
	if o.catalogDSN != "" {
		cfg.Catalog.DSN = o.catalogDSN
	}
	if o.keysFile != "" {
		cfg.Keys.File, cfg.Keys.Vault = o.keysFile, nil
	}
	if o.auditFile != "" {
		cfg.Audit.File, cfg.Audit.Sink = o.auditFile, config.AuditSinkFile
	}
	if o.adminListen != "" {
		cfg.Admin.Listen = o.adminListen
	}
	return cfg, cfg.Validate()
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	level, _ := config.ParseLevel(c.Level)
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
