package redis

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/store"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func TestNewClient(t *testing.T) {
	single := NewClient(ClientConfig{Addrs: []string{"10.0.0.1:6379", "10.0.0.2:6379"}, DB: 2, Username: "u", Password: "p"})
	t.Cleanup(func() { _ = single.Close() })
	if c, ok := single.(*goredis.Client); !ok || c.Options().Addr != "10.0.0.1:6379" || c.Options().DB != 2 || c.Options().Username != "u" || c.Options().TLSConfig != nil {
		t.Errorf("single: %T %+v", single, single)
	}
	sentinel := NewClient(ClientConfig{Addrs: []string{"10.0.0.1:26379"}, MasterName: "mymaster", TLS: true, SentinelPassword: "sp"})
	t.Cleanup(func() { _ = sentinel.Close() })
	if c, ok := sentinel.(*goredis.Client); !ok || c.Options().Addr != "FailoverClient" || c.Options().TLSConfig == nil || c.Options().TLSConfig.MinVersion != tls.VersionTLS12 {
		t.Errorf("sentinel: %T", sentinel)
	}
	cluster := NewClient(ClientConfig{Addrs: []string{"10.0.0.1:7000"}, Cluster: true, Password: "p"})
	t.Cleanup(func() { _ = cluster.Close() })
	if c, ok := cluster.(*goredis.ClusterClient); !ok || c.Options().Password != "p" {
		t.Errorf("cluster: %T", cluster)
	}

	addr, prefix := testenv.Redis(t)
	s := New(NewClient(ClientConfig{Addrs: []string{addr}}), Options{Prefix: prefix})
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("ping through NewClient: %v", err)
	}
}

// TestUnavailable checks that a Redis that cannot be reached yields
// errors wrapping store.ErrUnavailable, and a canceled context does not.
func TestUnavailable(t *testing.T) {
	c := goredis.NewClient(&goredis.Options{Addr: testenv.FreeAddr(t), DialTimeout: 500 * time.Millisecond, MaxRetries: -1, DialerRetries: 1})
	s := New(c, Options{Prefix: "hubidtest:down:"})
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	exp := time.Now().Add(time.Minute)
	noop := func(*store.Session) error { return nil }
	checks := map[string]func() error{
		"Ping":             func() error { return s.Ping(ctx) },
		"CreateSession":    func() error { return s.CreateSession(ctx, store.Session{ID: "s", ExpiresAt: exp}) },
		"GetSession":       func() error { _, err := s.GetSession(ctx, "s"); return err },
		"UpdateSession":    func() error { _, err := s.UpdateSession(ctx, "s", noop); return err },
		"DeleteSession":    func() error { return s.DeleteSession(ctx, "s") },
		"ListUserSessions": func() error { _, err := s.ListUserSessions(ctx, "u"); return err },
		"ConsumeAuthCode":  func() error { _, err := s.ConsumeAuthCode(ctx, "c"); return err },
		"GetRefreshToken":  func() error { _, err := s.GetRefreshToken(ctx, "f", "t"); return err },
		"RotateRefreshToken": func() error {
			_, err := s.RotateRefreshToken(ctx, "t", store.RefreshToken{ID: "t2", FamilyID: "f", ExpiresAt: exp}, 0)
			return err
		},
		"RevokeFamily":   func() error { return s.RevokeFamily(ctx, "f", exp) },
		"IsTokenRevoked": func() error { _, err := s.IsTokenRevoked(ctx, "j"); return err },
		"HitCounter":     func() error { _, _, err := s.HitCounter(ctx, "k", time.Minute); return err },
		"UseTOTPStep":    func() error { return s.UseTOTPStep(ctx, "u", 1, exp) },
	}
	for name, f := range checks {
		if err := f(); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", name, err)
		}
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Ping(canceled); errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("ping with canceled context: %v, want context.Canceled only", err)
	}
}
