// Package pwpolicy is hubid's password policy, after NIST SP 800-63B
// §3.1.1.2: a length floor (8 code points, 15 for accounts whose only
// factor is the password) and a ceiling of 128, any Unicode, no
// composition rules, never truncation, and a refusal of passwords that are
// common or breached (a list embedded in the binary), equal to the user's
// own email or name, or trivially repetitive or sequential.
//
// Every place that sets a password calls Policy.Check and, when it
// passes, hashes Normalize(password): the stored hash is over the NFC
// form, so sign-in must hash Normalize of what the user types as well.
// A refusal is an *Error whose Key is a message of Messages, shown to the
// user in their language.
package pwpolicy

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Lengths in Unicode code points of the NFC form.
const (
	// DefaultMinLength is NIST's floor for a password used with a second
	// factor, and the least Check ever accepts.
	DefaultMinLength = 8
	// PasswordOnlyMinLength is NIST's floor for a password that is the
	// account's only authenticator.
	PasswordOnlyMinLength = 15
	// DefaultMaxLength is the longest password accepted. NIST asks for at
	// least 64; 128 code points are at most 512 UTF-8 bytes.
	DefaultMaxLength = 128
	// MaxLengthLimit is the largest MaxLength Validate allows: 256 code
	// points are at most 1,024 UTF-8 bytes, the most the sign-in handler
	// hashes.
	MaxLengthLimit = 256
	// nistMaxFloor is the least MaxLength NIST allows.
	nistMaxFloor = 64
)

// Policy is a password policy. The zero value is the default policy:
// 8 to 128 code points.
type Policy struct {
	// MinLength is the fewest code points; 0 means DefaultMinLength, and
	// Check treats anything below DefaultMinLength as DefaultMinLength
	// (the embedded list holds only passwords of 8 or more).
	MinLength int
	// MaxLength is the most code points; 0 means DefaultMaxLength.
	// Longer passwords are refused, never truncated.
	MaxLength int
}

// Validate reports every problem of a configured policy at once.
func (p Policy) Validate() error {
	var errs []error
	if p.MinLength != 0 && p.MinLength < DefaultMinLength {
		errs = append(errs, fmt.Errorf("pwpolicy: MinLength %d is below NIST's floor of %d", p.MinLength, DefaultMinLength))
	}
	if p.MaxLength != 0 && p.MaxLength < nistMaxFloor {
		errs = append(errs, fmt.Errorf("pwpolicy: MaxLength %d is below NIST's floor of %d", p.MaxLength, nistMaxFloor))
	}
	if p.MaxLength > MaxLengthLimit {
		errs = append(errs, fmt.Errorf("pwpolicy: MaxLength %d is above %d", p.MaxLength, MaxLengthLimit))
	}
	if lo, hi := p.limits(); lo > hi {
		errs = append(errs, fmt.Errorf("pwpolicy: MinLength %d is above MaxLength %d", lo, hi))
	}
	return errors.Join(errs...)
}

// limits are the effective bounds.
func (p Policy) limits() (lo, hi int) {
	lo, hi = max(p.MinLength, DefaultMinLength), p.MaxLength
	if hi <= 0 {
		hi = DefaultMaxLength
	}
	return lo, hi
}

// Message keys of the refusals, all defined in Messages. The too-short and
// too-long messages take the limit as their one argument.
const (
	KeyTooShort = "pwpolicy.tooshort"
	KeyTooLong  = "pwpolicy.toolong"
	KeyInvalid  = "pwpolicy.invalid"
	KeyBlank    = "pwpolicy.blank"
	KeyPersonal = "pwpolicy.personal"
	KeyTrivial  = "pwpolicy.trivial"
	KeyCommon   = "pwpolicy.common"
	// KeyHint is no refusal: it is the guidance to show beside a new
	// password field, with the minimum length as its argument.
	KeyHint = "pwpolicy.hint"
)

// Error is a refused password. Key names the message in Messages and Args
// are its arguments; neither ever holds the password.
type Error struct {
	Key  string
	Args []any
}

