// Command soak runs pgmantle's soak (internal/soak) and writes its report:
//
//	go run ./bench/soak [-duration 10m] [-clients 50] [-analysts 15] [-out bench/results/soak-DATE.md]
//
// It exits 1 if the run found an unexpected error, a statement without
// its audit record (or a record too many), a broken audit chain, or
// memory that kept growing.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/pgmantle/pgmantle/internal/soak"
)

func main() {
	duration := flag.Duration("duration", 10*time.Minute, "how long the clients run")
	clients := flag.Int("clients", 50, "clients in all")
	analysts := flag.Int("analysts", 15, "of which restricted (analysts and auditors)")
	out := flag.String("out", "bench/results/soak-"+time.Now().UTC().Format("20060102-150405")+".md", "report file (empty: stdout only)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := soak.Run(ctx, soak.Options{Duration: *duration, Clients: *clients, Analysts: *analysts, Sizes: soak.SmallSizes,
		Logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	report := res.Markdown() + fmt.Sprintf("\n\nCommand: `go run ./bench/soak -duration %v -clients %d -analysts %d`\n", *duration, *clients, *analysts)
	fmt.Println(report)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(report), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if res.Unexpected != 0 || res.AuditRecords != res.Sent || !res.AuditVerified || !res.Flat() {
		os.Exit(1)
	}
}
