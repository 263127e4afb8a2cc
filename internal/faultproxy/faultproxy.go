// Package faultproxy is a TCP proxy for tests that puts the network faults
// of a real deployment between hubid and a dependency (PostgreSQL, Redis)
// without touching the server other tests share. A test points its client
// at Addr and then drives the proxy:
//
//   - Pass (the default): bytes flow both ways, after an optional added
//     latency per chunk (SetLatency).
//   - Reset: every open connection is reset (RST); new ones are accepted.
//   - Outage (SetDown(true)): every open connection is reset and every new
//     one is reset as soon as it is accepted — the server is "down".
//     Pass (SetDown(false)) ends it: recovery.
//   - BlackHole: a half-open network: connections are accepted (and open
//     ones stay open) but nothing is delivered either way, so a client
//     waits until its own timeout or context deadline ends the call. The
//     connections held by the black hole are reset when it ends (as a
//     client would find them after a long partition).
//   - DropReplyTo: the next request containing a byte pattern reaches the
//     server and is executed, but its reply is thrown away and the
//     connection reset: "the connection was cut after the request was
//     sent". This is what makes a client library's automatic retry run a
//     write twice.
//   - RedisError: every Redis command is answered with an error reply
//     (e.g. "LOADING …" while Redis replays its AOF) instead of reaching
//     the server; a transaction (MULTI … EXEC) gets what Redis answers
//     then: MULTI accepted, each command refused, EXEC EXECABORT.
//
// The proxy never sleeps on a test's behalf: faults switch at once, and
// the channels returned by DropReplyTo and Swallowed let a test wait for
// the fault to have happened instead of waiting for time to pass. Added
// latency is the one timed behaviour, for manual experiments and
// benchmarks; tests that must not flake use BlackHole with a deadline.
//
// A proxy listens on 127.0.0.1:0. It is safe for concurrent use. It is
// for tests and tools only: it buffers nothing and applies no limits.
package faultproxy

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"sync"
	"time"
)

type mode int

const (
	modePass mode = iota
	modeDown
	modeBlackHole
	modeRedisError
)

// Proxy forwards TCP connections to a target address and injects faults.
type Proxy struct {
	l      net.Listener
	target string

	mu        sync.Mutex
	mode      mode
	redisMsg  string // modeRedisError: the error reply, without "-" and CRLF
	latency   time.Duration
	links     map[*link]struct{}
	drop      []byte        // DropReplyTo pattern, nil when not armed
	dropFired chan struct{} // closed when the armed drop happened
	swallowed chan struct{} // one value per chunk the black hole swallowed
	closed    bool
	accepted  int
}

// New listens on a loopback port and forwards to target until Close.
func New(target string) (*Proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{l: l, target: target, links: map[*link]struct{}{}, swallowed: make(chan struct{}, 1)}
	go p.serve()
	return p, nil
}

// Addr is the proxy's address, host:port.
func (p *Proxy) Addr() string { return p.l.Addr().String() }

// Close stops listening and resets every connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.resetAllLocked()
	p.mu.Unlock()
	return p.l.Close()
}

// Accepted is the number of client connections accepted so far
// (refused ones included), e.g. to see that a client reconnected.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// Pass returns to normal forwarding. Connections held by a black hole
// are reset.
func (p *Proxy) Pass() { p.setMode(modePass, "") }

// SetDown starts an outage (true) — every connection reset, new ones
// reset at once — or ends it (false), as Pass.
func (p *Proxy) SetDown(down bool) {
	if down {
		p.setMode(modeDown, "")
		return
	}
	p.setMode(modePass, "")
}

// BlackHole stops delivering anything either way while keeping (and
// accepting) connections: the dependency hangs.
func (p *Proxy) BlackHole() { p.setMode(modeBlackHole, "") }

// RedisError answers every complete Redis command sent through the proxy
// with the error reply msg (e.g. "LOADING Redis is loading the dataset in
// memory") instead of forwarding it, on open and new connections, until
// Pass. Commands must be RESP arrays, as every client library sends them.
func (p *Proxy) RedisError(msg string) { p.setMode(modeRedisError, msg) }

// Reset resets every open connection; the proxy keeps accepting.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resetAllLocked()
}

// SetLatency delays every chunk forwarded in either direction by d (0
// turns it off).
func (p *Proxy) SetLatency(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latency = d
}

// DropReplyTo arms a one-shot fault: the next chunk a client sends that
// contains pattern (any chunk when pattern is empty) is forwarded to the
// server, and the server's reply on that connection is discarded and the
// connection reset. The returned channel is closed once the reply was
// dropped. Arming again replaces a drop that has not fired.
func (p *Proxy) DropReplyTo(pattern []byte) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drop = append([]byte{}, pattern...)
	p.dropFired = make(chan struct{})
	return p.dropFired
}

// Swallowed receives a value when the black hole has swallowed a chunk
// sent by a client (at most one value is buffered): a test can wait for
// its request to be stuck instead of sleeping.
func (p *Proxy) Swallowed() <-chan struct{} { return p.swallowed }

func (p *Proxy) setMode(m mode, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.mode
	p.mode, p.redisMsg = m, msg
	switch {
	case m == modeDown:
		p.resetAllLocked()
	case m == modePass && old != modePass:
		// Links that were held, or made without an upstream connection
		// (during a black hole or Redis errors), cannot carry on.
		for l := range p.links {
			if l.held || l.server == nil {
				l.resetLocked(p)
			}
		}
	}
	if m == modeBlackHole {
		for l := range p.links {
			l.held = true
		}
	}
}

func (p *Proxy) resetAllLocked() {
	for l := range p.links {
		l.resetLocked(p)
	}
}

