package keys

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	vault "github.com/hashicorp/vault/api"
)

// VaultConfig is the `keys.vault` section of the configuration file.
// Secrets (tokens, secret IDs, JWTs) are never written here: they come
// from files or the environment.
type VaultConfig struct {
	// Address of Vault, e.g. https://vault.internal:8200. Default: the
	// VAULT_ADDR environment variable.
	Address string `yaml:"address"`
	// CAFile is a PEM bundle trusted for Vault's certificate. Default:
	// VAULT_CACERT, else the system roots.
	CAFile string `yaml:"ca_file"`
	// Namespace (Vault Enterprise / HCP). Optional.
	Namespace string `yaml:"namespace"`
	// Timeout of each request. Default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// Auth is how pgmantle logs in.
	Auth VaultAuth `yaml:"auth"`
	// Tokenize is where the tokenize ring lives; required.
	Tokenize VaultSource `yaml:"tokenize"`
	// Hash is where the hash ring lives. Optional: without it hash keys
	// are derived from the tokenize ring.
	Hash *VaultSource `yaml:"hash"`
}

// VaultAuth selects the login method.
type VaultAuth struct {
	// Method is token (default), approle or kubernetes.
	Method string `yaml:"method"`
	// TokenFile holds the token (method token). Default: VAULT_TOKEN.
	TokenFile string `yaml:"token_file"`
	// RoleIDFile and SecretIDFile hold the AppRole credentials. Default:
	// the environment variables PGMANTLE_VAULT_ROLE_ID and
	// PGMANTLE_VAULT_SECRET_ID.
	RoleIDFile   string `yaml:"role_id_file"`
	SecretIDFile string `yaml:"secret_id_file"`
	// Role is the Kubernetes auth role.
	Role string `yaml:"role"`
	// JWTFile is the service account token (method kubernetes). Default
	// /var/run/secrets/kubernetes.io/serviceaccount/token.
	JWTFile string `yaml:"jwt_file"`
	// Mount is the auth method's mount path. Default: approle or
	// kubernetes.
	Mount string `yaml:"mount"`
}

// VaultSource is one ring's location: exactly one of KV and Transit.
type VaultSource struct {
	// KV is "MOUNT/PATH" of a KV version 2 secret whose versions are the
	// key's versions; each holds base64 key material in Field.
	KV string `yaml:"kv"`
	// Field of the KV secret. Default "key".
	Field string `yaml:"field"`
	// Transit is "MOUNT/KEYNAME" of an exportable Transit key; every
	// version is read through export/encryption-key.
	Transit string `yaml:"transit"`
}

func (s VaultSource) String() string {
	if s.KV != "" {
		return "kv " + s.KV
	}
	return "transit " + s.Transit
}

