package argon2

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"testing"

	xargon2 "golang.org/x/crypto/argon2"
)

// RFC 9106 section 5.3: Argon2id with a secret and associated data.
func TestRFC9106Vector(t *testing.T) {
	want, _ := hex.DecodeString("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659")
	var buf Buffer
	// Twice with the same Buffer: the second run starts from dirty memory.
	for i := range 2 {
		got := deriveKey(&buf, argon2id, bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 16),
			bytes.Repeat([]byte{3}, 8), bytes.Repeat([]byte{4}, 12), 3, 32, 4, 32)
		if !bytes.Equal(got, want) {
			t.Fatalf("run %d: tag %x, want %x", i, got, want)
		}
	}
}

// TestMatchesXCrypto compares IDKey with x/crypto's for random inputs and
// parameters, through one Buffer that every hash leaves dirty for the next
// (growing and shrinking), and without a Buffer.
func TestMatchesXCrypto(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var buf Buffer
	n := 300
	if testing.Short() {
		n = 50
	}
	for i := range n {
		pw := make([]byte, r.IntN(80))
		salt := make([]byte, 8+r.IntN(40))
		for _, b := range [][]byte{pw, salt} {
			for j := range b {
				b[j] = byte(r.Uint32())
			}
		}
		time := 1 + r.Uint32N(4)
		threads := uint8(1 + r.IntN(6))
		memory := r.Uint32N(2048) // below 8*threads too: both round it up
		keyLen := 4 + r.Uint32N(200)
		want := xargon2.IDKey(pw, salt, time, memory, threads, keyLen)
		if got := IDKey(&buf, pw, salt, time, memory, threads, keyLen); !bytes.Equal(got, want) {
			t.Fatalf("case %d (t=%d m=%d p=%d len=%d): %x, want %x", i, time, memory, threads, keyLen, got, want)
		}
		if i%10 == 0 {
			if got := IDKey(nil, pw, salt, time, memory, threads, keyLen); !bytes.Equal(got, want) {
				t.Fatalf("case %d without a Buffer: %x, want %x", i, got, want)
			}
		}
	}
	// hubid's default parameters, after the small ones dirtied the Buffer.
	pw, salt := []byte("correct horse battery staple"), []byte("0123456789abcdef")
	want := xargon2.IDKey(pw, salt, 2, 19456, 1, 32)
	for i := range 2 {
		if got := IDKey(&buf, pw, salt, 2, 19456, 1, 32); !bytes.Equal(got, want) {
			t.Fatalf("default parameters, run %d: %x, want %x", i, got, want)
		}
	}
}

func BenchmarkIDKey(b *testing.B) {
	pw, salt := []byte("password"), []byte("0123456789abcdef")
	b.Run("x-crypto", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			xargon2.IDKey(pw, salt, 2, 19456, 1, 32)
		}
	})
	b.Run("buffer", func(b *testing.B) {
		b.ReportAllocs()
		var buf Buffer
		for b.Loop() {
			IDKey(&buf, pw, salt, 2, 19456, 1, 32)
		}
	})
}
