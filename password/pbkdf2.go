package password

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
)

// PBKDF2-SHA256 hashes are accepted from legacy systems (never written) in
// the PHC form
//
//	$pbkdf2-sha256$i=<iterations>[,l=<key length>]$<salt>$<key>
//
// with unpadded standard base64, and in passlib's form
// $pbkdf2-sha256$<iterations>$<salt>$<key>, whose base64 writes "." for
// "+". Verify always asks for them to be rehashed.
const (
	MinPBKDF2Iterations = 1000
	MaxPBKDF2Iterations = 5_000_000
)

// The standard library's crypto/pbkdf2 (Go 1.24) is the same algorithm as
// golang.org/x/crypto/pbkdf2, without a dependency.
func decodePBKDF2(s string) (iter int, salt, key []byte, err error) {
	malformed := func(format string, args ...any) (int, []byte, []byte, error) {
		return 0, nil, nil, fmt.Errorf("%w: pbkdf2-sha256: "+format, append([]any{ErrMalformedHash}, args...)...)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 5 || parts[0] != "" || parts[1] != "pbkdf2-sha256" {
		return malformed("want 4 $-separated fields")
	}
	enc := base64.RawStdEncoding.Strict()
	params, keyLen := parts[2], 0
	if v, ok := strings.CutPrefix(params, "i="); ok {
		it, l, hasLen := strings.Cut(v, ",l=")
		params = it
		if hasLen {
			n, err := parseDecimal(l)
			if err != nil || n < MinKeyLen || n > MaxKeyLen {
				return malformed("bad key length")
			}
			keyLen = int(n)
		}
	} else {
		// passlib: adapted base64.
		parts[3] = strings.ReplaceAll(parts[3], ".", "+")
		parts[4] = strings.ReplaceAll(parts[4], ".", "+")
	}
	n, err := parseDecimal(params)
	if err != nil || n < MinPBKDF2Iterations || n > MaxPBKDF2Iterations {
		return malformed("iterations must be %d to %d", MinPBKDF2Iterations, MaxPBKDF2Iterations)
	}
	if len(parts[3]) > enc.EncodedLen(MaxSaltLen) || len(parts[4]) > enc.EncodedLen(MaxKeyLen) {
		return malformed("salt or key too long")
	}
	if salt, err = enc.DecodeString(parts[3]); err != nil || len(salt) < MinSaltLen {
		return malformed("bad salt")
	}
	if key, err = enc.DecodeString(parts[4]); err != nil || len(key) < MinKeyLen {
		return malformed("bad key")
	}
	if keyLen != 0 && keyLen != len(key) {
		return malformed("key length %d, want %d", len(key), keyLen)
	}
	return int(n), salt, key, nil
}

func (h *Hasher) verifyPBKDF2(pw, encoded string) (bool, error) {
	iter, salt, key, err := decodePBKDF2(encoded)
	if err != nil {
		return false, err
	}
	_, release := h.slot()
	got, err := pbkdf2.Key(sha256.New, pw, salt, iter, len(key))
	release()
	if err != nil {
		return false, fmt.Errorf("%w: pbkdf2-sha256: %w", ErrMalformedHash, err)
	}
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// CheckHash reports whether encoded is a hash Verify can evaluate (argon2id,
// bcrypt or PBKDF2-SHA256 within this package's bounds), without the work
// of a verification: for imports. The error wraps ErrMalformedHash.
func CheckHash(encoded string) error {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		_, _, _, err := decodeArgon2id(encoded)
		return err
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		return checkBcrypt(encoded)
	case strings.HasPrefix(encoded, "$pbkdf2-sha256$"):
		_, _, _, err := decodePBKDF2(encoded)
		return err
	default:
		return fmt.Errorf("%w: unsupported algorithm (want argon2id, bcrypt or pbkdf2-sha256)", ErrMalformedHash)
	}
}

// EncodePBKDF2 returns the PHC string of a PBKDF2-SHA256 key, for tests and
// tools that prepare legacy data.
func EncodePBKDF2(pw string, salt []byte, iter int) (string, error) {
	key, err := pbkdf2.Key(sha256.New, pw, salt, iter, 32)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("$pbkdf2-sha256$i=%d,l=32$%s$%s", iter,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}