// VaultProvider fetches rings from Vault and keeps its token alive.
type VaultProvider struct {
	cfg    VaultConfig
	client *vault.Client
	logger *slog.Logger

	loginMu sync.Mutex
	ttl     time.Duration // of the current token; 0: does not expire
	renew   bool

	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

// NewVaultProvider connects and logs in. Errors name the address, the
// method and the path, never a credential.
func NewVaultProvider(ctx context.Context, cfg VaultConfig, logger *slog.Logger) (*VaultProvider, error) {
	if logger == nil {
		logger = slog.Default()
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	vc := vault.DefaultConfig()
	if vc.Error != nil {
		return nil, fmt.Errorf("vault: %w", vc.Error)
	}
	if cfg.Address != "" {
		vc.Address = cfg.Address
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	vc.Timeout = cfg.Timeout
	vc.MaxRetries = 1
	// vault.DefaultConfig honours VAULT_SKIP_VERIFY, which would turn off
	// the check of Vault's certificate (ca_file or not): pgmantle never
	// skips it.
	if t, ok := vc.HttpClient.Transport.(*http.Transport); ok && t.TLSClientConfig != nil && t.TLSClientConfig.InsecureSkipVerify {
		t.TLSClientConfig.InsecureSkipVerify = false
		logger.Warn("VAULT_SKIP_VERIFY is ignored: pgmantle always verifies Vault's certificate")
	}
	if cfg.CAFile != "" {
		if err := vc.ConfigureTLS(&vault.TLSConfig{CACert: cfg.CAFile}); err != nil {
			return nil, fmt.Errorf("vault: ca_file %s: %w", cfg.CAFile, err)
		}
	}
	client, err := vault.NewClient(vc)
	if err != nil {
		return nil, fmt.Errorf("vault at %s: %w", vc.Address, err)
	}
	client.ClearToken()
	if cfg.Namespace != "" {
		client.SetNamespace(cfg.Namespace)
	}
	p := &VaultProvider{cfg: cfg, client: client, logger: logger, stop: make(chan struct{}), done: make(chan struct{})}
	if err := p.login(ctx); err != nil {
		return nil, err
	}
	go p.renewLoop()
	return p, nil
}

func (c *VaultConfig) validate() error {
	switch c.Auth.Method {
	case "", "token", "approle", "kubernetes":
	default:
		return fmt.Errorf("vault: auth.method %q (want token, approle or kubernetes)", c.Auth.Method)
	}
	check := func(name string, s VaultSource) error {
		if (s.KV == "") == (s.Transit == "") {
			return fmt.Errorf("vault: %s: give exactly one of kv and transit", name)
		}
		loc := s.KV + s.Transit
		if i := strings.IndexByte(strings.Trim(loc, "/"), '/'); i <= 0 {
			return fmt.Errorf("vault: %s: %q is not MOUNT/PATH", name, loc)
		}
		return nil
	}
	if err := check(Tokenize, c.Tokenize); err != nil {
		return err
	}
	if c.Hash != nil {
		if err := check(Hash, *c.Hash); err != nil {
			return err
		}
	}
	return nil
}

// Describe names Vault's address and the sources.
func (p *VaultProvider) Describe() string {
	s := "vault " + p.client.Address() + " (" + Tokenize + ": " + p.cfg.Tokenize.String()
	if p.cfg.Hash != nil {
		s += ", " + Hash + ": " + p.cfg.Hash.String()
	}
	return s + ")"
}

// String is Describe: printing the provider never shows its token.
func (p *VaultProvider) String() string { return "keys.VaultProvider{" + p.Describe() + "}" }

// GoString is String.
func (p *VaultProvider) GoString() string { return p.String() }

// Format makes every verb print String.
func (p *VaultProvider) Format(f fmt.State, _ rune) { fmt.Fprint(f, p.String()) }

// LogValue logs String.
func (p *VaultProvider) LogValue() slog.Value { return slog.StringValue(p.String()) }

// Close stops token renewal.
func (p *VaultProvider) Close() {
	p.stopOnce.Do(func() { close(p.stop) })
	<-p.done
}

// secretFrom reads a credential from a file or an environment variable.
func secretFrom(file, env, what string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("vault: %s file: %w", what, err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("vault: %s file %s is empty", what, file)
		}
		return s, nil
	}
	if s := strings.TrimSpace(os.Getenv(env)); s != "" {
		return s, nil
	}
	return "", fmt.Errorf("vault: no %s: set %s or give a file in the configuration", what, env)
}

// login authenticates with the configured method and records the token's
// lifetime.
func (p *VaultProvider) login(ctx context.Context) error {
	p.loginMu.Lock()
	defer p.loginMu.Unlock()
	a := p.cfg.Auth
	switch a.Method {
	case "", "token":
		tok, err := secretFrom(a.TokenFile, "VAULT_TOKEN", "token")
		if err != nil {
			return err
		}
		p.client.SetToken(tok)
		s, err := p.client.Auth().Token().LookupSelfWithContext(ctx)
		if err != nil {
			return p.explain("token lookup", "auth/token/lookup-self", err)
		}
		ttl, _ := s.TokenTTL()
		renewable, _ := s.TokenIsRenewable()
		p.ttl, p.renew = ttl, renewable
		return nil
	case "approle":
		roleID, err := secretFrom(a.RoleIDFile, "PGMANTLE_VAULT_ROLE_ID", "AppRole role_id")
		if err != nil {
			return err
		}
		secretID, err := secretFrom(a.SecretIDFile, "PGMANTLE_VAULT_SECRET_ID", "AppRole secret_id")
		if err != nil {
			return err
		}
		return p.loginWith(ctx, mountOr(a.Mount, "approle"), map[string]any{"role_id": roleID, "secret_id": secretID})
	case "kubernetes":
		jwtFile := a.JWTFile
		if jwtFile == "" {
			jwtFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"
		}
		jwt, err := secretFrom(jwtFile, "", "Kubernetes service account token")
		if err != nil {
			return err
		}
		if a.Role == "" {
			return errors.New("vault: auth.role is required for kubernetes auth")
		}
		return p.loginWith(ctx, mountOr(a.Mount, "kubernetes"), map[string]any{"role": a.Role, "jwt": jwt})
	}
	return fmt.Errorf("vault: unknown auth method %q", a.Method)
}

func mountOr(m, def string) string {
	if m = strings.Trim(m, "/"); m != "" {
		return m
	}
	return def
}

func (p *VaultProvider) loginWith(ctx context.Context, mount string, body map[string]any) error {
	path := "auth/" + mount + "/login"
	// The login goes through a clone without a token, so the current
	// token keeps serving until a new one has been issued.
	c, err := p.client.CloneWithHeaders() // keeps the namespace header
	if err != nil {
		return fmt.Errorf("vault login: %w", err)
	}
	c.ClearToken()
	s, err := c.Logical().WriteWithContext(ctx, path, body)
	if err != nil {
		return p.explain("login", path, err)
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return fmt.Errorf("vault: login at %s returned no token", path)
	}
	p.client.SetToken(s.Auth.ClientToken)
	p.ttl = time.Duration(s.Auth.LeaseDuration) * time.Second
	p.renew = s.Auth.Renewable
	p.logger.Info("vault login", "method", p.cfg.Auth.Method, "mount", mount, "ttl", p.ttl, "renewable", p.renew)
	return nil
}

// explain turns a Vault client error into one line naming the operation
// and path.
func (p *VaultProvider) explain(op, path string, err error) error {
	var re *vault.ResponseError
	if errors.As(err, &re) {
		switch re.StatusCode {
		case http.StatusForbidden:
			return fmt.Errorf("vault %s: %s: permission denied (check the token and the Vault policy)", op, path)
		case http.StatusNotFound:
			return fmt.Errorf("vault %s: %s: not found", op, path)
		case http.StatusBadRequest:
			return fmt.Errorf("vault %s: %s: rejected (%s)", op, path, strings.Join(re.Errors, "; "))
		}
		return fmt.Errorf("vault %s: %s: HTTP %d", op, path, re.StatusCode)
	}
	return fmt.Errorf("vault %s: %s: Vault at %s unreachable: %w", op, path, p.client.Address(), err)
}

// renewLoop renews the token at half its lifetime; when renewal fails or
// the token cannot be renewed, it logs in again (AppRole, Kubernetes).
func (p *VaultProvider) renewLoop() {
	defer close(p.done)
	for {
		p.loginMu.Lock()
		ttl := p.ttl
		p.loginMu.Unlock()
		wait := ttl / 2
		if ttl <= 0 {
			wait = time.Hour // a token without expiry: nothing to renew
		}
		wait = max(wait, time.Second)
		select {
		case <-p.stop:
			return
		case <-time.After(wait):
		}
		if ttl <= 0 {
			continue
		}
		if err := p.renewOnce(); err != nil {
			p.logger.Error("vault token renewal failed; cached keys keep serving", "err", err)
		}
	}
}

// renewOnce renews the token, or logs in again when Vault refuses the
// renewal (the token expired or reached its maximum TTL) or the token is
// not renewable (AppRole, Kubernetes). When Vault cannot be reached, the
// current token is kept as it is: it may well still be valid, and a login
// attempt would fail the same way (or, worse, spend a single-use
// secret_id whose answer is lost).
func (p *VaultProvider) renewOnce() error {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.Timeout)
	defer cancel()
	p.loginMu.Lock()
	renewable := p.renew
	p.loginMu.Unlock()
	tokenAuth := p.cfg.Auth.Method == "" || p.cfg.Auth.Method == "token"
	if renewable {
		s, err := p.client.Auth().Token().RenewSelfWithContext(ctx, 0)
		if err == nil && (s == nil || s.Auth == nil) {
			err = errors.New("empty renewal response")
		}
		if err == nil {
			ttl := time.Duration(s.Auth.LeaseDuration) * time.Second
			p.loginMu.Lock()
			p.ttl, p.renew = ttl, s.Auth.Renewable
			p.loginMu.Unlock()
			p.logger.Debug("vault token renewed", "ttl", ttl)
			return nil
		}
		var answered *vault.ResponseError
		if tokenAuth || !errors.As(err, &answered) {
			return p.explain("token renewal", "auth/token/renew-self", err)
		}
	}
	if tokenAuth {
		return nil // a non-renewable token: nothing pgmantle can do
	}
	lctx, lcancel := context.WithTimeout(context.Background(), p.cfg.Timeout)
	defer lcancel()
	return p.login(lctx)
}

// RenewNow renews (or re-logs in) immediately; for tests and operators.
func (p *VaultProvider) RenewNow() error { return p.renewOnce() }

// TokenTTL is the current token's lifetime as last reported by Vault.
func (p *VaultProvider) TokenTTL() time.Duration {
	p.loginMu.Lock()
	defer p.loginMu.Unlock()
	return p.ttl
}

// Fetch reads every configured ring. A permission error after the token
// expired triggers one new login (AppRole, Kubernetes) and a retry.
func (p *VaultProvider) Fetch(ctx context.Context) (map[string]*Ring, error) {
	rings, err := p.fetch(ctx)
	if err != nil && p.cfg.Auth.Method != "" && p.cfg.Auth.Method != "token" && strings.Contains(err.Error(), "permission denied") {
		if lerr := p.login(ctx); lerr == nil {
			return p.fetch(ctx)
		}
	}
	return rings, err
}

func (p *VaultProvider) fetch(ctx context.Context) (map[string]*Ring, error) {
	rings := map[string]*Ring{}
	sources := map[string]VaultSource{Tokenize: p.cfg.Tokenize}
	if p.cfg.Hash != nil {
		sources[Hash] = *p.cfg.Hash
	}
	for purpose, src := range sources {
		var raw map[int][]byte
		var err error
		if src.KV != "" {
			raw, err = p.readKV(ctx, src)
		} else {
			raw, err = p.readTransit(ctx, src)
		}
		if err != nil {
			return nil, err
		}
		r, err := NewRing(raw)
		if err != nil {
			return nil, fmt.Errorf("vault %s: %w", src, err)
		}
		rings[purpose] = r
	}
	return rings, nil
}

func splitMount(loc string) (mount, path string) {
	loc = strings.Trim(loc, "/")
	i := strings.IndexByte(loc, '/')
	return loc[:i], loc[i+1:]
}

// readKV reads every live version of a KV v2 secret.
func (p *VaultProvider) readKV(ctx context.Context, src VaultSource) (map[int][]byte, error) {
	mount, path := splitMount(src.KV)
	field := src.Field
	if field == "" {
		field = "key"
	}
	kv := p.client.KVv2(mount)
	live, err := p.liveKVVersions(ctx, mount, path)
	if err != nil {
		return nil, err
	}
	raw := map[int][]byte{}
	for _, version := range live {
		s, err := kv.GetVersion(ctx, path, version)
		if err != nil {
			return nil, p.explainKV("read key", fmt.Sprintf("%s/data/%s (version %d)", mount, path, version), err)
		}
		v, ok := s.Data[field].(string)
		if !ok {
			return nil, fmt.Errorf("vault kv %s version %d: no string field %q", src.KV, version, field)
		}
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("vault kv %s version %d: field %q is not base64", src.KV, version, field)
		}
		raw[version] = k
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("vault kv %s: no live versions", src.KV)
	}
	return raw, nil
}

