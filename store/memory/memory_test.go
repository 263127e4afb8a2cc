package memory

import (
	"testing"

	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

func TestEphemeral(t *testing.T) {
	storetest.RunEphemeral(t, func(t *testing.T, clock *storetest.Clock) store.Ephemeral {
		return New(Options{Now: clock.Now})
	})
}

func BenchmarkEphemeral(b *testing.B) {
	storetest.BenchEphemeral(b, func(*testing.B) store.Ephemeral { return New(Options{}) })
}
