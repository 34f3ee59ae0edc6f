// Command idle holds many idle PostgreSQL sessions open, so that a proxy's
// memory per idle session can be read from its /proc/PID/status
// (bench/compare.sh does that). It opens -n connections to -addr (each a
// full startup and authentication, ending at ReadyForQuery), prints
// "ready N" on stdout once all of them are established, and then sends
// nothing more until it receives SIGINT or SIGTERM (or, with -stdin, until
// its standard input is closed); then it checks that no session was closed
// by the server while idle, closes them and exits. On SIGUSR1 it runs
// SELECT 1 once on every session and prints "queried N" (sessions that
// have run a statement, then idle).
//
// With -probe it measures a server's startup instead: it connects and
// runs SELECT 1 over and over (every millisecond) until that works, and
// prints the milliseconds since -since (a Unix time in seconds with a
// fraction, as bash's $EPOCHREALTIME gives it, taken just before the
// server was launched).
//
//	idle -addr 127.0.0.1:6432 -user postgres -n 1000
//	idle -probe -addr 127.0.0.1:6432 -user postgres -since "$EPOCHREALTIME"
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6432", "server `HOST:PORT`")
	user := flag.String("user", "postgres", "role to log in as")
	password := flag.String("password", "", "password (if the server asks for one)")
	db := flag.String("db", "postgres", "database")
	n := flag.Int("n", 1000, "sessions to open and hold")
	parallel := flag.Int("parallel", 8, "connections opened at the same time")
	timeout := flag.Duration("timeout", 30*time.Second, "per connection (or, with -probe, in all)")
	stdin := flag.Bool("stdin", false, "also exit when standard input is closed")
	probe := flag.Bool("probe", false, "measure startup: poll until SELECT 1 works, print ms since -since")
	since := flag.String("since", "", "with -probe: Unix time (seconds.fraction) the server was launched; default now")
	flag.Parse()

	u := url.URL{Scheme: "postgres", Host: *addr, Path: "/" + *db, RawQuery: "sslmode=disable"}
	if *password != "" {
		u.User = url.UserPassword(*user, *password)
	} else {
		u.User = url.User(*user)
	}
	cfg, err := pgconn.ParseConfig(u.String())
	if err != nil {
		fail(err)
	}
	cfg.ConnectTimeout = *timeout
	if *probe {
		err = runProbe(cfg, *since, *timeout)
	} else {
		err = hold(cfg, *n, *parallel, *stdin)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "idle:", err)
	os.Exit(1)
}

// runProbe polls until a session answers SELECT 1, then prints the
// milliseconds since the launch time.
func runProbe(cfg *pgconn.Config, since string, timeout time.Duration) error {
	start := time.Now()
	if since != "" {
		// $EPOCHREALTIME uses the locale's decimal separator.
		f, err := strconv.ParseFloat(strings.Replace(since, ",", ".", 1), 64)
		if err != nil {
			return fmt.Errorf("-since %q: %w", since, err)
		}
		start = time.Unix(0, int64(f*1e9))
	}
	var last error
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if last = selectOne(cfg); last == nil {
			fmt.Printf("%.1f\n", float64(time.Since(start).Microseconds())/1000)
			return nil
		}
	}
	return fmt.Errorf("no answer to SELECT 1 within %v; last error: %w", timeout, last)
}

func selectOne(cfg *pgconn.Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, "SELECT 1").ReadAll()
	return err
}

// queryAll runs SELECT 1 once on every session, parallel at a time.
func queryAll(stop context.Context, conns []*pgconn.PgConn, parallel int) error {
	var (
		next atomic.Int64
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for range min(parallel, len(conns)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(conns) || stop.Err() != nil {
					return
				}
				ctx, cancel := context.WithTimeout(stop, time.Minute)
				_, err := conns[i].Exec(ctx, "SELECT 1").ReadAll()
				cancel()
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("session %d: SELECT 1: %w", i+1, err))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d sessions failed; the first: %w", len(errs), len(conns), errs[0])
	}
	return nil
}

func describe(err error, b byte) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("received a %q message", b)
}

// hold opens n sessions (parallel at a time), reports them ready and
// waits for a signal (or EOF on stdin).
func hold(cfg *pgconn.Config, n, parallel int, stdin bool) error {
	if n < 1 || parallel < 1 {
		return errors.New("-n and -parallel must be positive")
	}
	// Before "ready": the caller may signal as soon as it reads it.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	conns := make([]*pgconn.PgConn, n)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, c := range conns {
			if c != nil {
				c.Close(ctx)
			}
		}
	}()
	var (
		next     atomic.Int64
		failures atomic.Int64
		firstErr error
		once     sync.Once
		wg       sync.WaitGroup
	)
	connected := make(chan struct{})
	go func() {
		select {
		case <-sigs: // stopped while connecting: just go
			os.Exit(1)
		case <-connected:
		}
	}()
	start := time.Now()
	for range min(parallel, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || failures.Load() > 0 {
					return
				}
				c, err := pgconn.ConnectConfig(context.Background(), cfg)
				if err != nil {
					failures.Add(1)
					once.Do(func() { firstErr = fmt.Errorf("session %d of %d: %w", i+1, n, err) })
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	close(connected)
	if firstErr != nil {
		opened := 0
		for _, c := range conns {
			if c != nil {
				opened++
			}
		}
		return fmt.Errorf("%w (%d sessions were open)", firstErr, opened)
	}
	fmt.Fprintf(os.Stderr, "idle: %d sessions open in %v\n", n, time.Since(start).Round(time.Millisecond))
	fmt.Printf("ready %d\n", n)

	// stop ends on SIGINT, SIGTERM or (with -stdin) EOF on stdin, also
	// in the middle of a round of SELECT 1.
	stop, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-sigs
		cancel()
	}()
	if stdin {
		go func() {
			io.Copy(io.Discard, bufio.NewReader(os.Stdin))
			cancel()
		}()
	}
wait:
	for {
		select {
		case <-stop.Done():
			break wait
		case <-usr1:
			start := time.Now()
			if err := queryAll(stop, conns, parallel); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "idle: SELECT 1 on %d sessions in %v\n", n, time.Since(start).Round(time.Millisecond))
			fmt.Printf("queried %d\n", n)
		}
	}
	// Every session must have survived being idle. A session the server
	// closed (or sent an error on) has something to read; a live idle
	// one has nothing. Looking costs no round trip, so it does not make
	// PgBouncer assign server connections to 1,000 sessions at exit.
	dead, first := 0, ""
	buf := make([]byte, 1)
	for i, c := range conns {
		nc := c.Conn()
		nc.SetReadDeadline(time.Now().Add(time.Millisecond))
		_, err := nc.Read(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			continue
		}
		dead++
		if first == "" {
			first = fmt.Sprintf("session %d: %v", i+1, describe(err, buf[0]))
		}
	}
	if dead > 0 {
		return fmt.Errorf("%d of %d idle sessions were closed or sent something while idle; %s", dead, n, first)
	}
	return nil
}
