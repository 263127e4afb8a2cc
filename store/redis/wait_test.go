package redis

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/customerhub/hubid/internal/clustertest"
	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

// freePort is a loopback port nothing listens on (now).
func freePort(t *testing.T) int {
	_, p, _ := net.SplitHostPort(testenv.FreeAddr(t))
	n, _ := strconv.Atoi(p)
	return n
}

// masterWithReplica starts a redis-server and a replica of it, both the
// test's own, and waits until the replica is in sync.
func masterWithReplica(t *testing.T) (master, replica *clustertest.RedisServer) {
	dir := t.TempDir()
	master = clustertest.StartRedis(t, dir, freePort(t), "repl-diskless-sync-delay 0")
	replica = clustertest.StartRedis(t, dir, freePort(t), "replicaof 127.0.0.1 "+strconv.Itoa(master.Port))
	c := master.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Set(ctx, "sync", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Do(ctx, "WAIT", 1, 15000).Int(); err != nil || n != 1 {
		t.Fatalf("replica not in sync: %d %v", n, err)
	}
	return master, replica
}

// With WaitReplicas, every kind of write (scripts, WATCH/MULTI updates)
// works against a master whose replica acknowledges: the conformance
// suite passes through the WAIT path.
func TestEphemeralWaitingForAReplica(t *testing.T) {
	master, _ := masterWithReplica(t)
	storetest.RunEphemeral(t, func(t *testing.T, clock *storetest.Clock) store.Ephemeral {
		s := New(goredis.NewClient(&goredis.Options{Addr: master.Addr()}), Options{
			Prefix: testenv.Name("hubidtest:") + ":", Now: clock.Now, WaitReplicas: 1,
		})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// A write no replica acknowledges is not reported as done: it fails as
// unavailable (what a failover may lose is never promised), for scripts
// and for WATCH/MULTI updates alike; reads still work. Without
// WaitReplicas the same writes succeed.
func TestWriteNotReplicatedIsUnavailable(t *testing.T) {
	master, replica := masterWithReplica(t)
	ctx := context.Background()
	now := time.Now()
	s := New(goredis.NewClient(&goredis.Options{Addr: master.Addr()}), Options{
		Prefix: "t:", WaitReplicas: 1, WaitTimeout: 50 * time.Millisecond,
	})
	defer s.Close()
	sess := store.Session{ID: "s1", UserID: "u1", CreatedAt: now, ExpiresAt: now.Add(time.Hour), AbsoluteEnd: now.Add(2 * time.Hour)}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatalf("with the replica: %v", err)
	}
	if err := replica.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	sess2 := sess
	sess2.ID = "s2"
	if err := s.CreateSession(ctx, sess2); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("create without a replica: %v, want unavailable", err)
	}
	if _, err := s.UpdateSession(ctx, "s1", func(x *store.Session) error { x.AuthTime = now; return nil }); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("update without a replica: %v, want unavailable", err)
	}
	if _, err := s.GetSession(ctx, "s1"); err != nil {
		t.Errorf("read without a replica: %v", err)
	}

	plain := New(goredis.NewClient(&goredis.Options{Addr: master.Addr()}), Options{Prefix: "t:"})
	defer plain.Close()
	sess3 := sess
	sess3.ID = "s3"
	if err := plain.CreateSession(ctx, sess3); err != nil {
		t.Errorf("without WaitReplicas: %v", err)
	}
}
