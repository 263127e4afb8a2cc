package keysit_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/customerhub/hubid/idp/keys"
	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

// nextKid returns the kid of the next key (the one a rotation created)
// as the store has it.
func nextKid(t *testing.T, km *keys.Manager) string {
	t.Helper()
	ks, err := km.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ks, func(k store.SigningKey) bool { return k.State == store.KeyNext })
	if i < 0 {
		t.Fatalf("no next key: %+v", ks)
	}
	return ks[i].ID
}

// runKeys runs env's key loop on a tick channel the test owns: the
// polling clock moves only when the test sends on it.
func runKeys(t *testing.T, env *hubtest.Env) chan time.Time {
	tick := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); env.Server.Keys.Run(ctx, tick) }()
	t.Cleanup(func() { cancel(); <-done })
	return tick
}

// awaitServed waits, on the manager's Changed channel and at most 10 s,
// until env's /keys publishes kid.
func awaitServed(t *testing.T, env *hubtest.Env, kid string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		changed := env.Server.Keys.Changed()
		body, _ := getKeys(t, env.URL)
		if slices.Contains(jwksKids(t, body), kid) {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("%s/keys lacks %s 10 s after the rotation: %v", env.URL, kid, jwksKids(t, body))
		}
	}
}

// TestForcedRotationReachesReplicasAtOnce: two replicas on one PostgreSQL
// schema and one Redis; `keys rotate --force` on one (its key manager) is
// announced through Redis, and the other's /keys serves the new key
// without its polling clock moving, and signs with the same active key.
func TestForcedRotationReachesReplicasAtOnce(t *testing.T) {
	a := hubtest.New(t, hubtest.Options{Backend: "external"})
	b := hubtest.New(t, hubtest.Options{ReplicaOf: a})
	runKeys(t, b) // never ticked
	if _, err := a.Server.Keys.Rotate(keys.WithActor(context.Background(), "cli"), true); err != nil {
		t.Fatal(err)
	}
	awaitServed(t, b, nextKid(t, a.Server.Keys))
	sa, _ := a.Server.Keys.Signing()
	sb, _ := b.Server.Keys.Signing()
	if sa.ID() != sb.ID() {
		t.Fatalf("replicas sign with different keys after the announced rotation: %s, %s", sa.ID(), sb.ID())
	}
}

// TestKeyPollingFallbackWithoutAnnouncements: a replica cut off from
// Redis misses the announcement; its next poll (the polling clock moved
// once) serves the new key.
func TestKeyPollingFallbackWithoutAnnouncements(t *testing.T) {
	a := hubtest.New(t, hubtest.Options{Backend: "external"})
	b := hubtest.New(t, hubtest.Options{ReplicaOf: a, RedisProxy: true})
	tick := runKeys(t, b)
	b.RedisProxy.SetDown(true)
	if _, err := a.Server.Keys.Rotate(keys.WithActor(context.Background(), "cli"), true); err != nil {
		t.Fatal(err)
	}
	tick <- time.Now()
	awaitServed(t, b, nextKid(t, a.Server.Keys))
}
