// Package certs generates throwaway PKI for tests and demos: a self-signed
// ECDSA P-256 certificate authority, leaf certificates it signs for servers
// or clients, and PEM files on disk in a form OpenSSL (and so PostgreSQL)
// accepts.
//
// It stops there. It does not manage trust stores, revocation, rotation or
// file ownership (callers such as pgcluster chown files for the server
// user), and its output is not meant for production use.
package certs
