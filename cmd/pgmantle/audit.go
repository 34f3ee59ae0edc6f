package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: pgmantle audit verify [--open] FILE... (the active file and its rotated files, in any order)")
		return errUsage
	}
	s, err := audit.Verify(fs.Args(), *open)
	var broken *audit.Broken
	if errors.As(err, &broken) {
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
	if !s.Closed {
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
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
	r, err := audit.BuildReport(fs.Args(), since, until)
	if err != nil {
		return err
	}
	switch s, err := audit.Verify(fs.Args(), true); {
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
