package keysit_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/idp/keys"
	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/postgres"
	"github.com/customerhub/hubid/store/storetest"
)

// openPostgres opens one more connection pool on dsn, like one more
// replica would.
func openPostgres(t *testing.T, dsn string, clk *storetest.Clock) *postgres.Store {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{Now: clk.Now, Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// TestReplicasRaceAScheduledRotation: two hubid instances on one
// PostgreSQL schema reach the rotation time together and both tick, with
// ten more goroutines ticking for good measure: exactly one key is promoted
// and one created. Then a rotation made elsewhere (the CLI: a third
// manager on the same database) is served by both instances within 5 s,
// through their own reload loops (Server.Run).
func TestReplicasRaceAScheduledRotation(t *testing.T) {
	dsn := testenv.Postgres(t)
	ctx := context.Background()
	clk := newClock()
	sec := newSecrets(t)
	// publish_before (10m) is shorter than a retired key's life (65m), so
	// no removal is due while the CLI rotation propagates.
	short := func(c *config.Config) { c.Keys.PublishBefore = config.Duration(10 * time.Minute) }
	a := startInstance(t, openPostgres(t, dsn, clk), "postgres", sec, clk, short)
	b := startInstance(t, openPostgres(t, dsn, clk), "postgres", sec, clk, short)
	if string(a.Server.Keys.JWKS()) != string(b.Server.Keys.JWKS()) {
		t.Fatal("the second instance made its own keys")
	}
	before, err := a.Server.Keys.List(ctx)
	if err != nil || len(before) != 2 {
		t.Fatalf("want one active and one next key: %v %v", before, err)
	}

	clk.Advance(a.Config.Keys.RotationPeriod.D() + time.Minute)
	managers := []*keys.Manager{a.Server.Keys, b.Server.Keys}
	var mu sync.Mutex
	var events []keys.Event
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 12 {
		km := managers[i%2]
		wg.Go(func() {
			<-start
			evs, err := km.Tick(ctx)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			events = append(events, evs...)
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	var changes []string
	for _, e := range events {
		changes = append(changes, e.From+">"+e.To)
	}
	slices.Sort(changes)
	if want := []string{">next", "active>retired", "next>active"}; !slices.Equal(changes, want) {
		t.Fatalf("state changes %v, want exactly %v", changes, want)
	}
	after, err := a.Server.Keys.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	count := map[store.KeyState]int{}
	for _, k := range after {
		count[k.State]++
	}
	if len(after) != 3 || count[store.KeyActive] != 1 || count[store.KeyNext] != 1 || count[store.KeyRetired] != 1 {
		t.Fatalf("keys after the race: %v", count)
	}

	// Both instances poll the store (Server.Run reloads every 2 s).
	runCtx, stop := context.WithCancel(ctx)
	var running sync.WaitGroup
	for _, in := range []*instance{a, b} {
		running.Go(func() { in.Server.Run(runCtx) })
	}
	defer func() { stop(); running.Wait() }()

	// The CLI rotates once the new next key has been published long enough.
	clk.Advance(a.Config.Keys.PublishBefore.D())
	cli := keys.New(keys.Config{Now: clk.Now, Policy: a.Server.Keys.Policy()}, openPostgres(t, dsn, clk), sec.ring)
	if _, err := cli.Rotate(keys.WithActor(ctx, "cli"), false); err != nil {
		t.Fatal(err)
	}
	want := string(cli.JWKS())
	if len(jwksKids(t, want)) != 4 {
		t.Fatalf("after the CLI rotation: %v", jwksKids(t, want))
	}
	deadline := time.Now().Add(5 * time.Second)
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	for {
		ba, _ := getKeys(t, a.URL)
		bb, _ := getKeys(t, b.URL)
		if ba == want && bb == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("instances did not serve the rotated key set within 5 s:\n a %v\n b %v\n want %v",
				jwksKids(t, ba), jwksKids(t, bb), jwksKids(t, want))
		}
		<-poll.C
	}
	sa, _ := a.Server.Keys.SigningFor("RS256")
	sb, _ := b.Server.Keys.SigningFor("RS256")
	if sa.ID() != sb.ID() {
		t.Fatalf("instances sign with different keys: %s, %s", sa.ID(), sb.ID())
	}
}
