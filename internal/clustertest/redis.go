package clustertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

const redisHint = "apt-get install -y redis-server redis-sentinel"

// RedisServer is a redis-server started by StartRedis.
type RedisServer struct {
	*Proc
	Port int
}

// Addr is the server's host:port.
func (r *RedisServer) Addr() string { return Addr(r.Port) }

// Client returns a plain client to this one server, closed at cleanup.
func (r *RedisServer) Client(tb testing.TB) *goredis.Client {
	c := goredis.NewClient(&goredis.Options{Addr: r.Addr(), DialTimeout: time.Second, MaxRetries: -1})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// StartRedis starts redis-server on 127.0.0.1:port, without persistence,
// its files in a directory of its own under dir, with the extra
// configuration lines given ("replicaof 127.0.0.1 18220", …), and waits
// until it answers PING.
func StartRedis(tb testing.TB, dir string, port int, extra ...string) *RedisServer {
	tb.Helper()
	bin := Need(tb, "redis-server", redisHint)
	nodeDir := filepath.Join(dir, "redis-"+strconv.Itoa(port))
	if err := os.MkdirAll(nodeDir, 0o700); err != nil {
		tb.Fatal(err)
	}
	conf := []string{
		"bind 127.0.0.1", "port " + strconv.Itoa(port), "daemonize no", "save \"\"", "appendonly no",
		"dir " + nodeDir, "protected-mode no",
	}
	conf = append(conf, extra...)
	path := filepath.Join(nodeDir, "redis.conf")
	if err := os.WriteFile(path, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	p := Start(tb, dir, "redis-"+strconv.Itoa(port), os.Environ(), bin, path)
	r := &RedisServer{Proc: p, Port: port}
	c := r.Client(tb)
	WaitFor(tb, p, 10*time.Second, "redis "+r.Addr(), func(ctx context.Context) error { return c.Ping(ctx).Err() })
	return r
}

// RedisCluster is a Redis Cluster of masters without replicas.
type RedisCluster struct {
	Nodes []*RedisServer
}

// Addrs are the nodes' addresses (seeds for a cluster client).
func (c *RedisCluster) Addrs() []string {
	var a []string
	for _, n := range c.Nodes {
		a = append(a, n.Addr())
	}
	return a
}

// StartCluster starts one master per port (its cluster bus on port+10,
// so that everything stays in the test's port range), splits the 16384
// slots evenly, joins them and waits until every node reports
// cluster_state:ok.
func StartCluster(tb testing.TB, dir string, ports ...int) *RedisCluster {
	tb.Helper()
	rc := &RedisCluster{}
	for _, port := range ports {
		rc.Nodes = append(rc.Nodes, StartRedis(tb, dir, port,
			"cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-port "+strconv.Itoa(port+10),
			"cluster-node-timeout 2000"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	per := 16384 / len(rc.Nodes)
	for i, n := range rc.Nodes {
		c := n.Client(tb)
		lo, hi := i*per, (i+1)*per-1
		if i == len(rc.Nodes)-1 {
			hi = 16383
		}
		if err := c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err(); err != nil {
			tb.Fatalf("cluster addslotsrange on %s: %v", n.Addr(), err)
		}
		if i > 0 {
			if err := c.Do(ctx, "CLUSTER", "MEET", "127.0.0.1", rc.Nodes[0].Port, rc.Nodes[0].Port+10).Err(); err != nil {
				tb.Fatalf("cluster meet from %s: %v", n.Addr(), err)
			}
		}
	}
	for _, n := range rc.Nodes {
		c := n.Client(tb)
		WaitFor(tb, n.Proc, 20*time.Second, "cluster state on "+n.Addr(), func(ctx context.Context) error {
			info, err := c.ClusterInfo(ctx).Result()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d", len(rc.Nodes))) {
				return fmt.Errorf("cluster not ready: %s", strings.Join(strings.Fields(info)[:3], " "))
			}
			return nil
		})
	}
	return rc
}

// Sentinels is a Redis master with one replica, watched by Sentinels.
type Sentinels struct {
	MasterName string
	Master     *RedisServer
	Replicas   []*RedisServer
	Sentinels  []*RedisServer
}

// SentinelAddrs are the Sentinels' addresses.
func (s *Sentinels) SentinelAddrs() []string {
	var a []string
	for _, n := range s.Sentinels {
		a = append(a, n.Addr())
	}
	return a
}

// StartSentinels starts a master on masterPort, a replica of it on
// masterPort+1 and one Sentinel on each of sentinelPorts (quorum: a
// majority), all monitoring the master as name, and waits until the
// replica is in sync and every Sentinel knows it as healthy (a Sentinel
// refuses to fail over to a replica it has not heard from).
func StartSentinels(tb testing.TB, dir, name string, masterPort int, sentinelPorts ...int) *Sentinels {
	tb.Helper()
	bin := Need(tb, "redis-sentinel", redisHint)
	s := &Sentinels{MasterName: name}
	s.Master = StartRedis(tb, dir, masterPort, "repl-diskless-sync-delay 0")
	for _, port := range []int{masterPort + 1} {
		r := StartRedis(tb, dir, port, "repl-diskless-sync-delay 0", fmt.Sprintf("replicaof 127.0.0.1 %d", masterPort))
		s.Replicas = append(s.Replicas, r)
		rc := r.Client(tb)
		WaitFor(tb, r.Proc, 20*time.Second, "replica sync", func(ctx context.Context) error {
			info, err := rc.Info(ctx, "replication").Result()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "master_link_status:up") {
				return fmt.Errorf("replica link not up")
			}
			return nil
		})
	}
	quorum := len(sentinelPorts)/2 + 1
	for _, port := range sentinelPorts {
		sdir := filepath.Join(dir, "sentinel-"+strconv.Itoa(port))
		if err := os.MkdirAll(sdir, 0o700); err != nil {
			tb.Fatal(err)
		}
		conf := strings.Join([]string{
			"bind 127.0.0.1", "port " + strconv.Itoa(port), "daemonize no", "dir " + sdir, "protected-mode no",
			fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d %d", name, masterPort, quorum),
			fmt.Sprintf("sentinel down-after-milliseconds %s 1000", name),
			fmt.Sprintf("sentinel failover-timeout %s 10000", name),
			fmt.Sprintf("sentinel parallel-syncs %s 1", name),
		}, "\n") + "\n"
		path := filepath.Join(sdir, "sentinel.conf") // Sentinel rewrites it: it must be writable
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			tb.Fatal(err)
		}
		p := Start(tb, dir, "sentinel-"+strconv.Itoa(port), os.Environ(), bin, path)
		s.Sentinels = append(s.Sentinels, &RedisServer{Proc: p, Port: port})
	}
	for _, sn := range s.Sentinels {
		c := goredis.NewSentinelClient(&goredis.Options{Addr: sn.Addr(), DialTimeout: time.Second, MaxRetries: -1})
		tb.Cleanup(func() { _ = c.Close() })
		WaitFor(tb, sn.Proc, 20*time.Second, "sentinel "+sn.Addr(), func(ctx context.Context) error {
			replicas, err := c.Replicas(ctx, name).Result()
			if err != nil {
				return err
			}
			if len(replicas) < len(s.Replicas) {
				return fmt.Errorf("sentinel knows %d replicas of %d", len(replicas), len(s.Replicas))
			}
			for _, r := range replicas {
				if r["flags"] != "slave" || r["master-link-status"] != "ok" {
					return fmt.Errorf("replica %s: flags %q, master link %q", r["name"], r["flags"], r["master-link-status"])
				}
			}
			return nil
		})
	}
	return s
}

// ConnectedReplicas is the number of replicas connected to the server at
// addr (INFO replication).
func ConnectedReplicas(ctx context.Context, addr string) (int, error) {
	c := goredis.NewClient(&goredis.Options{Addr: addr, DialTimeout: time.Second, MaxRetries: -1})
	defer c.Close()
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "connected_slaves:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, fmt.Errorf("no connected_slaves in INFO replication")
}

// CurrentMaster asks the first Sentinel which address is the master.
func (s *Sentinels) CurrentMaster(ctx context.Context) (string, error) {
	c := goredis.NewSentinelClient(&goredis.Options{Addr: s.Sentinels[0].Addr(), DialTimeout: time.Second, MaxRetries: -1})
	defer c.Close()
	a, err := c.GetMasterAddrByName(ctx, s.MasterName).Result()
	if err != nil {
		return "", err
	}
	return a[0] + ":" + a[1], nil
}

// Failover makes the first Sentinel fail the master over to the replica
// (SENTINEL FAILOVER: no agreement needed) and returns once the Sentinel
// names the replica as master. The old master stays up and becomes a
// replica of the new one, as after a planned switch or a network blip.
func (s *Sentinels) Failover(tb testing.TB) {
	tb.Helper()
	c := goredis.NewSentinelClient(&goredis.Options{Addr: s.Sentinels[0].Addr(), DialTimeout: time.Second, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	before, err := s.CurrentMaster(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	// A Sentinel refuses (NOGOODSLAVE) until it has the replica's own
	// INFO, which it asks for every few seconds: ask again until it
	// accepts.
	WaitFor(tb, nil, 15*time.Second, "sentinel failover accepted", func(ctx context.Context) error {
		err := c.Failover(ctx, s.MasterName).Err()
		if err != nil && strings.HasPrefix(err.Error(), "INPROG") {
			return nil // accepted by an earlier try
		}
		return err
	})
	WaitFor(tb, nil, 15*time.Second, "failover", func(ctx context.Context) error {
		now, err := s.CurrentMaster(ctx)
		if err != nil {
			return err
		}
		if now == before {
			return fmt.Errorf("master still %s", now)
		}
		return nil
	})
}
