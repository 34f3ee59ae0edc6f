// Package config loads pgmantle's YAML configuration file.
//
// Decoding is strict: an unknown key is an error naming the file and line,
// and Validate reports semantic errors (bad addresses, missing certificate
// files, contradictory TLS settings) with the line of the offending key.
// The package only describes settings; it opens no sockets and reads no
// certificate contents — the proxy does that when it starts.
package config

import (
	"time"

	"github.com/pgmantle/pgmantle/keys"
)

// Config is the whole configuration file. Every field documents its default;
// Default returns a Config with those defaults filled in.
type Config struct {
	// Listen is the client-facing TCP address. Default "127.0.0.1:6432".
	Listen string `yaml:"listen"`
	// Upstream describes the PostgreSQL server pgmantle relays to.
	Upstream Upstream `yaml:"upstream"`
	// TLS configures TLS towards clients.
	TLS ClientTLS `yaml:"tls"`
	// Limits bounds what a client may do before and during a session.
	Limits Limits `yaml:"limits"`
	// Log configures pgmantle's own log (never query values or passwords).
	Log Log `yaml:"log"`
	// Policy names the masking policy. Without one, every session is
	// relayed unchanged.
	Policy Policy `yaml:"policy"`
	// Catalog is pgmantle's own connection for reading the catalog.
	Catalog Catalog `yaml:"catalog"`
	// Keys configures where the keys of the tokenize and hash actions come
	// from: Vault, or a local key file (insecure, for demos).
	Keys Keys `yaml:"keys"`
	// Audit configures the audit log. Without a sink, nothing is audited.
	Audit Audit `yaml:"audit"`
	// Admin configures the admin listener (metrics, health).
	Admin Admin `yaml:"admin"`

	src *source // where the values came from, for error positions
}

// Upstream is the PostgreSQL server behind pgmantle.
type Upstream struct {
	// Address is host:port of PostgreSQL. Default "127.0.0.1:5432".
	Address string `yaml:"address"`
	// ConnectTimeout bounds dialing and the TLS handshake. Default 10s.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// TLS configures the upstream connection.
	TLS UpstreamTLS `yaml:"tls"`
}

// Upstream TLS modes, with libpq's meaning of the same sslmode names.
const (
	UpstreamTLSDisable    = "disable"     // plaintext
	UpstreamTLSRequire    = "require"     // encrypted, server certificate not verified
	UpstreamTLSVerifyFull = "verify-full" // encrypted, certificate chain and host name verified
)

// UpstreamTLS configures TLS from pgmantle to PostgreSQL.
type UpstreamTLS struct {
	// Mode is disable, require or verify-full. Default disable.
	Mode string `yaml:"mode"`
	// CAFile is a PEM bundle of CAs trusted for verify-full. Empty means the
	// system roots.
	CAFile string `yaml:"ca_file"`
	// ServerName overrides the host name checked by verify-full. Default: the
	// host part of Upstream.Address.
	ServerName string `yaml:"server_name"`
}

// Client TLS modes.
const (
	ClientTLSDisable = "disable" // answer N to SSLRequest: plaintext only
	ClientTLSAllow   = "allow"   // TLS when the client asks for it, plaintext otherwise
	ClientTLSRequire = "require" // refuse clients that do not ask for TLS
)

// Client certificate modes.
const (
	ClientAuthNone   = "none"   // client certificates are not requested
	ClientAuthVerify = "verify" // a certificate is required, must verify, and its CN must match the user
)

// ClientTLS configures TLS termination towards clients.
type ClientTLS struct {
	// Mode is disable, allow or require. Default disable when no certificate
	// is configured, allow when one is.
	Mode string `yaml:"mode"`
	// CertFile and KeyFile are the PEM certificate and key pgmantle presents.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ClientAuth is none or verify. verify needs Mode require and ClientCAFile.
	// Default none.
	ClientAuth string `yaml:"client_auth"`
	// ClientCAFile is the PEM bundle of CAs that sign client certificates.
	ClientCAFile string `yaml:"client_ca_file"`
	// CNMap maps a certificate common name to the database user it may log in
	// as, for certificates whose CN is not the user name itself. A CN absent
	// from the map must equal the startup user.
	CNMap map[string]string `yaml:"cn_map"`
}

