package certs_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/pgmantle/pgmantle/internal/certs"
)

func parseCert(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("not a CERTIFICATE PEM block: %q", certPEM)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func newCA(t *testing.T) (*certs.CA, *x509.CertPool) {
	t.Helper()
	ca, err := certs.NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	if !ca.Cert.IsCA {
		t.Fatal("CA certificate is not marked as a CA")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca.CertPEM) {
		t.Fatal("CertPEM does not parse")
	}
	return ca, pool
}

func TestClientCertVerifiesForClientAuth(t *testing.T) {
	ca, pool := newCA(t)
	certPEM, keyPEM, err := ca.Issue("alice", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatalf("cert and key do not match: %v", err)
	}
	cert := parseCert(t, certPEM)
	if cert.Subject.CommonName != "alice" {
		t.Errorf("CommonName = %q", cert.Subject.CommonName)
	}
	if _, err := cert.Verify(x509.VerifyOptions{
		Roots:     pool,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		t.Fatalf("client cert does not verify for client auth: %v", err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{
		Roots:     pool,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}); err == nil {
		t.Fatal("client cert unexpectedly verifies for server auth")
	}
	_, otherPool := newCA(t)
	if _, err := cert.Verify(x509.VerifyOptions{
		Roots:     otherPool,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err == nil {
		t.Fatal("client cert unexpectedly verifies against an unrelated CA")
	}
}

func TestServerCertHostnameVerification(t *testing.T) {
	ca, pool := newCA(t)
	certPEM, _, err := ca.Issue("server", []string{"127.0.0.1", "localhost", "::1"}, false)
	if err != nil {
		t.Fatal(err)
	}
	cert := parseCert(t, certPEM)
	for _, host := range []string{"127.0.0.1", "localhost", "::1"} {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: host, Roots: pool}); err != nil {
			t.Errorf("verify for %s: %v", host, err)
		}
	}
	for _, host := range []string{"127.0.0.2", "example.com"} {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: host, Roots: pool}); err == nil {
			t.Errorf("verify for %s unexpectedly succeeded", host)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{
		DNSName:   "127.0.0.1",
		Roots:     pool,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err == nil {
		t.Error("server cert unexpectedly verifies for client auth")
	}
}

func TestTLSHandshakeWithIssuedServerCert(t *testing.T) {
	ca, pool := newCA(t)
	certPEM, keyPEM, err := ca.Issue("server", []string{"127.0.0.1"}, false)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.(*tls.Conn).Handshake()
	}()
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("TLS handshake with verification failed: %v", err)
	}
	conn.Close()
}

func TestWriteKeyPair(t *testing.T) {
	ca, _ := newCA(t)
	certPEM, keyPEM, err := ca.Issue("server", []string{"localhost"}, false)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// A pre-existing, world-readable key must end up 0600.
	if err := os.WriteFile(filepath.Join(dir, "srv.key"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := certs.WriteKeyPair(dir, "srv", certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if certFile != filepath.Join(dir, "srv.crt") || keyFile != filepath.Join(dir, "srv.key") {
		t.Fatalf("paths = %s, %s", certFile, keyFile)
	}
	for file, mode := range map[string]os.FileMode{certFile: 0o644, keyFile: 0o600} {
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s mode = %v, want %v", file, fi.Mode().Perm(), mode)
		}
	}
	keyData, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if block, _ := pem.Decode(keyData); block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("key file is not PKCS#8 PRIVATE KEY PEM")
	}
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		t.Fatalf("written pair does not load: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("dir has %d entries, want 2 (temp files left behind?)", len(entries))
	}
}
