package password

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/customerhub/hubid/password/internal/argon2"
)

// fast are cheap parameters for tests that are not about cost.
var fast = Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

func TestHashFormatAtDefaults(t *testing.T) {
	salt := bytes.Repeat([]byte{0xA5}, 16)
	h := &Hasher{Params: DefaultParams(), Rand: bytes.NewReader(salt)}
	got, err := h.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	prefix := "$argon2id$v=19$m=19456,t=2,p=1$" + base64.RawStdEncoding.EncodeToString(salt) + "$"
	if !strings.HasPrefix(got, prefix) {
		t.Fatalf("Hash = %q, want prefix %q", got, prefix)
	}
	key, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(got, prefix))
	if err != nil || len(key) != 32 {
		t.Fatalf("key part: %d bytes, %v; want 32 bytes of unpadded base64", len(key), err)
	}
	ok, rehash, err := h.Verify("correct horse", got)
	if !ok || rehash || err != nil {
		t.Fatalf("Verify(right) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	ok, rehash, err = h.Verify("correct horsf", got)
	if ok || rehash || err != nil {
		t.Fatalf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
	}
}

// Vectors from the reference implementation's tests (phc-winner-argon2).
var reference = []struct{ pw, hash string }{
	{"password", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},
	{"password", "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"},
	{"password", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"},
}

func TestReferenceVectors(t *testing.T) {
	h := &Hasher{Params: fast}
	for _, v := range reference {
		ok, _, err := h.Verify(v.pw, v.hash)
		if !ok || err != nil {
			t.Errorf("Verify(%q, %s) = %v, %v; want true, nil", v.pw, v.hash, ok, err)
		}
		ok, _, err = h.Verify("passwore", v.hash)
		if ok || err != nil {
			t.Errorf("Verify(wrong, %s) = %v, %v; want false, nil", v.hash, ok, err)
		}
	}
	// Hash writes exactly the reference encoding given the same salt.
	h = &Hasher{
		Params: Params{Memory: 256, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 8},
		Rand:   strings.NewReader("somesalt"),
	}
	got, err := h.Hash("password")
	if err != nil {
		t.Fatal(err)
	}
	if got != reference[0].hash {
		t.Fatalf("Hash = %s, want %s", got, reference[0].hash)
	}
}

func TestSaltsDiffer(t *testing.T) {
	h := &Hasher{Params: fast}
	a, err1 := h.Hash("pw")
	b, err2 := h.Hash("pw")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if a == b {
		t.Fatalf("two hashes of one password are equal: %s", a)
	}
}

func TestHashErrors(t *testing.T) {
	boom := errors.New("entropy exhausted")
	h := &Hasher{Params: fast, Rand: errReader{boom}}
	if _, err := h.Hash("pw"); !errors.Is(err, boom) {
		t.Errorf("Hash with failing Rand: err = %v, want it to wrap %v", err, boom)
	}
	h = &Hasher{Params: Params{Memory: 64, Time: 0, Threads: 1, KeyLen: 32, SaltLen: 16}}
	if _, err := h.Hash("pw"); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("Hash with t=0: err = %v, want ErrInvalidParams", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestNeedsRehash(t *testing.T) {
	current := Params{Memory: 128, Time: 2, Threads: 2, KeyLen: 32, SaltLen: 16}
	tests := []struct {
		name   string
		stored Params
		want   bool
	}{
		{"same", current, false},
		{"stronger", Params{Memory: 256, Time: 3, Threads: 4, KeyLen: 64, SaltLen: 32}, false},
		{"memory lower", Params{Memory: 64, Time: 2, Threads: 2, KeyLen: 32, SaltLen: 16}, true},
		{"time lower", Params{Memory: 128, Time: 1, Threads: 2, KeyLen: 32, SaltLen: 16}, true},
		{"threads lower", Params{Memory: 128, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}, true},
		{"key shorter", Params{Memory: 128, Time: 2, Threads: 2, KeyLen: 16, SaltLen: 16}, true},
		{"salt shorter", Params{Memory: 128, Time: 2, Threads: 2, KeyLen: 32, SaltLen: 8}, true},
		{"one lower, others higher", Params{Memory: 1024, Time: 1, Threads: 4, KeyLen: 64, SaltLen: 32}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stored, err := (&Hasher{Params: tt.stored}).Hash("pw")
			if err != nil {
				t.Fatal(err)
			}
			h := &Hasher{Params: current}
			ok, rehash, err := h.Verify("pw", stored)
			if !ok || err != nil {
				t.Fatalf("Verify = %v, %v", ok, err)
			}
			if rehash != tt.want {
				t.Errorf("needsRehash = %v, want %v", rehash, tt.want)
			}
			// A wrong password never asks for a rehash.
			if _, rehash, _ := h.Verify("wrong", stored); rehash {
				t.Errorf("needsRehash = true for a wrong password")
			}
		})
	}
}

func TestBcrypt(t *testing.T) {
	raw, err := bcrypt.GenerateFromPassword([]byte("legacy pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	h := &Hasher{Params: fast}
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		stored := prefix + string(raw[4:])
		ok, rehash, err := h.Verify("legacy pw", stored)
		if !ok || !rehash || err != nil {
			t.Errorf("Verify(right, %s) = %v, %v, %v; want true, true, nil", prefix, ok, rehash, err)
		}
		ok, rehash, err = h.Verify("legacy pX", stored)
		if ok || rehash || err != nil {
			t.Errorf("Verify(wrong, %s) = %v, %v, %v; want false, false, nil", prefix, ok, rehash, err)
		}
	}
	// A hostile cost is refused before any work is done.
	hostile := strings.Replace(string(raw), "$04$", "$31$", 1)
	if _, _, err := h.Verify("legacy pw", hostile); !errors.Is(err, ErrMalformedHash) {
		t.Errorf("Verify(cost 31): err = %v, want ErrMalformedHash", err)
	}
	// Other bcrypt minor versions are not accepted.
	if _, _, err := h.Verify("legacy pw", "$2x$"+string(raw[4:])); !errors.Is(err, ErrMalformedHash) {
		t.Errorf("Verify($2x$): err = %v, want ErrMalformedHash", err)
	}
}

func TestMalformed(t *testing.T) {
	const salt, key = "c29tZXNhbHQ", "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	phc := func(v, params, s, k string) string { return "$argon2id$" + v + "$" + params + "$" + s + "$" + k }
	ok := phc("v=19", "m=256,t=2,p=1", salt, key)
	if okv, _, err := (&Hasher{Params: fast}).Verify("password", ok); !okv || err != nil {
		t.Fatalf("baseline %s does not verify: %v", ok, err)
	}
	long := func(n int) string { return base64.RawStdEncoding.EncodeToString(make([]byte, n)) }
	bad := map[string]string{
		"empty":              "",
		"plain text":         "password",
		"argon2i":            "$argon2i$v=19$m=256,t=2,p=1$" + salt + "$" + key,
		"argon2d":            "$argon2d$v=19$m=256,t=2,p=1$" + salt + "$" + key,
		"no version":         "$argon2id$m=256,t=2,p=1$" + salt + "$" + key,
		"version 16":         phc("v=16", "m=256,t=2,p=1", salt, key),
		"version 016":        phc("v=016", "m=256,t=2,p=1", salt, key),
		"missing key":        "$argon2id$v=19$m=256,t=2,p=1$" + salt,
		"trailing field":     ok + "$",
		"params reordered":   phc("v=19", "t=2,m=256,p=1", salt, key),
		"param missing":      phc("v=19", "m=256,t=2", salt, key),
		"extra param":        phc("v=19", "m=256,t=2,p=1,keyid=x", salt, key),
		"leading zero":       phc("v=19", "m=0256,t=2,p=1", salt, key),
		"sign":               phc("v=19", "m=+256,t=2,p=1", salt, key),
		"negative":           phc("v=19", "m=256,t=-2,p=1", salt, key),
		"huge number":        phc("v=19", "m=99999999999999999999,t=2,p=1", salt, key),
		"t=0":                phc("v=19", "m=256,t=0,p=1", salt, key),
		"p=0":                phc("v=19", "m=256,t=2,p=0", salt, key),
		"p=256":              phc("v=19", "m=4096,t=2,p=256", salt, key),
		"m below 8p":         phc("v=19", "m=15,t=2,p=2", salt, key),
		"m above 4 GiB":      phc("v=19", "m=4194305,t=2,p=1", salt, key),
		"m = max uint32":     phc("v=19", "m=4294967295,t=2,p=1", salt, key),
		"m wraps to 256":     phc("v=19", "m=4294967552,t=2,p=1", salt, key),
		"t wraps to 2":       phc("v=19", "m=256,t=4294967298,p=1", salt, key),
		"p wraps to 1":       phc("v=19", "m=256,t=2,p=257", salt, key),
		"t above 100":        phc("v=19", "m=256,t=101,p=1", salt, key),
		"key above 1024":     phc("v=19", "m=256,t=2,p=1", salt, long(1025)),
		"key below 16":       phc("v=19", "m=256,t=2,p=1", salt, long(15)),
		"salt below 8":       phc("v=19", "m=256,t=2,p=1", long(7), key),
		"salt above 1024":    phc("v=19", "m=256,t=2,p=1", long(1025), key),
		"padded salt":        phc("v=19", "m=256,t=2,p=1", salt+"=", key),
		"url base64 key":     phc("v=19", "m=256,t=2,p=1", salt, strings.ReplaceAll(key, "/", "_")),
		"non-canonical b64":  phc("v=19", "m=256,t=2,p=1", "c29tZXNhbHR", key),
		"bcrypt short":       "$2a$10$abc",
		"bcrypt bad cost":    "$2a$1x$" + strings.Repeat("a", 53),
		"bcrypt garbage b64": "$2b$04$" + strings.Repeat("!", 53),
	}
	h := &Hasher{Params: fast}
	for name, encoded := range bad {
		t.Run(name, func(t *testing.T) {
			ok, rehash, err := h.Verify("password", encoded)
			if ok || rehash || !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("Verify(%.80q) = %v, %v, %v; want false, false, ErrMalformedHash", encoded, ok, rehash, err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultParams().Validate(); err != nil {
		t.Fatalf("DefaultParams().Validate() = %v", err)
	}
	if err := fast.Validate(); err != nil {
		t.Fatalf("fast.Validate() = %v", err)
	}
	tests := []struct {
		name string
		p    Params
		want int // number of problems reported
	}{
		{"zero value", Params{}, 5},
		{"memory below 8 KiB per thread", Params{Memory: 31, Time: 1, Threads: 4, KeyLen: 32, SaltLen: 16}, 1},
		{"memory above max", Params{Memory: MaxMemory + 1, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 1},
		{"time above max", Params{Memory: 64, Time: MaxTime + 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 1},
		{"short key and salt", Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 8, SaltLen: 4}, 2},
		{"long key and salt", Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 2048, SaltLen: 2048}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if !errors.Is(err, ErrInvalidParams) {
				t.Fatalf("Validate() = %v, want ErrInvalidParams", err)
			}
			if got := len(strings.Split(err.Error(), "\n")); got != tt.want {
				t.Errorf("Validate() reported %d problems, want %d:\n%v", got, tt.want, err)
			}
		})
	}
}

// TestDummyVerifyWork checks that DummyVerify derives one key per call with
// exactly the configured parameters and builds its hash only once.
func TestDummyVerifyWork(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	orig := deriveKey
	t.Cleanup(func() { deriveKey = orig })
	deriveKey = func(buf *argon2.Buffer, pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		mu.Lock()
		calls = append(calls, fmt.Sprintf("m=%d,t=%d,p=%d,k=%d,s=%d", memory, time, threads, keyLen, len(salt)))
		mu.Unlock()
		return orig(buf, pw, salt, time, memory, threads, keyLen)
	}
	p := Params{Memory: 96, Time: 3, Threads: 2, KeyLen: 48, SaltLen: 24}
	h := &Hasher{Params: p, Rand: errReader{errors.New("DummyVerify must not need randomness")}}
	h.DummyVerify("a")
	h.DummyVerify("b")
	want := "m=96,t=3,p=2,k=48,s=24"
	if len(calls) != 2 || calls[0] != want || calls[1] != want {
		t.Fatalf("derivations = %q, want two of %q", calls, want)
	}
}

func TestDummyVerifyConcurrent(t *testing.T) {
	h := &Hasher{Params: fast}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { h.DummyVerify("pw") })
	}
	wg.Wait()
	if _, _, err := h.Verify("pw", h.dummy); err != nil {
		t.Fatalf("dummy hash %q does not parse: %v", h.dummy, err)
	}
}

func TestDummyVerifyInvalidParams(t *testing.T) {
	h := &Hasher{} // zero Params would make argon2 panic
	h.DummyVerify("pw")
	if !strings.HasPrefix(h.dummy, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("dummy = %q, want one at DefaultParams", h.dummy)
	}
}

func FuzzVerify(f *testing.F) {
	for _, v := range reference {
		f.Add(v.pw, v.hash)
	}
	f.Add("pw", "$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("pw", "$2a$04$abcdefghijklmnopqrstuu9Q0Swvqp1rYLxrJxNZl0eJX5ZYNaq1W")
	f.Add("", "$argon2id$v=19$m=0,t=0,p=0$$")
	f.Add("x", "$2y$")
	h := &Hasher{Params: fast}
	f.Fuzz(func(t *testing.T, pw, encoded string) {
		// Keep each run cheap: skip valid hashes that would be slow to
		// evaluate (the bounds themselves are tested in TestMalformed).
		if p, _, _, err := decodeArgon2id(encoded); err == nil && uint64(p.Memory)*uint64(p.Time) > 1<<12 {
			return
		}
		if strings.HasPrefix(encoded, "$2") {
			if c, err := bcrypt.Cost([]byte(encoded)); err == nil && c > 6 {
				return
			}
		}
		ok, rehash, err := h.Verify(pw, encoded)
		if err != nil {
			if ok || rehash {
				t.Fatalf("Verify returned ok=%v rehash=%v with error %v", ok, rehash, err)
			}
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("error %v does not wrap ErrMalformedHash", err)
			}
		}
		if rehash && !ok {
			t.Fatalf("needsRehash without ok")
		}
	})
}

func BenchmarkHash(b *testing.B) {
	h := &Hasher{Params: DefaultParams()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := &Hasher{Params: DefaultParams()}
	stored, err := h.Hash("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, err := h.Verify("correct horse battery staple", stored); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func TestConcurrentHashesAreBounded(t *testing.T) {
	h := &Hasher{Params: Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, MaxConcurrent: 2}
	var cur, peak atomic.Int32
	orig := deriveKey
	deriveKey = func(buf *argon2.Buffer, pw, salt []byte, t, m uint32, th uint8, kl uint32) []byte {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		defer cur.Add(-1)
		runtime.Gosched()
		return orig(buf, pw, salt, t, m, th, kl)
	}
	t.Cleanup(func() { deriveKey = orig })
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.Hash("correct horse"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if p := peak.Load(); p > 2 || p < 1 {
		t.Fatalf("peak concurrent hashes %d, want at most 2", p)
	}
}

// TestBuffersReused checks that hashes reuse block memory (no per-hash
// allocation of Params.Memory) and that a stored hash with more memory than
// the Hasher's parameters does not leave its buffer for later hashes.
func TestBuffersReused(t *testing.T) {
	p := Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}
	h := &Hasher{Params: p, MaxConcurrent: 1}
	stored, err := h.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	big := &Hasher{Params: Params{Memory: DefaultParams().Memory + 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}}
	bigStored, err := big.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	var bufs []*argon2.Buffer
	orig := deriveKey
	t.Cleanup(func() { deriveKey = orig })
	deriveKey = func(buf *argon2.Buffer, pw, salt []byte, t, m uint32, th uint8, kl uint32) []byte {
		bufs = append(bufs, buf)
		return orig(buf, pw, salt, t, m, th, kl)
	}
	// No garbage collection during the loops: a collection may empty the
	// pool, which is not what this test is about. Under the race detector
	// sync.Pool still drops one Put in four on purpose, so about n/4
	// distinct buffers are expected there and 1 without it; a Hasher that
	// did not reuse would show n.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	const n = 100
	distinct := map[*argon2.Buffer]bool{}
	for range n {
		if ok, _, err := h.Verify("pw", stored); !ok || err != nil {
			t.Fatalf("Verify = %v, %v", ok, err)
		}
		distinct[bufs[len(bufs)-1]] = true
	}
	// sync.Pool may drop a buffer now and then (a garbage collection, or
	// on purpose under the race detector), but most hashes must reuse one.
	if len(distinct) > n/2 {
		t.Fatalf("%d hashes used %d distinct buffers, want mostly reused", n, len(distinct))
	}
	if ok, _, err := h.Verify("pw", bigStored); !ok || err != nil {
		t.Fatalf("Verify(bigger hash) = %v, %v", ok, err)
	}
	bigBuf := bufs[len(bufs)-1]
	for range n {
		if ok, _, err := h.Verify("pw", stored); !ok || err != nil {
			t.Fatalf("Verify = %v, %v", ok, err)
		}
		if bufs[len(bufs)-1] == bigBuf {
			t.Fatal("the buffer of a hash bigger than the defaults was reused")
		}
	}
}
