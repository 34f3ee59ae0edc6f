// Package keys holds pgmantle's key material: it fetches versioned keys
// from a Provider (HashiCorp Vault, or an insecure local file for demos),
// keeps them only in memory, refreshes them in the background and hands
// the masking layer per-class keys for the tokenize and hash actions.
//
// Two key rings exist, named by purpose: "tokenize" (FF1 tokens, which
// pgmantle can reverse for search by token) and "hash" (one-way HMAC
// pseudonyms). Each ring has numbered versions; a class's key is derived
// from a ring version with HKDF-SHA256 (info "pgmantle/<purpose>/<class>"),
// so one Vault secret serves every class while tokens of different
// classes never coincide. Without a "hash" ring, hash keys are derived
// from the newest "tokenize" version under their own label.
//
// Rotation: a new version in Vault (a new KV v2 version of the secret, or
// a rotated Transit key) is picked up by the next refresh. Which version
// tokenizes is the policy's choice (keys.tokenize_version; default the
// newest); every older version stays available to `pgmantle detokenize`
// for as long as Vault keeps it.
//
// Key bytes never appear in logs, errors or printed values: Ring, Set and
// Manager print version numbers only.
//
// Where it stops: the package does not know masks or tokens (package
// masking) nor decide who sees what (package policy).
package keys
