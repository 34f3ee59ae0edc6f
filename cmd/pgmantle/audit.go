package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/pgmantle/pgmantle/audit"
)

// auditCmd runs `pgmantle audit verify|report`.
func auditCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: pgmantle audit verify [--open] FILE...\n       pgmantle audit report [--since T] [--until T] [--html] FILE...")
		return errUsage
	}
	switch args[0] {
	case "verify":
		return auditVerifyCmd(args[1:], stdout, stderr)
	case "report":
		return auditReportCmd(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "pgmantle audit: unknown subcommand %q\n", args[0])
	return errUsage
}

// auditVerifyCmd checks the hash chain of audit files and names the first
// broken record.
func auditVerifyCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	open := fs.Bool("open", false, "accept a log that does not end with a close record (pgmantle is still writing it)")
	head := fs.String("head", "", "a chain head pgmantle logged (\"audit chain head\" seq and hash), as `SEQ:HASH`: the log must hold that record unchanged")
	kf := keyFlags(fs)
	src := tableFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts, closeKeys, err := kf.options(*open, stderr)
	if err != nil {
		return err
	}
	defer closeKeys()
	files, cleanup, err := src.files(fs.Args())
	if err != nil {
		return err
	}
	defer cleanup()
	opts.Live = src.live
	if *head != "" {
		if opts.Head, err = audit.ParseHead(*head); err != nil {
			fmt.Fprintf(stderr, "pgmantle audit verify: --head: %v\n", err)
			return errUsage
		}
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "usage: pgmantle audit verify [--open] FILE... (the active file and its rotated files, in any order)\n       pgmantle audit verify [--open] --dsn DSN [--table TABLE]")
		return errUsage
	}
	s, err := audit.VerifyWith(files, opts)
	var broken *audit.Broken
	if errors.As(err, &broken) {
		if src.dsn != "" {
			broken.File = "table " + src.table
		}
		fmt.Fprintf(stdout, "BROKEN: %v\n", broken)
		if s.Records > 0 {
			fmt.Fprintf(stdout, "%d records before it verified (records %d to %d)\n", s.Records, s.First, s.Last)
		}
		return errRefused
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "OK: %d records verified (records %d to %d)", s.Records, s.First, s.Last)
	if s.Keyed > 0 {
		fmt.Fprintf(stdout, "; %d runs chained with HMAC-SHA256 under the audit key", s.Keyed)
	}
	if s.Restarts > 0 {
		fmt.Fprintf(stdout, "; %d restarts continue the chain", s.Restarts)
		if s.Recovered > 0 {
			fmt.Fprintf(stdout, " (%d after an interrupted run)", s.Recovered)
		}
	}
	fmt.Fprintln(stdout)
	if !s.Anchored {
		fmt.Fprintf(stdout, "note: the chain starts at record %d; records before it are in files not given (rotated away)\n", s.First)
	}
	switch {
	case s.Live:
		fmt.Fprintln(stdout, "note: pgmantle is writing this log (it holds the file's lock): no close record yet, and the newest records may still be queued")
	case !s.Closed:
		fmt.Fprintln(stdout, "note: the log does not end with a close record (accepted with --open)")
	}
	return nil
}

