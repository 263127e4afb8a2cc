// Package password hashes and verifies passwords and client secrets.
//
// New hashes are argon2id (RFC 9106) in the PHC string format
//
//	$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>
//
// with salt and key in unpadded standard base64, as written by the reference
// implementation and most other libraries. Verify also accepts bcrypt hashes
// ($2a$, $2b$, $2y$) and PBKDF2-SHA256 (pbkdf2.go) imported from legacy
// systems and always asks for them to be rehashed. Stored hashes are
// treated as untrusted input: parameters that would make a single
// verification exhaust memory or CPU are refused.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/customerhub/hubid/password/internal/argon2"
)

// Bounds on argon2id parameters, for new hashes (Params.Validate) and for
// stored hashes (Verify). The upper bounds keep a hostile or corrupted stored
// hash from tying up the server; the lower bounds refuse parameters that give
// no meaningful protection.
const (
	MaxMemory  = 4 << 20 // KiB, i.e. 4 GiB
	MaxTime    = 100
	MinKeyLen  = 16
	MaxKeyLen  = 1024
	MinSaltLen = 8
	MaxSaltLen = 1024
	// MaxBcryptCost bounds the cost of imported bcrypt hashes; cost 15
	// already takes a few seconds per verification on current CPUs.
	MaxBcryptCost = 15
)

// ErrMalformedHash is wrapped by every error that Verify returns for a stored
// hash it cannot parse or refuses to evaluate.
var ErrMalformedHash = errors.New("password: malformed hash")

// ErrInvalidParams is wrapped by the errors of Params.Validate.
var ErrInvalidParams = errors.New("password: invalid argon2id parameters")

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8  // lanes
	KeyLen  uint32 // bytes of derived key
	SaltLen uint32 // bytes of random salt
}

// DefaultParams returns the OWASP-recommended minimum for argon2id:
// 19 MiB, 2 passes, 1 lane, a 32-byte key and a 16-byte salt.
func DefaultParams() Params {
	return Params{Memory: 19456, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}
}

// Validate reports every problem with p at once, each wrapping
// ErrInvalidParams; it returns nil when p may be used for new hashes.
func (p Params) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidParams}, args...)...))
	}
	if p.Time < 1 {
		bad("time must be at least 1")
	}
	if p.Time > MaxTime {
		bad("time %d exceeds %d", p.Time, MaxTime)
	}
	if p.Threads < 1 {
		bad("threads must be at least 1")
	}
	if p.Memory < 8*max(1, uint32(p.Threads)) {
		bad("memory %d KiB is less than 8 KiB per thread (%d threads)", p.Memory, p.Threads)
	}
	if p.Memory > MaxMemory {
		bad("memory %d KiB exceeds %d KiB", p.Memory, MaxMemory)
	}
	if p.KeyLen < MinKeyLen || p.KeyLen > MaxKeyLen {
		bad("key length %d is outside [%d, %d]", p.KeyLen, MinKeyLen, MaxKeyLen)
	}
	if p.SaltLen < MinSaltLen || p.SaltLen > MaxSaltLen {
		bad("salt length %d is outside [%d, %d]", p.SaltLen, MinSaltLen, MaxSaltLen)
	}
	return errors.Join(errs...)
}

// weakerThan reports whether any cost parameter of p is below that of q.
func (p Params) weakerThan(q Params) bool {
	return p.Memory < q.Memory || p.Time < q.Time || p.Threads < q.Threads ||
		p.KeyLen < q.KeyLen || p.SaltLen < q.SaltLen
}

// Hasher hashes and verifies passwords. Set Params and Rand before first use
// and do not change them afterwards; a Hasher is then safe for concurrent use
// and must not be copied.
type Hasher struct {
	Params Params
	// Rand is the source of salts; nil means crypto/rand.Reader.
	Rand io.Reader

	// MaxConcurrent bounds how many hashes run at once (0 = GOMAXPROCS).
	// Each argon2id hash holds Params.Memory KiB; without a bound, a burst
	// of sign-ins (or of guesses for unknown emails) multiplies that memory
	// and slows every hash. Extra callers wait their turn.
	MaxConcurrent int

	dummyOnce sync.Once
	dummy     string
	semOnce   sync.Once
	sem       chan struct{}
	// bufs holds the argon2id block memory (Params.Memory KiB each) of
	// hashes that finished, for the next hash to reuse: hashing then
	// allocates nothing of that size, and the heap holds at most
	// MaxConcurrent such buffers, as no more hashes run at once. Buffers
	// left unused across two garbage collections are dropped (sync.Pool),
	// so an idle server gives the memory back.
	bufs sync.Pool
}

// slot takes a hashing slot and returns an argon2id buffer and the slot's
// release.
func (h *Hasher) slot() (*argon2.Buffer, func()) {
	h.semOnce.Do(func() {
		n := h.MaxConcurrent
		if n <= 0 {
			n = runtime.GOMAXPROCS(0)
		}
		h.sem = make(chan struct{}, n)
	})
	h.sem <- struct{}{}
	buf, _ := h.bufs.Get().(*argon2.Buffer)
	if buf == nil {
		buf = new(argon2.Buffer)
	}
	return buf, func() {
		// A stored hash with more memory than h.Params (a legacy or
		// hostile one) must not keep its buffer alive for later hashes.
		if buf.Size() <= max(h.Params.Memory, DefaultParams().Memory) {
			h.bufs.Put(buf)
		}
		<-h.sem
	}
}

// deriveKey is argon2.IDKey; tests replace it to observe the work done.
var deriveKey = argon2.IDKey