// liveKVVersions reads a KV v2 secret's metadata and returns its live
// versions, ascending: neither destroyed nor deleted. A deletion_time in
// the future (delete_version_after) is a scheduled deletion, not a
// deletion. The response is parsed here, every type checked, because the
// Vault client's own helper panics on a malformed answer.
func (p *VaultProvider) liveKVVersions(ctx context.Context, mount, path string) ([]int, error) {
	where := mount + "/metadata/" + path
	versions, err := p.readObject(ctx, "read key versions", where, "versions", "", p.explainKV)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var live []int
	for vs, entry := range versions {
		v, ok := versionNumber(vs)
		if !ok {
			return nil, fmt.Errorf("vault read key versions: %s: version %q is not a positive number", where, vs)
		}
		e, ok := entry.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("vault read key versions: %s: version %d: unexpected response", where, v)
		}
		destroyed, ok := e["destroyed"].(bool)
		if !ok && e["destroyed"] != nil {
			return nil, fmt.Errorf("vault read key versions: %s: version %d: destroyed is not a boolean", where, v)
		}
		if _, err := kvTime(e["created_time"]); err != nil {
			return nil, fmt.Errorf("vault read key versions: %s: version %d: created_time %w", where, v, err)
		}
		deleted, err := kvTime(e["deletion_time"])
		if err != nil {
			return nil, fmt.Errorf("vault read key versions: %s: version %d: deletion_time %w", where, v, err)
		}
		if destroyed || (!deleted.IsZero() && !deleted.After(now)) {
			continue
		}
		live = append(live, v)
	}
	slices.Sort(live)
	return live, nil
}

