package pwpolicy

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"

	"github.com/customerhub/hubid/idp/i18n"
)

// refusedWith fails unless err is an *Error with key (and args, if given).
func refusedWith(t *testing.T, err error, key string, args ...any) {
	t.Helper()
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want *Error %s", err, key)
	}
	if pe.Key != key {
		t.Fatalf("key = %s (%v), want %s", pe.Key, err, key)
	}
	if args != nil && !equalArgs(pe.Args, args) {
		t.Fatalf("args = %v, want %v", pe.Args, args)
	}
}

func equalArgs(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// runes returns the first n code points of an endless, non-repeating-ish
// text, so that long test passwords are neither trivial nor common.
func runes(n int, alphabet string) string {
	a := []rune(alphabet)
	out := make([]rune, n)
	for i := range out {
		out[i] = a[(i*7+i/len(a))%len(a)]
	}
	return string(out)
}

const ascii = "abcdefghijklmnopqrstuvwxyz0123456789 !#%&"

func TestCommonPasswordsRefused(t *testing.T) {
	var p Policy
	for _, pw := range []string{"password", "Password", "PASSWORD", "baseball", "FootBall", "1qaz2wsx", "trustno1", "iloveyou", "Sunshine", "princess", "qwertyuiop"} {
		refusedWith(t, p.Check(pw), KeyCommon)
		if !IsCommon(pw) {
			t.Errorf("IsCommon(%q) = false", pw)
		}
	}
	if IsCommon("vq7#Lm2p-river-tulip") {
		t.Error("a made-up password is common")
	}
}

func TestEveryListedPasswordRefused(t *testing.T) {
	var p Policy
	for _, pw := range commonList() {
		if p.Check(pw) == nil {
			t.Errorf("listed %q accepted", pw)
		}
		if up := strings.ToUpper(pw); !IsCommon(up) {
			t.Errorf("IsCommon(%q) = false", up)
		}
	}
}

func TestCommonList(t *testing.T) {
	list := commonList()
	if n := CommonCount(); n < 10000 || n != len(list) {
		t.Fatalf("CommonCount() = %d, len = %d; want >= 10000", n, len(list))
	}
	for i, s := range list {
		if i > 0 && list[i-1] >= s {
			t.Fatalf("entry %d %q is not after %q", i, s, list[i-1])
		}
		if fold(Normalize(s)) != s {
			t.Errorf("entry %q is not in folded NFC form", s)
		}
		if utf8.RuneCountInString(s) < DefaultMinLength {
			t.Errorf("entry %q is shorter than %d", s, DefaultMinLength)
		}
	}
}

func TestDecodeListRefusesBrokenData(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		_, _ = w.Write([]byte(s))
		_ = w.Close()
		return b.Bytes()
	}
	for name, data := range map[string][]byte{
		"not gzip":   []byte("password\n"),
		"empty":      gz(""),
		"unsorted":   gz("password\nbaseball\n"),
		"duplicate":  gz("baseball\nbaseball\n"),
		"no newline": gz("baseball"),
	} {
		if _, err := decodeList(data); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	list, err := decodeList(gz("baseball\npassword\n"))
	if err != nil || len(list) != 2 || list[1] != "password" {
		t.Fatalf("decodeList = %q, %v", list, err)
	}
}

func TestMaxLengthNoTruncation(t *testing.T) {
	var p Policy
	for _, alphabet := range []string{ascii, "あいうえおかきくけこさしすせそたちつてとパスワード漢字鍵🔑🐱"} {
		p128 := runes(128, alphabet)
		p127 := string([]rune(p128)[:127])
		if err := p.Check(p128); err != nil {
			t.Fatalf("128 code points (%d bytes): %v", len(p128), err)
		}
		if err := p.Check(p127); err != nil {
			t.Fatalf("127 code points: %v", err)
		}
		if Normalize(p128) == Normalize(p127) || Normalize(p128) != p128 {
			t.Fatal("Normalize truncated or changed the 128-code-point password")
		}
		refusedWith(t, p.Check(p128+"x"), KeyTooLong, DefaultMaxLength)
	}
	err := p.Check(runes(129, ascii))
	refusedWith(t, err, KeyTooLong, 128)
	if got := err.Error(); got != "pwpolicy: Use at most 128 characters." {
		t.Errorf("Error() = %q", got)
	}
}

func TestHugeInputRefusedWithoutWork(t *testing.T) {
	refusedWith(t, Policy{}.Check(strings.Repeat("ab", 1<<20)), KeyTooLong, 128)
}

func TestMinLength(t *testing.T) {
	refusedWith(t, Policy{}.Check("vq7#Lm2"), KeyTooShort, 8)
	if err := (Policy{}).Check("vq7#Lm2p"); err != nil {
		t.Fatalf("8 code points: %v", err)
	}
	// Below NIST's floor is raised to it.
	refusedWith(t, Policy{MinLength: 4}.Check("vq7#Lm2"), KeyTooShort, 8)
	po := Policy{MinLength: PasswordOnlyMinLength}
	refusedWith(t, po.Check("vq7#Lm2p-river"), KeyTooShort, 15)
	if err := po.Check("vq7#Lm2p-river!"); err != nil {
		t.Fatalf("15 code points: %v", err)
	}
	refusedWith(t, Policy{}.Check(""), KeyTooShort, 8)
}

func TestUnicodeCountsCodePoints(t *testing.T) {
	var p Policy
	// 5 code points, 15 bytes: too short however many bytes.
	refusedWith(t, p.Check("パスワード"), KeyTooShort, 8)
	if err := p.Check(strings.Repeat("パスワード", 2)); err != nil {
		t.Errorf("パスワード×2 (10 code points): %v", err)
	}
	refusedWith(t, p.Check("🐱🐶🐭🐹🐰🦊🐻"), KeyTooShort, 8)
	if err := p.Check("🐱🐶🐭🐹🐰🦊🐻🐼"); err != nil {
		t.Errorf("8 emoji: %v", err)
	}
	// e + combining acute is one code point after NFC: 4, not 8.
	decomposed := strings.Repeat("e\u0301", 2) + "cl\u0301a"
	refusedWith(t, p.Check(decomposed+"t"), KeyTooShort, 8)
	if Normalize("e\u0301") != "\u00e9" {
		t.Fatal("Normalize is not NFC")
	}
	// Canonically equal passwords normalize (and so hash) alike.
	a, b := "cafe\u0301-au-lait", "caf\u00e9-au-lait"
	if Normalize(a) != Normalize(b) || p.Check(a) != nil || p.Check(b) != nil {
		t.Fatal("canonically equal passwords treated differently")
	}
	refusedWith(t, p.Check("abc\xffdefgh"), KeyInvalid)
}

func TestContextRefused(t *testing.T) {
	var p Policy
	ctx := []string{"Alice.Smith@Example.com", "Alice Smith", ""}
	for _, pw := range []string{"alice.smith@example.com", "ALICE.SMITH", "alice smith", "Alice Smith"} {
		refusedWith(t, p.Check(pw, ctx...), KeyPersonal)
	}
	// Only equality is refused; a leading space makes another password.
	for _, pw := range []string{"alice.smith.river", " Alice Smith"} {
		if err := p.Check(pw, ctx...); err != nil {
			t.Errorf("%q: %v", pw, err)
		}
	}
	// Context in decomposed form still matches.
	refusedWith(t, p.Check("jos\u00e9garcia", "Jose\u0301Garcia"), KeyPersonal)
}

func TestWhitespaceOnlyRefused(t *testing.T) {
	for _, pw := range []string{"        ", "\t\t\t\t\t\t\t\t", strings.Repeat("\u3000", 8), " \n \r \t \u00a0 "} {
		refusedWith(t, Policy{}.Check(pw), KeyBlank)
	}
	if err := (Policy{}).Check("correct horse"); err != nil {
		t.Errorf("inner spaces: %v", err)
	}
}

func TestTrivialRefused(t *testing.T) {
	for _, pw := range []string{"aaaaaaaa", "12345678", "abcdefgh", "87654321", "ZYXWVUTS", "abababab", "abcabcab", "xy1!xy1!x", "ああああああああ", "🐱🐱🐱🐱🐱🐱🐱🐱"} {
		refusedWith(t, Policy{}.Check(pw), KeyTrivial)
	}
	for _, pw := range []string{"abcdefgi", "abcdeabcde", "13579bdf"} {
		if err := (Policy{}).Check(pw); err != nil {
			t.Errorf("%q: %v", pw, err)
		}
	}
}

func TestErrorIs(t *testing.T) {
	err := Policy{}.Check("password")
	if !errors.Is(err, &Error{Key: KeyCommon}) || errors.Is(err, &Error{Key: KeyTooShort}) {
		t.Fatalf("errors.Is mismatch for %v", err)
	}
}

func TestMessages(t *testing.T) {
	keys := []string{KeyTooShort, KeyTooLong, KeyInvalid, KeyBlank, KeyPersonal, KeyTrivial, KeyCommon, KeyHint}
	if len(Messages) != len(keys) {
		t.Errorf("Messages has %d entries, keys %d", len(Messages), len(keys))
	}
	b, err := i18n.New(Messages)
	if err != nil {
		t.Fatal(err)
	}
	en, ja := b.Printer(language.English), b.Printer(language.Japanese)
	for _, k := range keys {
		m, ok := Messages[k]
		if !ok || m.EN == "" || m.JA == "" || !b.Has(k) {
			t.Errorf("%s: missing or untranslated", k)
			continue
		}
		args := []any{}
		if strings.Contains(m.EN, "%d") {
			args = append(args, 8)
		}
		e, j := en.T(k, args...), ja.T(k, args...)
		if e == j || strings.Contains(e+j, "%!") || (len(args) > 0 && !strings.Contains(e+j, "8")) {
			t.Errorf("%s: en %q ja %q", k, e, j)
		}
	}
	// Every refusal Check can give renders.
	for _, err := range []error{Policy{}.Check("x"), Policy{}.Check(runes(200, ascii)), Policy{}.Check("password")} {
		var pe *Error
		if !errors.As(err, &pe) || strings.Contains(en.T(pe.Key, pe.Args...), "%!") {
			t.Errorf("%v does not render", err)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, p := range []Policy{{}, {MinLength: 8, MaxLength: 128}, {MinLength: PasswordOnlyMinLength}, {MaxLength: 64}, {MaxLength: MaxLengthLimit}} {
		if err := p.Validate(); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
	for _, p := range []Policy{{MinLength: 6}, {MaxLength: 32}, {MaxLength: 1000}, {MinLength: 100, MaxLength: 64}} {
		if err := p.Validate(); err == nil {
			t.Errorf("%+v: valid", p)
		}
	}
	// All problems at once.
	if err := (Policy{MinLength: 6, MaxLength: 32}).Validate(); strings.Count(err.Error(), "\n") != 1 {
		t.Errorf("want two problems: %v", err)
	}
}

// TestMaxComposition checks the bound Check relies on to refuse huge
// inputs before normalizing: no code point decomposes into more than
// maxComposition.
func TestMaxComposition(t *testing.T) {
	longest := 0
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		if n := utf8.RuneCountInString(norm.NFD.String(string(r))); n > longest {
			longest = n
		}
	}
	if longest > maxComposition {
		t.Fatalf("a code point decomposes into %d, maxComposition is %d", longest, maxComposition)
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"password", "パスワードパスワード", "e\u0301e\u0301e\u0301e\u0301", "        ", "abc\xff", runes(128, ascii)} {
		f.Add(s, "alice@example.com")
	}
	f.Fuzz(func(t *testing.T, pw, ctx string) {
		err := Policy{}.Check(pw, ctx)
		if err == nil {
			n := Normalize(pw)
			if c := utf8.RuneCountInString(n); c < DefaultMinLength || c > DefaultMaxLength {
				t.Fatalf("accepted %d code points", c)
			}
			if Normalize(n) != n {
				t.Fatal("Normalize is not idempotent")
			}
			return
		}
		var pe *Error
		if !errors.As(err, &pe) {
			t.Fatalf("not an *Error: %v", err)
		}
		if _, ok := Messages[pe.Key]; !ok {
			t.Fatalf("unknown key %s", pe.Key)
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	var p Policy
	pw := "correct horse battery staple"
	_ = CommonCount()
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Check(pw, "alice@example.com", "Alice Smith"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckCommon(b *testing.B) {
	var p Policy
	_ = CommonCount()
	b.ReportAllocs()
	for b.Loop() {
		if p.Check("Baseball") == nil {
			b.Fatal("accepted")
		}
	}
}

// BenchmarkDecodeList measures the one-time cost of loading the list:
// run with -benchmem for its memory.
func BenchmarkDecodeList(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeList(commonGz); err != nil {
			b.Fatal(err)
		}
	}
}
