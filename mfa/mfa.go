// Package mfa implements second factors: TOTP (RFC 6238) enrollment and
// verification with github.com/pquerna/otp, and single-use recovery codes.
//
// Verification is a pure function of (secret, code, now, last used step):
// the caller stores the step that Verify returns, atomically with the check
// that it is above the stored one, so that a code is accepted at most once.
//
// Service holds the rules of two-step verification (setup, activation,
// the sign-in step, recovery codes, turning off, resets, organization
// policy), each change written with its audit event in one transaction;
// the sign-in and account pages, the console and the hubid command are
// thin adapters over it. Each account's last used TOTP step is recorded
// in the ephemeral store (Redis in production) with one compare-and-set,
// so a code is accepted once across replicas.
package mfa

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters: what every authenticator app supports.
const (
	Period     = 30 // seconds per step
	Digits     = 6
	SecretSize = 20 // bytes, the HMAC-SHA1 block-size recommendation of RFC 4226
	// Skew is the number of steps either side of the current one that
	// Verify accepts, for clock drift and typing time.
	Skew = 1
	// minSecretSize is the minimum shared-secret length of RFC 4226 (R6).
	minSecretSize = 16
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Generate returns a new random TOTP secret (base32, unpadded, 20 bytes read
// from rand; nil means crypto/rand.Reader) and the otpauth:// URL that an
// authenticator app enrolls from (see QRPNG).
// Neither issuer nor account may be empty or contain a colon, which
// separates them in the URL's label.
func Generate(issuer, account string, r io.Reader) (secret string, otpauthURL string, err error) {
	if issuer == "" || account == "" || strings.Contains(issuer, ":") || strings.Contains(account, ":") {
		return "", "", fmt.Errorf("mfa: issuer %q and account %q must be non-empty and contain no colon", issuer, account)
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      Period,
		SecretSize:  SecretSize,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
		Rand:        r, // totp.Generate takes nil as crypto/rand.Reader
	})
	if err != nil {
		return "", "", fmt.Errorf("mfa: generating TOTP key: %w", err)
	}
	return key.Secret(), key.URL(), nil
}

// Verify checks a 6-digit TOTP code against secret at time now. It accepts
// the codes of the current step and of Skew steps either side, but never of
// a step at or below lastStep, which the caller recorded at the previous
// success (pass 0 when there is none). On success it returns the matched
// step, for the caller to record. Spaces and tabs are ignored, as people
// paste "123 456"; anything else than six ASCII digits, and a secret that
// is not base32 of at least 16 bytes, never match.
func Verify(secret, code string, now time.Time, lastStep int64) (step int64, ok bool) {
	code = NormalizeCode(code)
	if !isCode(code) {
		return 0, false
	}
	secret, valid := canonicalSecret(secret)
	if !valid {
		return 0, false
	}
	cur := floorDiv(now.Unix(), Period)
	opts := hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	// Every candidate is computed and compared in constant time; the latest
	// matching step wins, so that a code that happens to be valid for two
	// steps cannot be replayed for the later one.
	for s := cur - Skew; s <= cur+Skew; s++ {
		if s < 0 || s <= lastStep {
			continue
		}
		want, err := hotp.GenerateCodeCustom(secret, uint64(s), opts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			step, ok = s, true
		}
	}
	return step, ok
}

// NormalizeCode removes the spaces and tabs of a typed TOTP code.
func NormalizeCode(s string) string {
	if !strings.ContainsAny(s, " \t") {
		return s
	}
	return strings.NewReplacer(" ", "", "\t", "").Replace(s)
}

// LooksLikeTOTP reports whether a typed code has the shape of a TOTP code
// (six digits once spaces are removed) rather than of a recovery code.
func LooksLikeTOTP(s string) bool { return isCode(NormalizeCode(s)) }

// Step returns the TOTP step (counter) for time t.
func Step(t time.Time) int64 { return floorDiv(t.Unix(), Period) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func isCode(s string) bool {
	if len(s) != Digits {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// canonicalSecret accepts base32 in either case, with or without padding,
// and returns it upper-case and unpadded, or false if it decodes to fewer
// than minSecretSize bytes.
func canonicalSecret(s string) (string, bool) {
	s = strings.TrimRight(strings.ToUpper(s), "=")
	b, err := b32.DecodeString(s)
	if err != nil || len(b) < minSecretSize {
		return "", false
	}
	return s, true
}

// QRPNG renders otpauthURL as a size×size PNG QR code for enrollment.
// size must be between 64 and 2048 pixels.
func QRPNG(otpauthURL string, size int) ([]byte, error) {
	if size < 64 || size > 2048 {
		return nil, fmt.Errorf("mfa: QR size %d is outside [64, 2048]", size)
	}
	u, err := url.Parse(otpauthURL)
	if err != nil || u.Scheme != "otpauth" {
		return nil, errors.New("mfa: not an otpauth:// URL")
	}
	key, err := otp.NewKeyFromURL(otpauthURL)
	if err != nil {
		return nil, fmt.Errorf("mfa: parsing otpauth URL: %w", err)
	}
	img, err := key.Image(size, size)
	if err != nil {
		return nil, fmt.Errorf("mfa: rendering QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("mfa: encoding PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// recoveryAlphabet is Crockford's base32 alphabet in lower case: no i, l, o
// or u, and NormalizeRecoveryCode maps i and l to 1 and o to 0, so no
// character can be misread. 12 characters of 5 bits give 60 bits per code.
const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// NewRecoveryCodes returns n (1 to 100) random recovery codes of the form
// xxxx-xxxx-xxxx, each carrying 60 bits of entropy, read from r (nil means
// crypto/rand.Reader).
func NewRecoveryCodes(n int, r io.Reader) ([]string, error) {
	if n < 1 || n > 100 {
		return nil, fmt.Errorf("mfa: %d recovery codes requested, want 1 to 100", n)
	}
	if r == nil {
		r = rand.Reader
	}
	raw := make([]byte, 12*n)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, fmt.Errorf("mfa: generating recovery codes: %w", err)
	}
	codes := make([]string, n)
	for i := range codes {
		var b strings.Builder
		for j, r := range raw[12*i : 12*(i+1)] {
			if j > 0 && j%4 == 0 {
				b.WriteByte('-')
			}
			b.WriteByte(recoveryAlphabet[r&31]) // 256 is a multiple of 32: unbiased
		}
		codes[i] = b.String()
	}
	return codes, nil
}

// NormalizeRecoveryCode returns the canonical form of a typed recovery code:
// lower case, without spaces or dashes, with i and l read as 1 and o as 0.
func NormalizeRecoveryCode(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		switch c {
		case 'i', 'l':
			c = '1'
		case 'o':
			c = '0'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// HashRecoveryCode returns the hex SHA-256 of the normalized code, the form
// in which recovery codes are stored and looked up. A fast, unsalted hash is
// right here, unlike for passwords: each code has 60 random bits, so
// guessing a code from its hash costs about 2^60 hashes however fast one is.
func HashRecoveryCode(code string) string {
	sum := sha256.Sum256([]byte(NormalizeRecoveryCode(code)))
	return hex.EncodeToString(sum[:])
}
