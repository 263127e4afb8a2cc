package mfa

import (
	"bytes"
	"encoding/base32"
	"errors"
	"image/png"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// rfcSecret is base32 of the RFC 6238 SHA-1 seed "12345678901234567890".
var rfcSecret = base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))

// RFC 6238 appendix B, SHA-1, reduced to 6 digits (the last six of eight).
var rfcVectors = []struct {
	unix int64
	code string
}{
	{59, "287082"},
	{1111111109, "081804"},
	{1111111111, "050471"},
	{1234567890, "005924"},
	{2000000000, "279037"},
	{20000000000, "353130"},
}

func TestRFC6238Vectors(t *testing.T) {
	if rfcSecret != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" {
		t.Fatalf("rfcSecret = %s", rfcSecret)
	}
	for _, v := range rfcVectors {
		step, ok := Verify(rfcSecret, v.code, time.Unix(v.unix, 0), 0)
		if !ok || step != v.unix/30 {
			t.Errorf("T=%d code %s: Verify = %d, %v; want %d, true", v.unix, v.code, step, ok, v.unix/30)
		}
		if _, ok := Verify(rfcSecret, wrongCode(v.code), time.Unix(v.unix, 0), 0); ok {
			t.Errorf("T=%d: a wrong code was accepted", v.unix)
		}
	}
	if _, ok := Verify(strings.ToLower(rfcSecret), "287082", time.Unix(59, 0), 0); !ok {
		t.Error("lower-case secret not accepted")
	}
	// A 16-byte secret is accepted with or without its base32 padding.
	padded := base32.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	if !strings.HasSuffix(padded, "=") {
		t.Fatalf("%s has no padding", padded)
	}
	code, err := totp.GenerateCode(padded, time.Unix(59, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{padded, strings.TrimRight(padded, "=")} {
		if _, ok := Verify(s, code, time.Unix(59, 0), 0); !ok {
			t.Errorf("secret %q not accepted", s)
		}
	}
}

func wrongCode(c string) string {
	b := []byte(c)
	b[5] = '0' + (b[5]-'0'+1)%10
	return string(b)
}

func TestSkewWindowEdges(t *testing.T) {
	const unix, code = 1111111109, "081804" // step 37037036
	s := int64(unix / 30)
	start := func(step int64) time.Time { return time.Unix(step*30, 0) }
	tests := []struct {
		name string
		now  time.Time
		ok   bool
	}{
		{"last second before the window", start(s - 1).Add(-time.Second), false},
		{"first second of the previous step", start(s - 1), true},
		{"first second of its step", start(s), true},
		{"last second of its step", start(s + 1).Add(-time.Second), true},
		{"first second of the next step", start(s + 1), true},
		{"last second of the next step", start(s + 2).Add(-time.Second), true},
		{"first second after the window", start(s + 2), false},
		{"an hour later", start(s).Add(time.Hour), false},
	}
	for _, tt := range tests {
		step, ok := Verify(rfcSecret, code, tt.now, 0)
		if ok != tt.ok || (ok && step != s) {
			t.Errorf("%s: Verify = %d, %v; want %d, %v", tt.name, step, ok, s, tt.ok)
		}
	}
}

func TestReplay(t *testing.T) {
	const unix, code = 1234567890, "005924"
	now := time.Unix(unix, 0)
	s := int64(unix / 30)
	step, ok := Verify(rfcSecret, code, now, s-1)
	if !ok || step != s {
		t.Fatalf("first use: Verify = %d, %v; want %d, true", step, ok, s)
	}
	for _, last := range []int64{s, s + 1, s + 100} {
		if _, ok := Verify(rfcSecret, code, now, last); ok {
			t.Errorf("lastStep %d: code of step %d accepted again", last, s)
		}
		if _, ok := Verify(rfcSecret, code, now.Add(30*time.Second), last); ok {
			t.Errorf("lastStep %d: code of step %d accepted again in the next step", last, s)
		}
	}
	// The next step's code is still accepted after recording s.
	next, err := totp.GenerateCode(rfcSecret, now.Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if step, ok := Verify(rfcSecret, next, now.Add(30*time.Second), s); !ok || step != s+1 {
		t.Errorf("next code: Verify = %d, %v; want %d, true", step, ok, s+1)
	}
}

// With the RFC secret, steps 153567 and 153569 share the code 468457. In
// step 153568 both are in the window: Verify must record the later one, or
// the code could be replayed for it.
func TestCollidingStepsRecordTheLatest(t *testing.T) {
	now := time.Unix(153568*30, 0)
	step, ok := Verify(rfcSecret, "468457", now, 0)
	if !ok || step != 153569 {
		t.Fatalf("Verify = %d, %v; want 153569, true", step, ok)
	}
	if _, ok := Verify(rfcSecret, "468457", now, step); ok {
		t.Fatal("colliding code replayed")
	}
	// Only the earlier step left: still accepted once.
	if step, ok := Verify(rfcSecret, "468457", now, 153568); !ok || step != 153569 {
		t.Fatalf("Verify after 153568 = %d, %v; want 153569, true", step, ok)
	}
}

func TestBadInput(t *testing.T) {
	now := time.Unix(59, 0)
	for _, code := range []string{"", "28708", "2870820", "28708a", "287-082", "287\n082",
		"２８７０８２", "-28708", "+28708", "287082\x00", "0x1234"} {
		if _, ok := Verify(rfcSecret, code, now, 0); ok {
			t.Errorf("code %q accepted", code)
		}
	}
	short := base32.StdEncoding.EncodeToString([]byte("1234567890")) // 10 bytes
	shortCode, _ := totp.GenerateCode(short, now)
	for _, secret := range []string{"", "!!!!", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1", "A", short, rfcSecret + " "} {
		if _, ok := Verify(secret, "287082", now, 0); ok {
			t.Errorf("secret %q accepted", secret)
		}
	}
	if _, ok := Verify(short, shortCode, now, 0); ok {
		t.Error("a 10-byte secret was accepted with its own code")
	}
	// Times before the epoch and at the extremes do not panic or match.
	for _, tm := range []time.Time{time.Unix(-1, 0), time.Unix(-31, 0), time.Unix(1<<62, 0), time.Unix(-1<<62, 0)} {
		if _, ok := Verify(rfcSecret, "287082", tm, -1<<63); ok {
			t.Errorf("time %v matched", tm)
		}
	}
}

func TestStep(t *testing.T) {
	for unix, want := range map[int64]int64{0: 0, 29: 0, 30: 1, 59: 1, -1: -1, -30: -1, -31: -2} {
		if got := Step(time.Unix(unix, 0)); got != want {
			t.Errorf("Step(%d) = %d, want %d", unix, got, want)
		}
	}
}

func TestGenerate(t *testing.T) {
	seed := bytes.Repeat([]byte{0x5a}, 20)
	secret, u, err := Generate("Customer Hub", "alice@example.com", bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	if want := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(seed); secret != want {
		t.Errorf("secret = %s, want %s", secret, want)
	}
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := parsed.Query()
	if parsed.Scheme != "otpauth" || parsed.Host != "totp" || parsed.Path != "/Customer Hub:alice@example.com" ||
		q.Get("secret") != secret || q.Get("issuer") != "Customer Hub" || q.Get("algorithm") != "SHA1" ||
		q.Get("digits") != "6" || q.Get("period") != "30" {
		t.Errorf("otpauth URL = %s", u)
	}
	now := time.Unix(1700000000, 0)
	code, err := totp.GenerateCode(secret, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := Verify(secret, code, now, 0); !ok {
		t.Error("a generated secret does not verify its own code")
	}

	for _, in := range [][2]string{{"", "a"}, {"a", ""}, {"Hub:x", "a"}, {"Hub", "a:b"}} {
		if _, _, err := Generate(in[0], in[1], bytes.NewReader(seed)); err == nil {
			t.Errorf("Generate(%q, %q) succeeded", in[0], in[1])
		}
	}
	boom := errors.New("no entropy")
	if _, _, err := Generate("Hub", "a", errReader{boom}); !errors.Is(err, boom) {
		t.Errorf("failing rand: err = %v, want %v", err, boom)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestQRPNG(t *testing.T) {
	_, u, err := Generate("Customer Hub", "alice@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := QRPNG(u, 256)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if r := img.Bounds(); r.Dx() != 256 || r.Dy() != 256 {
		t.Errorf("image is %v, want 256x256", r)
	}
	for _, size := range []int{0, 63, 2049, -1} {
		if _, err := QRPNG(u, size); err == nil {
			t.Errorf("size %d accepted", size)
		}
	}
	if _, err := QRPNG("https://example.com/", 256); err == nil {
		t.Error("a non-otpauth URL was accepted")
	}
}

var codeRE = regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$`)

func TestNewRecoveryCodes(t *testing.T) {
	seq := make([]byte, 24)
	for i := range seq {
		seq[i] = byte(i) + 32*byte(i%3) // high bits must not matter
	}
	codes, err := NewRecoveryCodes(2, bytes.NewReader(seq))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"0123-4567-89ab", "cdef-ghjk-mnpq"}; codes[0] != want[0] || codes[1] != want[1] {
		t.Errorf("codes = %q, want %q", codes, want)
	}

	codes, err = NewRecoveryCodes(10, nil) // nil means crypto/rand
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if !codeRE.MatchString(c) {
			t.Errorf("code %q is not xxxx-xxxx-xxxx from the alphabet", c)
		}
		if NormalizeRecoveryCode(c) != strings.ReplaceAll(c, "-", "") {
			t.Errorf("code %q is not in normal form", c)
		}
		if seen[c] {
			t.Errorf("duplicate code %q", c)
		}
		seen[c] = true
	}
	if len(codes) != 10 {
		t.Errorf("got %d codes, want 10", len(codes))
	}
	for _, n := range []int{0, -1, 101} {
		if _, err := NewRecoveryCodes(n, nil); err == nil {
			t.Errorf("n=%d accepted", n)
		}
	}
	boom := errors.New("no entropy")
	if _, err := NewRecoveryCodes(1, errReader{boom}); !errors.Is(err, boom) {
		t.Errorf("failing rand: err = %v, want %v", err, boom)
	}
}

func TestRecoveryCodeNormalizeAndHash(t *testing.T) {
	const canonical = "0123456789ab"
	// sha256("0123456789ab"), computed independently with sha256sum.
	const want = "d407ad901895723f32d31e6515f5284beb4c01e70e56720d65099da4771f3193"
	for _, typed := range []string{canonical, "0123-4567-89ab", "0123 4567 89AB", " o123-4S67-89AB ", "OI23-4567-89ab", "0L23\t4567\n89ab", "--0123--4567--89ab--"} {
		typed := strings.ReplaceAll(typed, "S", "5")
		if got := NormalizeRecoveryCode(typed); got != canonical {
			t.Errorf("NormalizeRecoveryCode(%q) = %q, want %q", typed, got, canonical)
		}
		if got := HashRecoveryCode(typed); got != want {
			t.Errorf("HashRecoveryCode(%q) = %s, want %s", typed, got, want)
		}
	}
	if HashRecoveryCode("0123-4567-89ac") == want {
		t.Error("different codes hash alike")
	}
}

func FuzzVerify(f *testing.F) {
	for _, v := range rfcVectors {
		f.Add(rfcSecret, v.code, v.unix, int64(0))
	}
	f.Add(rfcSecret, "468457", int64(153568*30), int64(0))
	f.Add("", "", int64(-1), int64(-1<<63))
	f.Add("a", "000000", int64(1<<62), int64(1<<62))
	f.Fuzz(func(t *testing.T, secret, code string, unix, last int64) {
		now := time.Unix(unix, 0)
		step, ok := Verify(secret, code, now, last)
		if !ok {
			return
		}
		if step <= last {
			t.Fatalf("accepted step %d at or below lastStep %d", step, last)
		}
		if d := step - Step(now); d < -Skew || d > Skew {
			t.Fatalf("accepted step %d, %d steps from now", step, d)
		}
		if !isCode(code) {
			t.Fatalf("accepted code %q", code)
		}
		if _, again := Verify(secret, code, now, step); again {
			// Possible only if the code also matches a later step in the
			// window, which Verify should have preferred.
			t.Fatalf("code %q accepted again after recording step %d", code, step)
		}
	})
}

func FuzzNormalizeRecoveryCode(f *testing.F) {
	f.Add("0123-4567-89ab")
	f.Add(" OIL ")
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeRecoveryCode(s)
		if NormalizeRecoveryCode(n) != n {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, n, NormalizeRecoveryCode(n))
		}
		if strings.ContainsAny(n, "- \tOIL") || HashRecoveryCode(s) != HashRecoveryCode(n) {
			t.Fatalf("%q normalizes to %q", s, n)
		}
	})
}