// Hash returns the PHC string of pw's argon2id hash under h.Params.
func (h *Hasher) Hash(pw string) (string, error) {
	if err := h.Params.Validate(); err != nil {
		return "", err
	}
	r := h.Rand
	if r == nil {
		r = rand.Reader
	}
	salt := make([]byte, h.Params.SaltLen)
	if _, err := io.ReadFull(r, salt); err != nil {
		return "", fmt.Errorf("password: reading salt: %w", err)
	}
	p := h.Params
	buf, release := h.slot()
	key := deriveKey(buf, []byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	release()
	return encode(p, salt, key), nil
}

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Verify reports whether pw matches the stored hash encoded, and whether the
// caller should store a new Hash(pw) because encoded is bcrypt or uses
// parameters weaker than h.Params (needsRehash is only ever true when ok is).
// A hash that cannot be parsed, or whose parameters are outside the bounds of
// this package, yields an error wrapping ErrMalformedHash.
func (h *Hasher) Verify(pw, encoded string) (ok bool, needsRehash bool, err error) {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		p, salt, key, err := decodeArgon2id(encoded)
		if err != nil {
			return false, false, err
		}
		buf, release := h.slot()
		got := deriveKey(buf, []byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
		release()
		if subtle.ConstantTimeCompare(got, key) != 1 {
			return false, false, nil
		}
		return true, p.weakerThan(h.Params), nil
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		if err := checkBcrypt(encoded); err != nil {
			return false, false, err
		}
		_, release := h.slot()
		err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(pw))
		release()
		switch {
		case err == nil:
			return true, true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, false, nil
		default:
			return false, false, fmt.Errorf("%w: bcrypt: %w", ErrMalformedHash, err)
		}
	case strings.HasPrefix(encoded, "$pbkdf2-sha256$"):
		ok, err := h.verifyPBKDF2(pw, encoded)
		return ok, ok, err
	default:
		return false, false, fmt.Errorf("%w: unsupported algorithm", ErrMalformedHash)
	}
}

// DummyVerify does the work of verifying pw against an argon2id hash with
// h.Params and discards the result, so that a sign-in for an unknown account
// takes as long as one for a known account. The dummy hash is built once per
// Hasher, from the Params at the first call.
func (h *Hasher) DummyVerify(pw string) {
	h.dummyOnce.Do(func() {
		p := h.Params
		if p.Validate() != nil {
			// Hash fails with these parameters, so no real hash uses them
			// either; fall back to the defaults rather than panic in argon2.
			p = DefaultParams()
		}
		// The salt and key do not matter (the result is discarded); the
		// cost is exactly one argon2id derivation with p, as for a real hash.
		h.dummy = encode(p, make([]byte, p.SaltLen), make([]byte, p.KeyLen))
	})
	_, _, _ = h.Verify(pw, h.dummy)
}

// decodeArgon2id parses a PHC argon2id string strictly: version 19, the
// parameters m, t, p in that order and nothing else, canonical decimal
// numbers, and unpadded standard base64.
func decodeArgon2id(s string) (Params, []byte, []byte, error) {
	malformed := func(format string, args ...any) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: argon2id: "+format, append([]any{ErrMalformedHash}, args...)...)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return malformed("want 5 $-separated fields")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return malformed("unsupported version %.10q", parts[2])
	}
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return malformed("want parameters m, t, p")
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(fields[i], name)
		if !ok {
			return malformed("want parameters m, t, p")
		}
		n, err := parseDecimal(v)
		if err != nil {
			return malformed("parameter %s: %w", name[:1], err)
		}
		vals[i] = n
	}
	if vals[0] > MaxMemory || vals[1] > MaxTime || vals[2] > 255 {
		return malformed("parameters m=%d,t=%d,p=%d exceed limits", vals[0], vals[1], vals[2])
	}
	// Bound the text before decoding so a huge field is refused cheaply.
	if len(parts[4]) > base64.RawStdEncoding.EncodedLen(MaxSaltLen) ||
		len(parts[5]) > base64.RawStdEncoding.EncodedLen(MaxKeyLen) {
		return malformed("salt or key too long")
	}
	salt, err := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err != nil {
		return malformed("salt: %w", err)
	}
	key, err := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err != nil {
		return malformed("key: %w", err)
	}
	p := Params{
		Memory:  uint32(vals[0]),
		Time:    uint32(vals[1]),
		Threads: uint8(vals[2]),
		KeyLen:  uint32(len(key)),
		SaltLen: uint32(len(salt)),
	}
	if err := p.Validate(); err != nil {
		return malformed("%w", err)
	}
	return p, salt, key, nil
}

var errNotDecimal = errors.New("not a canonical decimal number")

// parseDecimal accepts 1 to 10 ASCII digits without a leading zero.
func parseDecimal(s string) (uint64, error) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, errNotDecimal
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, errNotDecimal
		}
		n = n*10 + uint64(c-'0')
	}
	return n, nil
}

// checkBcrypt refuses bcrypt hashes of the wrong length and costs above
// MaxBcryptCost before any expensive work is done.
func checkBcrypt(s string) error {
	if len(s) != 60 {
		return fmt.Errorf("%w: bcrypt: want 60 characters, got %d", ErrMalformedHash, len(s))
	}
	cost, err := bcrypt.Cost([]byte(s))
	if err != nil {
		return fmt.Errorf("%w: bcrypt: %w", ErrMalformedHash, err)
	}
	if cost > MaxBcryptCost {
		return fmt.Errorf("%w: bcrypt: cost %d exceeds %d", ErrMalformedHash, cost, MaxBcryptCost)
	}
	return nil
}
