package pgcluster

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/pgmantle/pgmantle/internal/certs"
)

// setupTLS generates a CA and a server certificate for 127.0.0.1 and
// localhost in c.Dir, owned by the server user, and enables ssl.
func (c *Cluster) setupTLS() error {
	ca, err := certs.NewCA("pgmantle pgcluster test CA")
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	certPEM, keyPEM, err := ca.Issue("127.0.0.1", []string{"127.0.0.1", "localhost"}, false)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	certFile, keyFile, err := certs.WriteKeyPair(c.Dir, "server", certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	caFile := filepath.Join(c.Dir, "ca.crt")
	if err := os.WriteFile(caFile, ca.CertPEM, 0o644); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	for _, f := range []string{certFile, keyFile, caFile} {
		if err := c.owner.chown(f); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
	}
	c.CAFile = caFile
	c.settings["ssl"] = "on"
	c.settings["ssl_cert_file"] = certFile
	c.settings["ssl_key_file"] = keyFile
	return nil
}
