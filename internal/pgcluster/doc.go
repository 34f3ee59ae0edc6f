// Package pgcluster starts and stops throwaway PostgreSQL clusters for
// tests, benchmarks and `pgmantle demo`.
//
// Start runs initdb into a fresh temporary directory, writes
// postgresql.conf settings and a generated pg_hba.conf, optionally enables
// TLS with a certificate from a generated CA, and starts the server with
// pg_ctl on a free loopback port. The cluster listens only on 127.0.0.1
// and keeps its Unix socket inside its own directory, so it never collides
// with a system cluster. CreateRole adds login roles whose pg_hba.conf line
// selects a given authentication method; Exec runs SQL as the superuser;
// Restart and Stop control the server.
//
// The cluster is for trusted machines only: any local user may connect as
// the superuser over loopback or the cluster's socket without a password.
//
// When the process runs as root, initdb, pg_ctl and the server run as the
// OS user "postgres", which must exist.
//
// It stops at managing one local disposable cluster: no replication,
// upgrades, persistent data, remote hosts or tuning beyond the settings
// passed in Options. Everything is removed by Stop.
package pgcluster
