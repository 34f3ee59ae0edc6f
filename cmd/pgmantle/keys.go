package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/pgmantle/pgmantle/internal/config"
	"github.com/pgmantle/pgmantle/keys"
)

// keysCmd manages a local key file (insecure; for demos and trials):
//
//	pgmantle keys init FILE                  a new file, version 1 of each ring
//	pgmantle keys rotate [--ring R] FILE     add a version (tokenize by default)
func keysCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: pgmantle keys init FILE | pgmantle keys rotate [--ring tokenize|hash] FILE")
		return errUsage
	}
	switch args[0] {
	case "init":
		if len(args) != 2 {
			fmt.Fprintln(stderr, "usage: pgmantle keys init FILE")
			return errUsage
		}
		if err := keys.InitFile(args[1]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (mode 0600): tokenize and hash keys, version 1.\n", args[1])
		fmt.Fprintln(stdout, "INSECURE: the keys are unencrypted on disk; use it for demos and trials, and Vault for real data.")
		fmt.Fprintf(stdout, "Use it with: pgmantle serve --config FILE --keys-file %s\n", args[1])
		return nil
	case "rotate":
		fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
		fs.SetOutput(stderr)
		ring := fs.String("ring", keys.Tokenize, "the key `RING` to rotate: tokenize or hash")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "usage: pgmantle keys rotate [--ring tokenize|hash] FILE")
			return errUsage
		}
		v, err := keys.RotateFile(fs.Arg(0), *ring)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added %s key version %d to %s; a running pgmantle picks it up at its next key refresh.\n", *ring, v, fs.Arg(0))
		return nil
	}
	fmt.Fprintf(stderr, "pgmantle keys: unknown subcommand %q (want init or rotate)\n", args[0])
	return errUsage
}

// openKeys starts the configured key source, or returns nil when none is
// configured. Vault errors name the address and path, never a key.
func openKeys(ctx context.Context, cfg config.Config, logger *slog.Logger) (*keys.Manager, error) {
	var p keys.Provider
	var err error
	switch {
	case cfg.Keys.Vault != nil:
		p, err = keys.NewVaultProvider(ctx, *cfg.Keys.Vault, logger)
	case cfg.Keys.File != "":
		p, err = keys.NewFileProvider(cfg.Keys.File, logger)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, err := keys.NewManager(ctx, p, logger)
	if err != nil {
		p.Close()
		return nil, err
	}
	return m, nil
}