func (p *Proxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.accepted++
		m := p.mode
		if p.closed || m == modeDown {
			p.mu.Unlock()
			reset(c)
			continue
		}
		l := &link{client: c, held: m == modeBlackHole}
		p.links[l] = struct{}{}
		p.mu.Unlock()
		go p.run(l, m)
	}
}

// link is one client connection and its upstream connection.
type link struct {
	client, server net.Conn // server is nil until dialled
	held           bool     // in a black hole: deliver nothing, reset when it ends
	dropNext       bool     // discard the next reply and reset
	fired          chan struct{}
	pending        []byte // modeRedisError: bytes of an incomplete command
	done           bool
}

// resetLocked resets both sides of l and forgets it; p.mu is held.
func (l *link) resetLocked(p *Proxy) {
	if l.done {
		return
	}
	l.done = true
	reset(l.client)
	if l.server != nil {
		reset(l.server)
	}
	delete(p.links, l)
}

// reset closes c with an RST rather than a FIN where it can.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

func (p *Proxy) run(l *link, m mode) {
	// A link made during a black hole or a Redis error mode never dials:
	// nothing it receives is delivered. Otherwise dial now.
	if m == modePass {
		up, err := net.Dial("tcp", p.target)
		p.mu.Lock()
		if err != nil || l.done {
			if err == nil {
				_ = up.Close()
			}
			l.resetLocked(p)
			p.mu.Unlock()
			return
		}
		l.server = up
		p.mu.Unlock()
		go p.fromServer(l, up)
	}
	p.fromClient(l)
}

func (p *Proxy) fromClient(l *link) {
	buf := make([]byte, 32<<10)
	for {
		n, err := l.client.Read(buf)
		if n > 0 && !p.clientChunk(l, buf[:n]) {
			return
		}
		if err != nil {
			p.mu.Lock()
			l.resetLocked(p)
			p.mu.Unlock()
			return
		}
	}
}

// clientChunk handles bytes a client sent; false ends the link.
func (p *Proxy) clientChunk(l *link, chunk []byte) bool {
	p.mu.Lock()
	if l.done {
		p.mu.Unlock()
		return false
	}
	if p.mode == modeRedisError {
		l.pending = append(l.pending, chunk...)
		var names []string
		names, l.pending = redisCommands(l.pending)
		reply := redisReplies(names, p.redisMsg)
		p.mu.Unlock()
		if _, err := l.client.Write(reply); err != nil {
			return false
		}
		return true
	}
	if l.held || l.server == nil || p.mode == modeBlackHole {
		l.held = true
		p.mu.Unlock()
		select {
		case p.swallowed <- struct{}{}:
		default:
		}
		return true
	}
	if p.drop != nil && bytes.Contains(chunk, p.drop) {
		l.dropNext, l.fired = true, p.dropFired
		p.drop, p.dropFired = nil, nil
	}
	delay, up := p.latency, l.server
	p.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	_, err := up.Write(chunk)
	return err == nil
}

func (p *Proxy) fromServer(l *link, up net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := up.Read(buf)
		if n > 0 {
			p.mu.Lock()
			switch {
			case l.done:
				p.mu.Unlock()
				return
			case l.dropNext:
				fired := l.fired
				l.resetLocked(p)
				p.mu.Unlock()
				close(fired)
				return
			case l.held || p.mode == modeBlackHole:
				l.held = true
				p.mu.Unlock()
				continue
			}
			delay := p.latency
			p.mu.Unlock()
			if delay > 0 {
				time.Sleep(delay)
			}
			if _, werr := l.client.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			p.mu.Lock()
			l.resetLocked(p)
			p.mu.Unlock()
			return
		}
	}
}

var errIncomplete = errors.New("incomplete")

// redisReplies answers commands as a Redis that rejects them with msg
// does: a transaction's MULTI is accepted, the commands queued in it are
// rejected, and its EXEC then fails with EXECABORT.
func redisReplies(names []string, msg string) []byte {
	var b []byte
	for _, n := range names {
		switch strings.ToUpper(n) {
		case "MULTI":
			b = append(b, "+OK\r\n"...)
		case "EXEC":
			b = append(b, "-EXECABORT Transaction discarded because of previous errors.\r\n"...)
		default:
			b = append(b, "-"+msg+"\r\n"...)
		}
	}
	return b
}

// redisCommands returns the names of the complete RESP commands at the
// start of b and the rest (an incomplete command). Inline commands (a
// line without '*') count as one per line.
func redisCommands(b []byte) ([]string, []byte) {
	var names []string
	for len(b) > 0 {
		name, rest, err := skipCommand(b)
		if err != nil {
			break
		}
		b = rest
		names = append(names, name)
	}
	return names, append([]byte(nil), b...)
}

func skipCommand(b []byte) (name string, rest []byte, err error) {
	line, rest, ok := bytes.Cut(b, []byte("\r\n"))
	if !ok {
		return "", nil, errIncomplete
	}
	if len(line) == 0 || line[0] != '*' {
		name, _, _ := strings.Cut(string(line), " ")
		return name, rest, nil // inline command
	}
	count, ok := atoi(line[1:])
	if !ok {
		return "", rest, nil
	}
	for i := range count {
		hdr, r, ok := bytes.Cut(rest, []byte("\r\n"))
		if !ok {
			return "", nil, errIncomplete
		}
		size, ok := atoi(bytes.TrimPrefix(hdr, []byte("$")))
		if !ok || len(r) < size+2 {
			return "", nil, errIncomplete
		}
		if i == 0 {
			name = string(r[:size])
		}
		rest = r[size+2:]
	}
	return name, rest, nil
}

func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