// readObject reads path and returns the object in its data's field;
// errors name op and path (explain converts the client's errors, hint
// follows "not found").
func (p *VaultProvider) readObject(ctx context.Context, op, path, field, hint string, explain func(op, path string, err error) error) (map[string]any, error) {
	s, err := p.client.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return nil, explain(op, path, err)
	}
	if s == nil || s.Data == nil {
		return nil, fmt.Errorf("vault %s: %s: not found%s", op, path, hint)
	}
	obj, ok := s.Data[field].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("vault %s: %s: unexpected response (no %s object)", op, path, field)
	}
	return obj, nil
}

// versionNumber parses a key version as Vault writes it: a positive
// decimal number.
func versionNumber(s string) (int, bool) {
	v, err := strconv.Atoi(s)
	return v, err == nil && v >= 1 && strconv.Itoa(v) == s
}

// kvTime parses a KV metadata time: RFC 3339, or empty for none.
func kvTime(x any) (time.Time, error) {
	switch t := x.(type) {
	case nil:
		return time.Time{}, nil
	case string:
		if t == "" {
			return time.Time{}, nil
		}
		parsed, err := time.Parse(time.RFC3339Nano, t)
		if err != nil {
			return time.Time{}, errors.New("is not an RFC 3339 time")
		}
		return parsed, nil
	}
	return time.Time{}, errors.New("is not a string")
}

