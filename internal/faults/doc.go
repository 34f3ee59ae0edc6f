// Package faults holds the fault tests: the real pgmantle binary in front
// of a throwaway PostgreSQL (and a real Vault), with the failures that
// happen in production injected — PostgreSQL restarted in the middle of a
// query and of a COPY, Vault stopped and restarted, clients vanishing in
// the middle of a result, clients too slow to read, a thousand idle
// sessions — and the behaviour docs/faults.md documents asserted for
// each. The audit sink failing is tested with the audit log
// (cmd/pgmantle, TestAuditDiskFullFailsClosed). The package has no code
// of its own: it stops at the tests.
package faults
