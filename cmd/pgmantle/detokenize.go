package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/pgmantle/pgmantle/masking"
	"github.com/pgmantle/pgmantle/policy"
)

// detokenizeCmd reverses tokens for an authorised operator, who needs
// access to the keys (Vault credentials, or the key file):
//
//	pgmantle detokenize --config FILE --class CLASS [--key-version N] TOKEN...
//
// Without --key-version it uses the version the policy tokenizes with
// (keys.tokenize_version, else the newest). Any version still in Vault
// works: tokens shown before a rotation are reversed with their version.
// It prints one value per line and logs (without values) what it did.
func detokenizeCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("detokenize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgFile := fs.String("config", "", "configuration `FILE` (YAML): keys and policy.file")
	keysFile := fs.String("keys-file", "", "local key `FILE` (overrides keys in the configuration)")
	class := fs.String("class", "", "the data `CLASS` the tokens belong to (required)")
	version := fs.Int("key-version", 0, "the key `VERSION` the tokens were made with (default: the policy's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *class == "" || fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: pgmantle detokenize --config FILE --class CLASS [--key-version N] TOKEN...")
		return errUsage
	}
	cfg, err := loadConfig(*cfgFile, overrides{keysFile: *keysFile})
	if err != nil {
		return err
	}
	logger := newLogger(cfg.Log, stderr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	km, err := openKeys(ctx, cfg, logger)
	if err != nil {
		return err
	}
	if km == nil {
		return errors.New("detokenize needs keys: set keys.vault or keys.file in the configuration, or --keys-file")
	}
	defer km.Close()
	v := *version
	if v == 0 && cfg.Policy.File != "" {
		pol, err := policy.Load(cfg.Policy.File)
		if err != nil {
			return err
		}
		v = pol.TokenKeyVersion
	}
	set, err := km.Set(v)
	if err != nil {
		return err
	}
	t, err := masking.NewTokenizer(*class, masking.Options{}, set)
	if err != nil {
		return err
	}
	if !t.Reversible() {
		return fmt.Errorf("tokens of class %s are one-way pseudonyms and cannot be reversed", *class)
	}
	failed := 0
	for i, tok := range fs.Args() {
		out, err := t.Detokenize(nil, []byte(tok))
		if err != nil {
			fmt.Fprintf(stderr, "pgmantle: token %d is not a token of class %s that can be reversed\n", i+1, *class)
			fmt.Fprintln(stdout)
			failed++
			continue
		}
		fmt.Fprintf(stdout, "%s\n", out)
	}
	logger.Info("detokenized", "class", *class, "key_version", set.TokenVersion(), "tokens", fs.NArg(), "failed", failed)
	if failed > 0 {
		return errRefused
	}
	return nil
}