// explainKV handles the KV helper's errors, which wrap ResponseErrors or
// report a missing secret in words.
func (p *VaultProvider) explainKV(op, path string, err error) error {
	if errors.Is(err, vault.ErrSecretNotFound) || strings.Contains(err.Error(), "no secret found") || strings.Contains(err.Error(), "secret not found") {
		return fmt.Errorf("vault %s: %s: not found", op, path)
	}
	return p.explain(op, path, err)
}

// readTransit reads every version of an exportable Transit key.
func (p *VaultProvider) readTransit(ctx context.Context, src VaultSource) (map[int][]byte, error) {
	mount, name := splitMount(src.Transit)
	path := mount + "/export/encryption-key/" + name
	keys, err := p.readObject(ctx, "export key", path, "keys", " (is the key exportable?)", p.explain)
	if err != nil {
		return nil, err
	}
	raw := map[int][]byte{}
	for vs, kv := range keys {
		v, ok := versionNumber(vs)
		if !ok {
			return nil, fmt.Errorf("vault export key: %s: version %q is not a positive number", path, vs)
		}
		b64, ok := kv.(string)
		if !ok {
			return nil, fmt.Errorf("vault export key: %s: version %d is not a string", path, v)
		}
		k, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("vault export key: %s: version %d is not base64", path, v)
		}
		raw[v] = k
	}
	return raw, nil
}
