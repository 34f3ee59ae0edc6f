#!/usr/bin/env bash
# vault-patches.sh SRC: the one-line adaptations Vault v1.21.4 needs to
# build against the published github.com/hashicorp/vault/sdk v0.21.0,
# whose logical.Backend.ActivationFunc takes an extra string argument.
# Each edit must apply exactly once; anything else stops the build.
set -euo pipefail
cd "$1"
patch_line() { # file, old, new
	local n
	n=$(grep -cF -- "$2" "$1" || true)
	if [[ "$n" != 1 ]]; then
		echo "vault-patches: expected one '$2' in $1, found $n" >&2
		exit 1
	fi
	OLD="$2" NEW="$3" perl -0pi -e 's/\Q$ENV{OLD}\E/$ENV{NEW}/' "$1"
}
patch_line vault/identity_store.go \
	'ActivationFunc: iStore.activateDeduplication,' \
	'ActivationFunc: func(ctx context.Context, req *logical.Request, _ string) error { return iStore.activateDeduplication(ctx, req) },'
patch_line vault/logical_system_activation_flags.go \
	'b.idStoreBackend.ActivationFunc(ctx, nil)' \
	'b.idStoreBackend.ActivationFunc(ctx, nil, "")'
# the published sdk's RestorePolicy returns only an error (the restored
# name is the requested one).
patch_line builtin/logical/transit/path_restore.go \
	'restoredKeyName, err := b.lm.RestorePolicy(ctx, req.Storage, keyName, backupB64, force)' \
	'restoredKeyName, err := keyName, b.lm.RestorePolicy(ctx, req.Storage, keyName, backupB64, force)'
