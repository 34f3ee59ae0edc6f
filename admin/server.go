package admin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server is the admin HTTP listener.
type Server struct {
	http *http.Server
	l    net.Listener
}

// Ready reports whether pgmantle can serve statements now (nil) or why
// not; /readyz answers 503 with the reason while it is not.
type Ready func() error

// Listen starts the admin listener on addr.
func Listen(addr string, m *Metrics, ready Ready) (*Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			if err := ready(); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		fmt.Fprintln(w, "ready")
	})
	s := &Server{l: l, http: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go s.http.Serve(l)
	return s, nil
}

// Addr is the address the listener is bound to.
func (s *Server) Addr() string { return s.l.Addr().String() }

// Close stops the listener.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
