// Package proctest runs the real pgmantle binary for tests that need it
// as a separate process: the client compatibility suite, fault tests and
// the soak, where memory is read from the process as an operator would
// (VmRSS) and clients live in the test process. It builds the binary,
// starts `pgmantle serve` with given arguments, waits until it accepts
// connections, and stops it. It stops there: configuration files are the
// caller's.
package proctest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Build compiles cmd/pgmantle into dir and returns the binary's path.
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "pgmantle")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/pgmantle/pgmantle/cmd/pgmantle").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("proctest: go build: %v\n%s", err, out)
	}
	return bin, nil
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Proc is a running pgmantle process.
type Proc struct {
	Addr    string // the client address it listens on
	LogPath string // its stdout and stderr
	cmd     *exec.Cmd
	log     *os.File
	done    chan struct{}
	err     error // Wait's result, once done is closed
}

// Start runs bin with args (typically "serve", "--config", FILE), its
// output appended to logPath, and waits up to a minute until addr accepts
// connections. The process is killed if the test binary dies.
func Start(bin string, args []string, addr, logPath string) (*Proc, error) {
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	p := &Proc{Addr: addr, LogPath: logPath, cmd: cmd, log: log, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	for deadline := time.Now().Add(time.Minute); ; {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("proctest: pgmantle exited (%v) before listening on %s:\n%s", p.err, addr, p.Log())
		default:
		}
		if time.Now().After(deadline) {
			p.Kill()
			return nil, fmt.Errorf("proctest: pgmantle did not listen on %s in a minute:\n%s", addr, p.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Running reports whether the process has not exited.
func (p *Proc) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Log returns what the process has printed so far.
func (p *Proc) Log() string {
	b, _ := os.ReadFile(p.LogPath)
	return string(b)
}

// RSS returns the process's resident set size in bytes (VmRSS).
func (p *Proc) RSS() (int64, error) { return RSS(p.Pid()) }

// RSS returns a process's resident set size in bytes (VmRSS).
func RSS(pid int) (int64, error) {
	kb, err := StatusKB(pid, "VmRSS")
	return kb * 1024, err
}

// StatusKB reads a kB field of /proc/PID/status, such as VmRSS or VmHWM
// (the peak).
func StatusKB(pid int, field string) (int64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, errors.New("proctest: no " + field + " in /proc status")
}

// Stop sends SIGTERM and waits up to timeout for the process to exit,
// then kills it. It returns the process's exit error, if any.
func (p *Proc) Stop(timeout time.Duration) error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.Kill()
		return fmt.Errorf("proctest: pgmantle did not stop within %v", timeout)
	}
	p.log.Close()
	return p.err
}

// Kill kills the process and waits for it.
func (p *Proc) Kill() {
	p.cmd.Process.Kill()
	<-p.done
	p.log.Close()
}
