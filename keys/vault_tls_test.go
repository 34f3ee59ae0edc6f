package keys

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestVaultSkipVerifyIgnored: VAULT_SKIP_VERIFY, which vault/api's
// DefaultConfig honours, does not turn off the check of Vault's
// certificate: a Vault with a certificate nobody trusts is refused, and
// the log says the variable was ignored.
func TestVaultSkipVerifyIgnored(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"data":{"ttl":0,"renewable":false}}`)
	}))
	defer srv.Close()
	t.Setenv("VAULT_SKIP_VERIFY", "true")
	t.Setenv("VAULT_TOKEN", "hvs.SKIPVERIFYTEST")
	var logs bytes.Buffer
	cfg := VaultConfig{Address: srv.URL, Timeout: time.Second, Tokenize: VaultSource{Transit: "transit/k"}}
	p, err := NewVaultProvider(context.Background(), cfg, testLogger(&logs))
	if err == nil {
		p.Close()
		t.Fatal("a Vault whose certificate nobody trusts was accepted under VAULT_SKIP_VERIFY")
	}
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("error does not name the certificate: %v", err)
	}
	if !strings.Contains(logs.String(), "VAULT_SKIP_VERIFY is ignored") {
		t.Errorf("the log does not say VAULT_SKIP_VERIFY was ignored: %s", logs.String())
	}
}
