// Package bookkeeping embeds the example of a Shanghai bookkeeping firm's
// database — its schema, roles and masking policy — for tests and the demo.
// It holds no code beyond that; the files beside it are the example.
package bookkeeping

import _ "embed"

// Schema creates the bk schema: client companies, contacts, bank accounts,
// payroll and a view.
//
//go:embed schema.sql
var Schema string

// Policy is the example policy (policy.yaml).
//
//go:embed policy.yaml
var Policy string

// Roles are the database roles the policy names.
var Roles = []string{"bookkeeper", "analyst", "auditor", "intern"}
