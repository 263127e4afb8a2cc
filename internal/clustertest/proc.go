// Package clustertest runs hubid the way it is deployed, on this machine:
// real processes on fixed loopback ports (18100-18299) — several `hubid
// serve` replicas on PostgreSQL and Redis, nginx from Debian in front of
// them, a Redis Cluster of three masters, a Redis master with a replica
// watched by three Sentinels — so that tests can sign in through the load
// balancer, stop and kill replicas and fail Redis over.
//
// The helpers start every process as a child of the test (never a
// daemon), with its output in a file of the test's temporary directory
// (shown when the test fails), wait for readiness by polling with short
// bounded loops, and stop what they started when the test ends.
//
// The tests are behind the build tag "cluster" (`make test-cluster`). A
// missing program (nginx, redis-server, redis-sentinel) skips them on a
// developer's machine and fails them under CI=true, like the PostgreSQL
// and Redis tests of internal/testenv.
package clustertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/customerhub/hubid/internal/testenv"
)

// Need returns the path of program, or skips the test (fails it under
// CI=true) when it is not installed; hint says how to install it.
func Need(tb testing.TB, program, hint string) string {
	tb.Helper()
	p, err := exec.LookPath(program)
	if err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} { // nginx is in sbin, often off a user's PATH
		if fp := filepath.Join(dir, program); isExecutable(fp) {
			return fp
		}
	}
	if testenv.InCI() {
		tb.Fatalf("%s is required under CI=true (%s)", program, hint)
	}
	tb.Skipf("%s not installed (%s); skipping", program, hint)
	return ""
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// Proc is a child process started by Start.
type Proc struct {
	Name string
	Log  string // path of its combined stdout and stderr
	cmd  *exec.Cmd
	done chan struct{}
	err  error // set when done is closed
}

// Start runs a program as a child process of the test, its output into
// dir/name.log; it is killed when the test ends if still running (stopped
// with SIGTERM first). Should the test binary die, the kernel sends the
// child SIGKILL.
func Start(tb testing.TB, dir, name string, env []string, program string, args ...string) *Proc {
	tb.Helper()
	return StartFor(tb, tb, dir, name, env, program, args...)
}

// StartFor is Start for a process that outlives the (sub)test tb starting
// it: it is stopped when owner ends. A replica restarted inside a subtest
// belongs to its deployment, not to that subtest: stopped at the
// subtest's end, it was missing from every later subtest.
func StartFor(tb, owner testing.TB, dir, name string, env []string, program string, args ...string) *Proc {
	tb.Helper()
	logPath := filepath.Join(dir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(program, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		tb.Fatalf("start %s: %v", name, err)
	}
	p := &Proc{Name: name, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = f.Close()
		close(p.done)
	}()
	owner.Cleanup(func() {
		if err := p.Stop(10 * time.Second); err != nil {
			owner.Logf("%s: %v", name, err)
		}
		if owner.Failed() {
			owner.Logf("%s log (%s):\n%s", name, logPath, p.Tail(30))
		}
	})
	return p
}

// Pid is the process ID.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Alive reports whether the process still runs.
func (p *Proc) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// ExitErr is how the process ended (nil: exit code 0); call it once Done
// is closed.
func (p *Proc) ExitErr() error {
	<-p.done
	return p.err
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Signal sends sig (no-op once exited).
func (p *Proc) Signal(sig syscall.Signal) {
	if p.Alive() {
		_ = p.cmd.Process.Signal(sig)
	}
}

// Stop sends SIGTERM and waits up to grace for the exit, then SIGKILL. It
// returns an error when the process had to be killed or exited non-zero
// on SIGTERM.
func (p *Proc) Stop(grace time.Duration) error {
	if !p.Alive() {
		return nil
	}
	p.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		var ee *exec.ExitError
		if p.err != nil && !(errors.As(p.err, &ee) && (ee.ExitCode() == 0 || ee.ExitCode() == -1)) {
			return fmt.Errorf("exit after SIGTERM: %w", p.err)
		}
		return nil
	case <-time.After(grace):
		p.Kill()
		return fmt.Errorf("still running %v after SIGTERM; killed", grace)
	}
}

// Kill sends SIGKILL and waits for the exit.
func (p *Proc) Kill() {
	p.Signal(syscall.SIGKILL)
	<-p.done
}

// Tail returns the last n lines of the process's output.
func (p *Proc) Tail(n int) string {
	b, _ := os.ReadFile(p.Log)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// WaitFor polls ready every 20 ms until it returns nil, for at most
// within; it fails the test with the last error (and p's log, when p is
// not nil) otherwise, or as soon as p exits.
func WaitFor(tb testing.TB, p *Proc, within time.Duration, what string, ready func(context.Context) error) {
	tb.Helper()
	deadline := time.Now().Add(within)
	var err error
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = ready(ctx)
		cancel()
		if err == nil {
			return
		}
		var exited <-chan struct{}
		if p != nil {
			exited = p.done
		}
		select {
		case <-exited:
			tb.Fatalf("%s: %s exited (%v) before it was ready: %v\n%s", what, p.Name, p.err, err, p.Tail(30))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			if p != nil {
				tb.Fatalf("%s: not ready within %v: %v\n%s", what, within, err, p.Tail(30))
			}
			tb.Fatalf("%s: not ready within %v: %v", what, within, err)
		}
	}
}

// Dial checks that addr accepts TCP connections.
func Dial(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// Addr is 127.0.0.1:port.
func Addr(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }
