package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/pgmantle/pgmantle/internal/config"
)

// NewServer builds a Server from a validated configuration, loading the
// certificates it names.
func NewServer(cfg config.Config, logger *slog.Logger) (*Server, error) {
	s := &Server{
		UpstreamAddr:   cfg.Upstream.Address,
		StartupTimeout: cfg.Limits.StartupTimeout,
		ConnectTimeout: cfg.Upstream.ConnectTimeout,
		MaxMessageSize: int(cfg.Limits.MaxMessageSize),
		Logger:         logger,
	}
	var err error
	if s.UpstreamTLS, err = upstreamTLS(cfg.Upstream); err != nil {
		return nil, err
	}
	if s.ClientTLS, err = clientTLS(cfg.TLS); err != nil {
		return nil, err
	}
	s.RequireTLS = cfg.TLS.Mode == config.ClientTLSRequire
	s.VerifyClientCert = cfg.TLS.ClientAuth == config.ClientAuthVerify
	s.CNMap = cfg.TLS.CNMap
	return s, nil
}

func upstreamTLS(u config.Upstream) (*tls.Config, error) {
	switch u.TLS.Mode {
	case config.UpstreamTLSDisable, "":
		return nil, nil
	case config.UpstreamTLSRequire:
		// libpq's sslmode=require: encryption without verification.
		return &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.TLS.ServerName}
	if tc.ServerName == "" {
		host, _, err := net.SplitHostPort(u.Address)
		if err != nil {
			return nil, fmt.Errorf("upstream.address: %w", err)
		}
		tc.ServerName = host
	}
	if u.TLS.CAFile != "" {
		pool, err := loadCAs(u.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("upstream.tls.ca_file: %w", err)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

func clientTLS(t config.ClientTLS) (*tls.Config, error) {
	if t.Mode == config.ClientTLSDisable || t.Mode == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls.cert_file/tls.key_file: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if t.ClientAuth == config.ClientAuthVerify {
		pool, err := loadCAs(t.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.client_ca_file: %w", err)
		}
		// Verify any certificate given; its absence is reported after the
		// startup packet with a clear PostgreSQL error instead of a TLS alert.
		tc.ClientAuth = tls.VerifyClientCertIfGiven
		tc.ClientCAs = pool
	}
	return tc, nil
}

func loadCAs(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificates found", file)
	}
	return pool, nil
}
