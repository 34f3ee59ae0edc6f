// Package policy is pgmantle's model of who may see what: a YAML file that
// tags columns with data classes and gives each PostgreSQL role an action
// per class (clear, mask, tokenize, hash, deny).
//
// It parses and validates the file (strictly: every problem is reported
// with file:line, not only the first), checks it against a catalog
// snapshot (columns exist, masks fit the column types, roles exist), and
// resolves a session's role — with its group memberships — to the rules
// that apply. It decides nothing about SQL (package parser) and transforms
// no values (package masking); it only says which action applies to which
// column for which role.
package policy
