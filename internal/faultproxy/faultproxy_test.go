package faultproxy

import (
	"bufio"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// echo is a line echo server that remembers what it received.
type echo struct {
	l    net.Listener
	mu   sync.Mutex
	got  []string
	seen chan string
}

func newEcho(t *testing.T) *echo {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echo{l: l, seen: make(chan string, 16)}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					e.mu.Lock()
					e.got = append(e.got, line)
					e.mu.Unlock()
					e.seen <- line
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return e
}

func start(t *testing.T, target string) *Proxy {
	t.Helper()
	p, err := New(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, p *Proxy) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func roundTrip(t *testing.T, c net.Conn, r *bufio.Reader, msg string) (string, error) {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		return "", err
	}
	return r.ReadString('\n')
}

// mustFail asserts that reading from c fails with a reset or EOF: the
// connection was cut.
func mustBeCut(t *testing.T, r *bufio.Reader) {
	t.Helper()
	_, err := r.ReadString('\n')
	if err == nil {
		t.Fatal("read succeeded on a cut connection")
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("read timed out, want a cut connection: %v", err)
	}
}

func TestPassThroughAndLatency(t *testing.T) {
	e := newEcho(t)
	p := start(t, e.l.Addr().String())
	c, r := dial(t, p)
	if got, err := roundTrip(t, c, r, "hello\n"); err != nil || got != "hello\n" {
		t.Fatalf("echo: %q %v", got, err)
	}
	p.SetLatency(time.Millisecond)
	if got, err := roundTrip(t, c, r, "slow\n"); err != nil || got != "slow\n" {
		t.Fatalf("echo with latency: %q %v", got, err)
	}
}

func TestOutageAndRecovery(t *testing.T) {
	e := newEcho(t)
	p := start(t, e.l.Addr().String())
	c, r := dial(t, p)
	if _, err := roundTrip(t, c, r, "before\n"); err != nil {
		t.Fatal(err)
	}
	p.SetDown(true)
	mustBeCut(t, r) // the open connection is reset
	// A new one is reset at once (the dial itself may see it).
	if c2, err := net.Dial("tcp", p.Addr()); err == nil {
		mustBeCut(t, bufio.NewReader(c2))
		c2.Close()
	}
	p.SetDown(false)
	c3, r3 := dial(t, p)
	if got, err := roundTrip(t, c3, r3, "after\n"); err != nil || got != "after\n" {
		t.Fatalf("after recovery: %q %v", got, err)
	}
	if n := p.Accepted(); n != 3 {
		t.Fatalf("accepted %d connections, want 3", n)
	}
}

func TestReset(t *testing.T) {
	e := newEcho(t)
	p := start(t, e.l.Addr().String())
	c, r := dial(t, p)
	if _, err := roundTrip(t, c, r, "x\n"); err != nil {
		t.Fatal(err)
	}
	p.Reset()
	mustBeCut(t, r)
	c2, r2 := dial(t, p)
	if _, err := roundTrip(t, c2, r2, "y\n"); err != nil {
		t.Fatalf("new connection after a reset: %v", err)
	}
}

func TestBlackHole(t *testing.T) {
	e := newEcho(t)
	p := start(t, e.l.Addr().String())
	old, oldR := dial(t, p)
	if _, err := roundTrip(t, old, oldR, "warm\n"); err != nil {
		t.Fatal(err)
	}
	<-e.seen
	p.BlackHole()
	// Both an open and a new connection are accepted and never answered.
	for _, c := range []net.Conn{old, func() net.Conn { c, _ := dial(t, p); return c }()} {
		if _, err := c.Write([]byte("lost\n")); err != nil {
			t.Fatal(err)
		}
		<-p.Swallowed()
		// Nothing can come back: the request never reached the server.
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		_, err := bufio.NewReader(c).ReadString('\n')
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read in a black hole: %v, want the deadline", err)
		}
	}
	select {
	case l := <-e.seen:
		t.Fatalf("the server received %q through the black hole", l)
	default:
	}
	// Ending the black hole resets the connections it held; new ones work.
	p.Pass()
	_ = old.SetReadDeadline(time.Time{})
	mustBeCut(t, oldR)
	c, r := dial(t, p)
	if got, err := roundTrip(t, c, r, "back\n"); err != nil || got != "back\n" {
		t.Fatalf("after the black hole: %q %v", got, err)
	}
}

func TestDropReplyTo(t *testing.T) {
	e := newEcho(t)
	p := start(t, e.l.Addr().String())
	c, r := dial(t, p)
	fired := p.DropReplyTo([]byte("write"))
	// A request without the pattern passes.
	if got, err := roundTrip(t, c, r, "read\n"); err != nil || got != "read\n" {
		t.Fatalf("unmatched request: %q %v", got, err)
	}
	<-e.seen
	if _, err := c.Write([]byte("write\n")); err != nil {
		t.Fatal(err)
	}
	mustBeCut(t, r)
	<-fired
	// The server executed the request whose reply was lost.
	if got := <-e.seen; got != "write\n" {
		t.Fatalf("server received %q", got)
	}
	// One-shot: the retry on a new connection passes.
	c2, r2 := dial(t, p)
	if got, err := roundTrip(t, c2, r2, "write\n"); err != nil || got != "write\n" {
		t.Fatalf("retry: %q %v", got, err)
	}
}

func TestRedisError(t *testing.T) {
	e := newEcho(t)
	p := start(t, e.l.Addr().String())
	p.RedisError("LOADING Redis is loading the dataset in memory")
	c, r := dial(t, p)
	// Two commands, the second split across writes, plus an inline one.
	cmds := []string{"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$2", "\r\nab\r\n", "PING\r\n"}
	for _, s := range cmds {
		if _, err := c.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		line, err := r.ReadString('\n')
		if err != nil || line != "-LOADING Redis is loading the dataset in memory\r\n" {
			t.Fatalf("reply %q %v", line, err)
		}
	}
	select {
	case l := <-e.seen:
		t.Fatalf("the server received %q", l)
	default:
	}
	// Pass resets the connection made without an upstream; new ones work.
	p.Pass()
	mustBeCut(t, r)
	c2, r2 := dial(t, p)
	if got, err := roundTrip(t, c2, r2, "ok\n"); err != nil || got != "ok\n" {
		t.Fatalf("after the errors: %q %v", got, err)
	}
}

func TestRedisCommands(t *testing.T) {
	for _, tc := range []struct {
		in    string
		names string
		rest  string
	}{
		{"", "", ""},
		{"*1\r\n$4\r\nPING\r\n", "PING", ""},
		{"*1\r\n$4\r\nPI", "", "*1\r\n$4\r\nPI"},
		{"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n", "GET", "*1\r\n"},
		{"PING\r\nGET k\r\n", "PING GET", ""},
		{"*1\r\n$4\r\nPING", "", "*1\r\n$4\r\nPING"},
	} {
		names, rest := redisCommands([]byte(tc.in))
		if strings.Join(names, " ") != tc.names || string(rest) != tc.rest {
			t.Errorf("%q: %q %q, want %q %q", tc.in, names, rest, tc.names, tc.rest)
		}
	}
	got := string(redisReplies([]string{"multi", "HGET", "EXEC", "GET"}, "LOADING x"))
	if want := "+OK\r\n-LOADING x\r\n-EXECABORT Transaction discarded because of previous errors.\r\n-LOADING x\r\n"; got != want {
		t.Errorf("replies %q, want %q", got, want)
	}
}
