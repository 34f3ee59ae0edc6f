package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
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
	v, err := checkTokenClass(cfg.Policy.File, *class, *version, logger)
	if err != nil {
		return err
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

// checkTokenClass refuses a class the configured policy does not tokenize
// (a typo, or a class shown masked or hashed, would reverse a token into a
// well-formed wrong value) and returns the key version to use: the given
// one, else the policy's. Without a policy the class cannot be checked,
// and the operator is warned.
func checkTokenClass(policyFile, class string, version int, logger *slog.Logger) (int, error) {
	if policyFile == "" {
		logger.Warn("no policy configured: the class cannot be checked; a token reversed under the wrong class gives a wrong value", "class", class)
		return version, nil
	}
	pol, err := policy.Load(policyFile)
	if err != nil {
		return 0, err
	}
	tokenized := pol.TokenizedClasses()
	if !slices.Contains(tokenized, class) {
		if len(tokenized) == 0 {
			return 0, fmt.Errorf("class %q: policy %s tokenizes no class", class, policyFile)
		}
		return 0, fmt.Errorf("class %q is not a class policy %s tokenizes (it tokenizes: %s)", class, policyFile, strings.Join(tokenized, ", "))
	}
	if version == 0 {
		version = pol.TokenKeyVersion
	}
	return version, nil
}
