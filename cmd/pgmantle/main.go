// Command pgmantle is a transparent PII-masking proxy for PostgreSQL.
//
//	pgmantle serve --config FILE [--listen ADDR] [--upstream ADDR] [--log-level LEVEL] [--audit-file FILE] [--admin-listen ADDR]
//	pgmantle demo
//	pgmantle explain --config FILE --role ROLE "SQL"
//	pgmantle keys init FILE | keys rotate FILE
//	pgmantle detokenize --config FILE --class CLASS TOKEN...
//	pgmantle audit verify [--open] [--head SEQ:HASH] FILE...
//	pgmantle version
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

const usage = `pgmantle — a transparent PII-masking proxy for PostgreSQL

Usage:
  pgmantle serve --config FILE [flags]   run the proxy
  pgmantle demo                          start a throwaway PostgreSQL with pgmantle in front
  pgmantle explain --config FILE --role ROLE "SQL"
                                         show what pgmantle decides for a statement
  pgmantle keys init FILE                write a new local key file (insecure; demos)
  pgmantle keys rotate [--ring R] FILE   add a key version to a local key file
  pgmantle detokenize --config FILE --class CLASS [--key-version N] TOKEN...
                                         reverse tokens (needs access to the keys)
  pgmantle audit verify [--open] FILE... check an audit log's hash chain
  pgmantle audit report [--since T] [--until T] [--html] FILE...
                                         the compliance report of an audit log
  pgmantle policy check --config FILE [--rows N]
                                         validate a policy against the database; report its coverage
  pgmantle discover --dsn DSN [--rows N] [--budget D] [--out FILE]
                                         propose the classes of a policy from sampled data
  pgmantle version                       print the version

Run "pgmantle COMMAND -h" for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a command line and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serveCmd(args[1:], stderr)
	case "demo":
		err = demoCmd(args[1:], stdout, stderr)
	case "explain":
		err = explainCmd(args[1:], stdout, stderr)
	case "keys":
		err = keysCmd(args[1:], stdout, stderr)
	case "detokenize":
		err = detokenizeCmd(args[1:], stdout, stderr)
	case "audit":
		err = auditCmd(args[1:], stdout, stderr)
	case "discover":
		err = discoverCmd(args[1:], stdout, stderr)
	case "policy":
		err = policyCmd(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "pgmantle %s\n", version())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "pgmantle: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, errRefused):
		return 1
	case errors.Is(err, errIncomplete):
		return 3 // said on stderr already
	}
	fmt.Fprintf(stderr, "pgmantle: %v\n", err)
	return 1
}

var errUsage = errors.New("usage")
