//go:build cluster

package clustertest

import (
	"context"
	"testing"
	"time"

	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/store"
	redisstore "github.com/customerhub/hubid/store/redis"
	"github.com/customerhub/hubid/store/storetest"
)

// Ports of the Redis topologies (see the package comment).
const (
	clusterPort1  = 18200 // 18200-18202, buses 18210-18212
	sentinelRedis = 18220 // master; the replica on 18221
	sentinelPort1 = 18230 // 18230-18232
)

// TestEphemeralOnRedisCluster runs the ephemeral conformance suite on a
// Cluster of three masters: a script or transaction whose keys hash to
// two slots fails there with CROSSSLOT, so every one of them passing
// shows the hash tags are right.
func TestEphemeralOnRedisCluster(t *testing.T) {
	rc := StartCluster(t, t.TempDir(), clusterPort1, clusterPort1+1, clusterPort1+2)
	storetest.RunEphemeral(t, func(t *testing.T, clock *storetest.Clock) store.Ephemeral {
		c := redisstore.NewClient(redisstore.ClientConfig{Addrs: rc.Addrs(), Cluster: true})
		s := redisstore.New(c, redisstore.Options{Prefix: testenv.Name("hubidtest:") + ":", Now: clock.Now})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// TestEphemeralOnSentinel runs the suite through Sentinel discovery.
func TestEphemeralOnSentinel(t *testing.T) {
	s := StartSentinels(t, t.TempDir(), "hubid", sentinelRedis, sentinelPort1, sentinelPort1+1, sentinelPort1+2)
	storetest.RunEphemeral(t, func(t *testing.T, clock *storetest.Clock) store.Ephemeral {
		c := redisstore.NewClient(redisstore.ClientConfig{Addrs: s.SentinelAddrs(), MasterName: s.MasterName})
		st := redisstore.New(c, redisstore.Options{Prefix: testenv.Name("hubidtest:") + ":", Now: clock.Now})
		t.Cleanup(func() { _ = st.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := st.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		return st
	})
}