// auditReportCmd prints the compliance report of audit files.
func auditReportCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sinceS := fs.String("since", "", "first `TIME` to include (RFC 3339, or YYYY-MM-DD, or YYYY-MM-DD HH:MM, UTC)")
	untilS := fs.String("until", "", "`TIME` to stop before (same forms)")
	asHTML := fs.Bool("html", false, "write a self-contained HTML page with a chart instead of Markdown")
	kf := keyFlags(fs)
	src := tableFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts, closeKeys, err := kf.options(true, stderr)
	if err != nil {
		return err
	}
	defer closeKeys()
	files, cleanup, err := src.files(fs.Args())
	if err != nil {
		return err
	}
	defer cleanup()
	if len(files) == 0 {
		fmt.Fprintln(stderr, "usage: pgmantle audit report [--since T] [--until T] [--html] FILE...")
		return errUsage
	}
	since, err := parseReportTime(*sinceS)
	if err != nil {
		return fmt.Errorf("--since: %w", err)
	}
	until, err := parseReportTime(*untilS)
	if err != nil {
		return fmt.Errorf("--until: %w", err)
	}
	r, err := audit.BuildReport(files, since, until)
	if err != nil {
		return err
	}
	opts.Live = src.live
	switch s, err := audit.VerifyWith(files, opts); {
	case err == nil:
		r.Chain = fmt.Sprintf("intact (%d records verified)", s.Records)
	default:
		r.Chain = "NOT INTACT: " + err.Error()
	}
	if *asHTML {
		r.HTML(stdout)
	} else {
		r.Markdown(stdout)
	}
	return nil
}

// parseReportTime reads a --since or --until value ("" is no bound).
func parseReportTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (use RFC 3339, YYYY-MM-DD or YYYY-MM-DD HH:MM)", s)
}

// tableSource is an audit table named on the command line (--dsn), read
// in place of files.
type tableSource struct {
	dsn, table string
	live       bool // a pgmantle is writing the table
}

func tableFlags(fs *flag.FlagSet) *tableSource {
	src := &tableSource{}
	fs.StringVar(&src.dsn, "dsn", "", "read the audit table of the postgres sink at `DSN` instead of files")
	fs.StringVar(&src.table, "table", "pgmantle_audit", "the audit `TABLE` (with --dsn)")
	return src
}

// files returns the files to read: the arguments, or the table exported
// to a temporary file.
func (src *tableSource) files(args []string) ([]string, func(), error) {
	if src.dsn == "" {
		return args, func() {}, nil
	}
	if len(args) > 0 {
		return nil, nil, fmt.Errorf("give files or --dsn, not both")
	}
	f, err := os.CreateTemp("", "pgmantle-audit-*.jsonl")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { os.Remove(f.Name()) }
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	src.live, err = audit.ExportPostgres(ctx, src.dsn, src.table, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return []string{f.Name()}, cleanup, nil
}

// verifyKeys are the flags that give verify the audit keys of
// HMAC-chained runs.
type verifyKeys struct {
	cfgFile, keysFile string
	requireHMAC       bool
}

func keyFlags(fs *flag.FlagSet) *verifyKeys {
	k := &verifyKeys{}
	fs.StringVar(&k.cfgFile, "config", "", "configuration `FILE` whose keys verify HMAC-chained runs (its audit.hmac: true also requires them)")
	fs.StringVar(&k.keysFile, "keys-file", "", "local key `FILE` whose keys verify HMAC-chained runs")
	fs.BoolVar(&k.requireHMAC, "require-hmac", false, "fail on runs chained with plain SHA-256")
	return k
}

// options opens the key source, if one is named, and returns the verify
// options with a function to close it.
func (k *verifyKeys) options(open bool, stderr io.Writer) (audit.VerifyOptions, func(), error) {
	opts := audit.VerifyOptions{Open: open, RequireKeyed: k.requireHMAC}
	if k.cfgFile == "" && k.keysFile == "" {
		return opts, func() {}, nil
	}
	cfg, err := loadConfig(k.cfgFile, overrides{keysFile: k.keysFile})
	if err != nil {
		return opts, nil, err
	}
	km, err := openKeys(context.Background(), cfg, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return opts, nil, err
	}
	if km == nil {
		return opts, nil, fmt.Errorf("%s configures no keys", k.cfgFile)
	}
	opts.Key = func(v int) ([]byte, error) {
		_, key, err := km.AuditKey(v)
		return key, err
	}
	opts.RequireKeyed = opts.RequireKeyed || cfg.Audit.HMAC
	return opts, km.Close, nil
}
