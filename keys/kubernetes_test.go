package keys

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/pgmantle/pgmantle/internal/vaulttest"
)

// fakeKubernetes answers the TokenReview API the way a Kubernetes API
// server does for one service account token (no Kubernetes runs here;
// Vault's kubernetes auth method is real).
func fakeKubernetes(t *testing.T, jwt, namespace, name, uid string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/apis/authentication.k8s.io/v1/tokenreviews" {
			http.NotFound(w, r)
			return
		}
		var req struct {
			Spec struct {
				Token string `json:"token"`
			} `json:"spec"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		status := map[string]any{"authenticated": false}
		if req.Spec.Token == jwt {
			status = map[string]any{"authenticated": true,
				"user": map[string]any{"username": "system:serviceaccount:" + namespace + ":" + name, "uid": uid}}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "status": status})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// serviceAccountJWT is a service account token's shape (the signature is
// not checked: Vault asks the TokenReview API instead).
func serviceAccountJWT(namespace, name, uid string) string {
	enc := base64.RawURLEncoding.EncodeToString
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{
		"iss":                                    "kubernetes/serviceaccount",
		"sub":                                    "system:serviceaccount:" + namespace + ":" + name,
		"kubernetes.io/serviceaccount/namespace": namespace,
		"kubernetes.io/serviceaccount/service-account.name": name,
		"kubernetes.io/serviceaccount/service-account.uid":  uid,
		"kubernetes.io/serviceaccount/secret.name":          name + "-token",
	})
	return enc(header) + "." + enc(claims) + "." + enc([]byte("signature"))
}

// TestVaultKubernetesAuth: login with the pod's service account token
// through Vault's kubernetes auth method; a token of another account is
// refused without showing the token.
func TestVaultKubernetesAuth(t *testing.T) {
	v := vaulttest.Start(t)
	v.Policy(t, "pgmantle", readPolicy)
	v.PutKV(t, "pgmantle/tokenize", vaulttest.NewKey())
	v.PutKV(t, "pgmantle/hash", vaulttest.NewKey())
	jwt := serviceAccountJWT("finance", "pgmantle", "7d1c2f1e-0000-4000-8000-000000000001")
	k8s := fakeKubernetes(t, jwt, "finance", "pgmantle", "7d1c2f1e-0000-4000-8000-000000000001")
	c := v.Client
	if err := c.Sys().EnableAuthWithOptions("kubernetes", &vault.EnableAuthOptions{Type: "kubernetes"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logical().Write("auth/kubernetes/config", map[string]any{"kubernetes_host": k8s.URL, "disable_local_ca_jwt": true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logical().Write("auth/kubernetes/role/pgmantle", map[string]any{
		"bound_service_account_names": "pgmantle", "bound_service_account_namespaces": "finance",
		"token_policies": "pgmantle", "token_ttl": "1h"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	jwtFile := filepath.Join(dir, "token")
	os.WriteFile(jwtFile, []byte(jwt+"\n"), 0o600)
	t.Setenv("VAULT_TOKEN", "")
	cfg := kvConfig(v)
	cfg.Auth = VaultAuth{Method: "kubernetes", Role: "pgmantle", JWTFile: jwtFile}
	p, err := NewVaultProvider(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if ttl := p.TokenTTL(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("ttl %v", ttl)
	}
	m, err := NewManager(context.Background(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Ring(Tokenize).Versions(); len(got) != 1 {
		t.Fatalf("versions %v", got)
	}

	other := serviceAccountJWT("finance", "intruder", "7d1c2f1e-0000-4000-8000-000000000002")
	os.WriteFile(jwtFile, []byte(other), 0o600)
	_, err = NewVaultProvider(context.Background(), cfg, nil)
	if err == nil || strings.Contains(err.Error(), other[:20]) || !strings.Contains(err.Error(), "auth/kubernetes/login") {
		t.Fatalf("another service account: %v", err)
	}
	cfg.Auth.Role = ""
	if _, err := NewVaultProvider(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "auth.role") {
		t.Fatalf("no role: %v", err)
	}
}
