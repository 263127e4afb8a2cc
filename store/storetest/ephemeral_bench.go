package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

// BenchEphemeral benchmarks the hot ephemeral operations: code redemption,
// refresh rotation and session reads. open returns an empty store on the
// real clock and registers its cleanup on b.
func BenchEphemeral(b *testing.B, open func(b *testing.B) store.Ephemeral) {
	b.Run("ConsumeAuthCode", func(b *testing.B) {
		ctx := context.Background()
		s := open(b)
		ids := make([]string, b.N)
		for i := range ids {
			ids[i] = fmt.Sprintf("bench-code-%d", i)
			if err := s.CreateAuthCode(ctx, ephCode(ids[i], time.Now())); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for _, id := range ids {
			if _, err := s.ConsumeAuthCode(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RotateRefreshToken", func(b *testing.B) {
		ctx := context.Background()
		s := open(b)
		prev := "bench-rt-0"
		if err := s.CreateRefreshToken(ctx, ephToken(prev, "bench-fam", time.Now())); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			next := ephToken(fmt.Sprintf("bench-rt-%d", i+1), "bench-fam", time.Now())
			if _, err := s.RotateRefreshToken(ctx, prev, next, 0); err != nil {
				b.Fatal(err)
			}
			prev = next.ID
		}
	})
	b.Run("GetSession", func(b *testing.B) {
		ctx := context.Background()
		s := open(b)
		x := ephSession("bench-sess", "bench-user", time.Now())
		if err := s.CreateSession(ctx, x); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := s.GetSession(ctx, x.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}
