package redis

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

// TestEphemeralCluster runs the suite on a Redis Cluster when
// HUBID_TEST_REDIS_CLUSTER names its nodes (comma-separated host:port), so
// that a script touching keys of two slots fails with CROSSSLOT.
func TestEphemeralCluster(t *testing.T) {
	nodes := os.Getenv("HUBID_TEST_REDIS_CLUSTER")
	if nodes == "" {
		t.Skip("HUBID_TEST_REDIS_CLUSTER not set")
	}
	storetest.RunEphemeral(t, func(t *testing.T, clock *storetest.Clock) store.Ephemeral {
		c := NewClient(ClientConfig{Addrs: strings.Split(nodes, ","), Cluster: true}).(*goredis.ClusterClient)
		prefix := testenv.Name("hubidtest:") + ":"
		t.Cleanup(func() {
			defer func() { _ = c.Close() }()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := c.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error {
				iter := node.Scan(ctx, 0, prefix+"*", 500).Iterator()
				for iter.Next(ctx) {
					node.Del(ctx, iter.Val())
				}
				return iter.Err()
			})
			if err != nil {
				t.Errorf("clean cluster prefix %s: %v", prefix, err)
			}
		})
		return New(c, Options{Prefix: prefix, Now: clock.Now})
	})
}

// TestRevocationMirrorCluster: on a Cluster, a revocation published from
// inside the script (on the node of the set's slot) reaches a replica
// subscribed through whichever node go-redis chose.
func TestRevocationMirrorCluster(t *testing.T) {
	nodes := os.Getenv("HUBID_TEST_REDIS_CLUSTER")
	if nodes == "" {
		t.Skip("HUBID_TEST_REDIS_CLUSTER not set")
	}
	prefix := testenv.Name("hubidtest:") + ":"
	open := func() *Store {
		s := New(NewClient(ClientConfig{Addrs: strings.Split(nodes, ","), Cluster: true}), Options{Prefix: prefix})
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	a, b := open(), open()
	waitMirror(t, a, true)
	waitMirror(t, b, true)
	ctx := context.Background()
	if err := a.RevokeToken(ctx, "at:c1", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if revoked, ok := b.mirror.check([]string{"at:c1"}, time.Now().UnixMicro(), time.Now()); ok && revoked {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("replica b's mirror never saw the revocation")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
