package pgcluster

import (
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"syscall"
)

// guardScript waits for EOF on stdin, which happens when the process that
// started the cluster exits for any reason (panic, test timeout, SIGKILL),
// then stops the postmaster and removes the cluster directory.
const guardScript = `while read -r _; do :; done
"$0" -D "$1" -m immediate -w -t 30 stop >/dev/null 2>&1
rm -rf "$2"`

// guard is a watchdog shell process holding the read end of a pipe whose
// write end only this process has (Go opens files close-on-exec, so the
// postmaster never inherits it).
type guard struct {
	cmd *exec.Cmd
	w   io.WriteCloser
}

// startGuard starts the watchdog for c as the server user in its own
// process group, so a terminal's Ctrl-C does not kill it before it acts.
func (c *Cluster) startGuard() (*guard, error) {
	cmd := c.owner.command(context.Background(), "", "/", "/bin/sh",
		"-c", guardScript, filepath.Join(c.BinDir, "pg_ctl"), c.dataDir(), c.Dir)
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	w, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, err
	}
	return &guard{cmd: cmd, w: w}, nil
}

// disarm kills the watchdog without letting it act; Stop then cleans up
// itself.
func (g *guard) disarm() {
	if g == nil {
		return
	}
	g.cmd.Process.Kill()
	g.w.Close()
	g.cmd.Wait()
}
