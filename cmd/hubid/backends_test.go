package main

import (
	"testing"

	"github.com/customerhub/hubid/idp/config"
)

func TestRedisClientConfig(t *testing.T) {
	env := map[string]string{"RP": "data-pw", "SP": "sentinel-pw"}
	getenv := func(k string) string { return env[k] }
	base := config.Redis{Username: "hubid", Password: config.SecretRef{Env: "RP"}, TLS: true}

	standalone := base
	standalone.Addrs = []string{"r:6379"}
	sentinel := base
	sentinel.Sentinel = config.RedisSentinel{MasterName: "mymaster", Addrs: []string{"s1:26379", "s2:26379"},
		Username: "sentinel", Password: config.SecretRef{Env: "SP"}}
	cluster := base
	cluster.Cluster.Addrs = []string{"c1:7000", "c2:7000"}

	for name, tc := range map[string]struct {
		in                   config.Redis
		addrs                int
		master               string
		cluster              bool
		sentinelUser, sentPW string
	}{
		"standalone": {in: standalone, addrs: 1},
		"sentinel":   {in: sentinel, addrs: 2, master: "mymaster", sentinelUser: "sentinel", sentPW: "sentinel-pw"},
		"cluster":    {in: cluster, addrs: 2, cluster: true},
	} {
		cc, err := redisClientConfig(tc.in, getenv)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(cc.Addrs) != tc.addrs || cc.MasterName != tc.master || cc.Cluster != tc.cluster ||
			cc.SentinelUsername != tc.sentinelUser || cc.SentinelPassword != tc.sentPW ||
			cc.Username != "hubid" || cc.Password != "data-pw" || !cc.TLS {
			t.Errorf("%s: %+v", name, cc)
		}
	}
	bad := sentinel
	bad.Sentinel.Password = config.SecretRef{Env: "MISSING"}
	if _, err := redisClientConfig(bad, getenv); err == nil {
		t.Error("a missing sentinel password must fail")
	}
}
