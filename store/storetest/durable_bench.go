package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

// BenchGetUserByEmail measures GetUserByEmail on a store with 1,000 users,
// looking them up in a case that differs from the stored one.
func BenchGetUserByEmail(b *testing.B, s store.Durable) {
	ctx := context.Background()
	const n = 1000
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range n {
		u := store.User{ID: fmt.Sprintf("bench-u%d", i), Email: fmt.Sprintf("Bench.User%d@Example.com", i), CreatedAt: now}
		if err := s.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		email := fmt.Sprintf("bench.user%d@EXAMPLE.com", i%n)
		if _, err := s.GetUserByEmail(ctx, email); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchGetClient measures GetClient on a store with 100 clients.
func BenchGetClient(b *testing.B, s store.Durable) {
	ctx := context.Background()
	const n = 100
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range n {
		if err := s.CreateClient(ctx, durClient(fmt.Sprintf("bench-c%d", i), now)); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		if _, err := s.GetClient(ctx, fmt.Sprintf("bench-c%d", i%n)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