// Error is the English message, for logs.
func (e *Error) Error() string {
	if m, ok := Messages[e.Key]; ok {
		return "pwpolicy: " + fmt.Sprintf(m.EN, e.Args...)
	}
	return "pwpolicy: " + e.Key
}

// Is matches another *Error with the same Key, so that
// errors.Is(err, &pwpolicy.Error{Key: pwpolicy.KeyCommon}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Key == e.Key
}

// Normalize is the form of a password that is checked and hashed: Unicode
// NFC, as NIST 800-63B asks, so that the same characters typed on
// different systems give the same hash. It never truncates. Sign-in must
// hash Normalize(password) too.
func Normalize(pw string) string { return norm.NFC.String(pw) }

// maxComposition is the most code points NFC joins into one: the longest
// canonical decomposition (e.g. U+1F82). A password of more than
// maxComposition×4×MaxLength bytes cannot normalize to MaxLength code
// points, so Check refuses it without normalizing.
const maxComposition = 4

// Check returns nil when password may be set, or an *Error naming the
// first rule it breaks, in this order: invalid UTF-8, too short, too long,
// only white space, equal to a context string, trivial, common.
//
// Lengths count code points of Normalize(password). The context strings
// are what the user's password must not be: pass the email address and the
// user's name; for a string holding "@" its local part is refused as well.
// Empty context strings are ignored. Comparisons ignore case.
func (p Policy) Check(password string, context ...string) error {
	lo, hi := p.limits()
	if !utf8.ValidString(password) {
		return &Error{Key: KeyInvalid}
	}
	if len(password) > maxComposition*utf8.UTFMax*hi {
		return &Error{Key: KeyTooLong, Args: []any{hi}}
	}
	pw := Normalize(password)
	switch n := utf8.RuneCountInString(pw); {
	case n < lo:
		return &Error{Key: KeyTooShort, Args: []any{lo}}
	case n > hi:
		return &Error{Key: KeyTooLong, Args: []any{hi}}
	}
	if strings.TrimFunc(pw, unicode.IsSpace) == "" {
		return &Error{Key: KeyBlank}
	}
	f := fold(pw)
	for _, c := range context {
		c = fold(Normalize(strings.TrimSpace(c)))
		if c == "" {
			continue
		}
		if f == c {
			return &Error{Key: KeyPersonal}
		}
		if at := strings.LastIndexByte(c, '@'); at > 0 && f == c[:at] {
			return &Error{Key: KeyPersonal}
		}
	}
	if trivial(f) {
		return &Error{Key: KeyTrivial}
	}
	if isCommonFolded(f) {
		return &Error{Key: KeyCommon}
	}
	return nil
}

// fold is the case-insensitive form of a normalized string, the form of
// the embedded list (gen/main.go folds the same way).
func fold(s string) string { return strings.ToLower(s) }

// maxTrivialPeriod is the longest unit whose repetition is trivial.
const maxTrivialPeriod = 4

// trivial reports whether s is guessable from its shape alone, by a rule
// kept deliberately small:
//   - a unit of at most four code points repeated, the last copy possibly
//     cut short: "aaaaaaaa", "abababab", "abcabcab", "passpass";
//   - a run of consecutive code points, ascending or descending:
//     "12345678", "abcdefgh", "87654321".
//
// Such a password has at most four free characters, whatever its length.
// Keyboard walks and the like are left to the common list.
func trivial(s string) bool {
	r := []rune(s)
	if len(r) < 2 {
		return true
	}
	for p := 1; p <= maxTrivialPeriod && p < len(r); p++ {
		if periodic(r, p) {
			return true
		}
	}
	if step := r[1] - r[0]; step == 1 || step == -1 {
		for i := 2; i < len(r); i++ {
			if r[i]-r[i-1] != step {
				return false
			}
		}
		return true
	}
	return false
}

// periodic reports whether r repeats with period p.
func periodic(r []rune, p int) bool {
	for i := p; i < len(r); i++ {
		if r[i] != r[i-p] {
			return false
		}
	}
	return true
}
