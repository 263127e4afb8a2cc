// Package throttle slows down password guessing before any hash is
// computed: failures are counted per account and per client IP in the
// ephemeral store; after DelayAfter failures each further attempt must wait
// an increasing delay, and after LockAfter failures within the window the
// account (or IP) is locked until the window ends. It also derives the
// client IP, honouring X-Forwarded-For only from trusted proxies.
package throttle

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Counters is the storage the limiter needs (store.CounterStore).
type Counters interface {
	HitCounter(ctx context.Context, key string, window time.Duration) (int64, time.Time, error)
	GetCounter(ctx context.Context, key string) (int64, time.Time, error)
	ResetCounter(ctx context.Context, key string) error
}

// Policy is the throttling policy for one kind of key.
type Policy struct {
	DelayAfter int           // failures before delays start
	LockAfter  int           // failures within Window that lock until it ends
	Window     time.Duration // counting window, from the first failure
	MaxDelay   time.Duration // cap of the increasing delay (default 1m)
}

// Delay returns the wait required after n failures: 0 up to DelayAfter,
// then 1 s, 2 s, 4 s … up to MaxDelay.
func (p Policy) Delay(n int64) time.Duration {
	if n < int64(p.DelayAfter) {
		return 0
	}
	maxD := p.MaxDelay
	if maxD == 0 {
		maxD = time.Minute
	}
	steps := n - int64(p.DelayAfter)
	if steps > 16 {
		return maxD
	}
	return min(time.Second<<steps, maxD)
}

// Limiter applies one policy to accounts and a looser one to IPs (an
// office behind one NAT address must not be locked out by one person).
type Limiter struct {
	Counters Counters
	Account  Policy
	IP       Policy
	Now      func() time.Time
}

// Decision says whether an attempt may proceed.
type Decision struct {
	Allowed bool
	Locked  bool      // hard lock (LockAfter reached)
	RetryAt time.Time // when to try again, if not allowed
}

func acctKeys(account string) (count, wait string) {
	return "throttle:acct:" + account, "throttle:acct-wait:" + account
}

func ipKeys(ip string) (count, wait string) {
	return "throttle:ip:" + ip, "throttle:ip-wait:" + ip
}

func (l *Limiter) check(ctx context.Context, p Policy, count, wait string) (Decision, error) {
	n, end, err := l.Counters.GetCounter(ctx, count)
	if err != nil {
		return Decision{}, fmt.Errorf("throttle: %w", err)
	}
	if n >= int64(p.LockAfter) {
		return Decision{Locked: true, RetryAt: end}, nil
	}
	w, wend, err := l.Counters.GetCounter(ctx, wait)
	if err != nil {
		return Decision{}, fmt.Errorf("throttle: %w", err)
	}
	if w > 0 && l.Now().Before(wend) {
		return Decision{RetryAt: wend}, nil
	}
	return Decision{Allowed: true}, nil
}

// Check decides, before any password hash is computed, whether an attempt
// for account (the folded email, known or not) from ip may proceed.
func (l *Limiter) Check(ctx context.Context, account, ip string) (Decision, error) {
	c, w := acctKeys(account)
	d, err := l.check(ctx, l.Account, c, w)
	if err != nil || !d.Allowed {
		return d, err
	}
	c, w = ipKeys(ip)
	return l.check(ctx, l.IP, c, w)
}

func (l *Limiter) fail(ctx context.Context, p Policy, count, wait string) error {
	n, _, err := l.Counters.HitCounter(ctx, count, p.Window)
	if err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	if d := p.Delay(n); d > 0 {
		if _, _, err := l.Counters.HitCounter(ctx, wait, d); err != nil {
			return fmt.Errorf("throttle: %w", err)
		}
	}
	return nil
}

// Attempt decides whether an attempt may proceed and, if so, counts it
// against the account at once, before any hash is computed: concurrent
// guesses each take a number atomically, so however they are timed at
// most LockAfter of them are hashed per window. A success resets the
// account (Succeed); a failure adds the delay and the IP count (Failed).
func (l *Limiter) Attempt(ctx context.Context, account, ip string) (Decision, error) {
	d, err := l.Check(ctx, account, ip)
	if err != nil || !d.Allowed {
		return d, err
	}
	c, _ := acctKeys(account)
	n, end, err := l.Counters.HitCounter(ctx, c, l.Account.Window)
	if err != nil {
		return Decision{}, fmt.Errorf("throttle: %w", err)
	}
	if n > int64(l.Account.LockAfter) {
		return Decision{Locked: true, RetryAt: end}, nil
	}
	return Decision{Allowed: true}, nil
}

// Failed records that an attempt taken with Attempt failed: the IP count
// and the account's increasing delay.
func (l *Limiter) Failed(ctx context.Context, account, ip string) error {
	c, w := acctKeys(account)
	n, _, err := l.Counters.GetCounter(ctx, c)
	if err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	if d := l.Account.Delay(n); d > 0 {
		if _, _, err := l.Counters.HitCounter(ctx, w, d); err != nil {
			return fmt.Errorf("throttle: %w", err)
		}
	}
	c, w = ipKeys(ip)
	return l.fail(ctx, l.IP, c, w)
}

// Fail records a failed attempt that was not counted by Attempt.
func (l *Limiter) Fail(ctx context.Context, account, ip string) error {
	c, w := acctKeys(account)
	if err := l.fail(ctx, l.Account, c, w); err != nil {
		return err
	}
	c, w = ipKeys(ip)
	return l.fail(ctx, l.IP, c, w)
}

// Succeed clears the account's failures (the IP's stay: one success must
// not reset a spraying attacker's count).
func (l *Limiter) Succeed(ctx context.Context, account string) error {
	c, w := acctKeys(account)
	if err := l.Counters.ResetCounter(ctx, c); err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	if err := l.Counters.ResetCounter(ctx, w); err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	return nil
}

// ParseProxies parses CIDRs or single IPs.
func ParseProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: not an IP or CIDR", s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func trusted(a netip.Addr, proxies []netip.Prefix) bool {
	for _, p := range proxies {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// ClientIP returns the client's address. X-Forwarded-For is read only when
// the TCP peer is a trusted proxy, from the right, skipping trusted
// proxies: the first untrusted address is the client. A spoofed header
// from anyone else is ignored.
func ClientIP(r *http.Request, proxies []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !trusted(peer, proxies) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // garbage: stop at the last address we could trust
		}
		a = a.Unmap()
		if !trusted(a, proxies) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}