// Limits bounds client behaviour.
type Limits struct {
	// StartupTimeout bounds the time from accept to the end of authentication.
	// Default 15s.
	StartupTimeout time.Duration `yaml:"startup_timeout"`
	// MaxMessageSize is the largest message body a client may send, in bytes
	// (suffixes kB, MB, GB allowed). Default 64MB; PostgreSQL's own limit is 1GB.
	MaxMessageSize ByteSize `yaml:"max_message_size"`
	// ShutdownTimeout is how long SIGTERM waits for sessions to finish before
	// closing them. Default 30s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// Log configures pgmantle's log.
type Log struct {
	// Level is debug, info, warn or error. Default info.
	Level string `yaml:"level"`
	// Format is text or json. Default text.
	Format string `yaml:"format"`
}

// Policy configures the masking policy.
type Policy struct {
	// File is the policy YAML. Empty: no policy, nothing is masked.
	File string `yaml:"file"`
	// WatchInterval is how often the file is checked for changes (it is
	// also reloaded on SIGHUP). Default 2s; 0 disables watching.
	WatchInterval time.Duration `yaml:"watch_interval"`
}

// Catalog configures pgmantle's catalog connection.
type Catalog struct {
	// DSN is a connection string with pgmantle's own credentials (never a
	// client's); its database is replaced by each session's. Required with
	// a policy. The policy is validated against this DSN's database.
	DSN string `yaml:"dsn"`
	// RefreshInterval is how often snapshots are reloaded in the
	// background. Default 5m.
	RefreshInterval time.Duration `yaml:"refresh_interval"`
	// CheckInterval is how often each database's catalog is asked whether
	// it changed (a change reloads the snapshot at once). Default 1s.
	CheckInterval time.Duration `yaml:"check_interval"`
	// MaxStale is how long a snapshot may go unconfirmed by a check or a
	// load before restricted statements ask for a check themselves and
	// are refused if it fails. Default (0): 5 × CheckInterval.
	MaxStale time.Duration `yaml:"max_stale"`
}

// Keys configures the key source.
type Keys struct {
	// File is a local key file (pgmantle keys init FILE). Insecure: the
	// keys sit unencrypted on disk. Exclusive with Vault.
	File string `yaml:"file"`
	// Vault reads the keys from HashiCorp Vault (README, "Keys").
	Vault *keys.VaultConfig `yaml:"vault"`
	// RefreshInterval is how often keys are re-read (new versions after a
	// rotation; recovery after an outage). Default 1m.
	RefreshInterval time.Duration `yaml:"refresh_interval"`
}

// Audit sinks.
const (
	AuditSinkNone     = "none"     // no audit log
	AuditSinkFile     = "file"     // JSON Lines in File, rotated
	AuditSinkStdout   = "stdout"   // JSON Lines on standard output
	AuditSinkPostgres = "postgres" // rows of a PostgreSQL table, on a connection of pgmantle's own
)

// Audit configures the audit log (README, "Audit log").
type Audit struct {
	// Sink is none, file, stdout or postgres. Default file when File is
	// set, none otherwise.
	Sink string `yaml:"sink"`
	// Postgres is the table of the postgres sink.
	Postgres AuditPostgres `yaml:"postgres"`
	// File is the audit log's path (the active file; rotated files get a
	// time suffix).
	File string `yaml:"file"`
	// Sync is interval (default: records are synced every SyncInterval)
	// or always (a statement's answer waits until its record is synced).
	Sync         string        `yaml:"sync"`
	SyncInterval time.Duration `yaml:"sync_interval"`
	// OnFailure is refuse (default: statements are refused while the sink
	// cannot be written) or continue (they go on, logged loudly).
	OnFailure string `yaml:"on_failure"`
	// QueueSize bounds the records waiting to be written. Default 8192.
	QueueSize int `yaml:"queue_size"`
	// HMAC chains records with HMAC-SHA256 under an audit key derived
	// from the key source (keys.vault or keys.file) instead of plain
	// SHA-256, so that whoever edits the log cannot recompute the chain
	// without the key.
	HMAC bool `yaml:"hmac"`
	// RotateSize and RotateInterval start a new file when the active one
	// reaches this size or age (0: never). Default 100MB and 24h.
	RotateSize     ByteSize      `yaml:"rotate_size"`
	RotateInterval time.Duration `yaml:"rotate_interval"`
}

// AuditPostgres is where the postgres sink writes.
type AuditPostgres struct {
	// DSN is a connection string with credentials of pgmantle's own; it
	// should reach PostgreSQL directly (or another server), not pgmantle.
	DSN string `yaml:"dsn"`
	// Table is name or schema.name, created if missing. Default
	// pgmantle_audit.
	Table string `yaml:"table"`
}

// Admin configures the admin HTTP listener.
type Admin struct {
	// Listen is the address of /metrics, /healthz and /readyz. Empty: no
	// admin listener.
	Listen string `yaml:"listen"`
}

// Default returns the configuration used when no file sets a value.
func Default() Config {
	return Config{
		Listen: "127.0.0.1:6432",
		Upstream: Upstream{
			Address:        "127.0.0.1:5432",
			ConnectTimeout: 10 * time.Second,
			TLS:            UpstreamTLS{Mode: UpstreamTLSDisable},
		},
		TLS: ClientTLS{ClientAuth: ClientAuthNone},
		Limits: Limits{
			StartupTimeout:  15 * time.Second,
			MaxMessageSize:  64 << 20,
			ShutdownTimeout: 30 * time.Second,
		},
		Log:     Log{Level: "info", Format: "text"},
		Policy:  Policy{WatchInterval: 2 * time.Second},
		Catalog: Catalog{RefreshInterval: 5 * time.Minute, CheckInterval: time.Second},
		Keys:    Keys{RefreshInterval: time.Minute},
		Audit: Audit{Postgres: AuditPostgres{Table: "pgmantle_audit"}, Sync: "interval", SyncInterval: time.Second, OnFailure: "refuse", QueueSize: 8192,
			RotateSize: 100 << 20, RotateInterval: 24 * time.Hour},
	}
}
