// Package benchkit holds what pgmantle's benchmark programs (bench/...)
// share: building the binary, starting it in front of a throwaway
// cluster, and reading a process's memory. It is not used by pgmantle
// itself.
package benchkit

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/pgmantle/pgmantle/internal/proctest"
)

// Logf writes a progress line to stderr, prefixed with the program name.
func Logf(prog, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s %s] %s\n", prog, time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// Build compiles cmd/pgmantle into dir and returns the binary's path.
func Build(dir string) (string, error) { return proctest.Build(context.Background(), dir) }

// Serve starts `pgmantle serve` with a policy in front of upstream and
// waits until it listens (extra arguments go after the others). Stop it
// with Stop.
func Serve(bin, upstream, policyFile, catalogDSN string, extra ...string) (cmd *exec.Cmd, listen string, err error) {
	port, err := FreePort()
	if err != nil {
		return nil, "", err
	}
	listen = "127.0.0.1:" + strconv.Itoa(port)
	args := append([]string{"serve", "--listen", listen, "--upstream", upstream, "--log-level", "warn",
		"--policy", policyFile, "--catalog-dsn", catalogDSN}, extra...)
	cmd = exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	if err := waitListening(listen); err != nil {
		Stop(cmd)
		return nil, "", err
	}
	return cmd, listen, nil
}

// Stop ends a process started by Serve.
func Stop(cmd *exec.Cmd) {
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on.
func FreePort() (int, error) { return proctest.FreePort() }

func waitListening(addr string) error {
	for range 100 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("pgmantle did not listen on %s", addr)
}

// VmHWM reads a process's peak resident set size in kB.
func VmHWM(pid int) (int64, error) { return proctest.StatusKB(pid, "VmHWM") }
