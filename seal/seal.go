// Package seal encrypts secrets at rest (signing keys, TOTP secrets) with
// AES-256-GCM under a key-encryption key (KEK) that comes from the
// environment or a file, never from the database.
//
// A sealed blob describes itself:
//
//	offset  size  field
//	0       1     version, currently 1
//	1       8     KEK id: the first 8 bytes of SHA-256(KEK)
//	9       12    random GCM nonce
//	21      n+16  AES-256-GCM ciphertext of the n-byte plaintext, with tag
//
// The GCM additional data is the 9-byte header (version and KEK id) followed
// by the caller's AAD. The AAD binds a value to its use, e.g.
// "signing-key:"+kid or "totp:"+userID, so that a blob copied into another
// row does not open there.
//
// Rotation: start with a Keyring whose primary is the new KEK and whose old
// KEKs include the previous one, Reseal every stored blob, then drop the
// previous KEK.
package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

const (
	version   = 1
	idLen     = 8
	nonceLen  = 12
	tagLen    = 16
	headerLen = 1 + idLen
	overhead  = headerLen + nonceLen + tagLen
)

var (
	// ErrUnknownKEK means a blob was sealed under a KEK the keyring does
	// not hold.
	ErrUnknownKEK = errors.New("seal: unknown KEK")
	// ErrCorrupt means a blob is truncated, of an unknown version, was
	// altered, or is opened with the wrong AAD.
	ErrCorrupt = errors.New("seal: corrupt or tampered blob")
	// ErrInvalidKEK means a KEK could not be parsed, loaded or used.
	ErrInvalidKEK = errors.New("seal: invalid KEK")
)

// KEK is a 256-bit key-encryption key. ID is derived from Key (see NewKEK),
// so a blob names the key that sealed it without the key being configured
// under a name.
type KEK struct {
	ID  string
	Key [32]byte
}

// NewKEK returns the KEK for key with its derived ID: the first 8 bytes of
// SHA-256(key), in hex.
func NewKEK(key [32]byte) KEK {
	sum := sha256.Sum256(key[:])
	return KEK{ID: hex.EncodeToString(sum[:idLen]), Key: key}
}

// Keyring seals under its primary KEK and opens blobs sealed under the
// primary or any older KEK. It is safe for concurrent use.
type Keyring struct {
	// Rand is the source of nonces; nil means crypto/rand.Reader. Set it
	// before first use.
	Rand io.Reader

	primary [idLen]byte
	aeads   map[[idLen]byte]cipher.AEAD
}

// NewKeyring returns a keyring that seals under primary and also opens blobs
// sealed under the old KEKs. A KEK's ID may be empty, in which case it is
// derived; a non-empty ID must match its key, and an all-zero key (an unset
// value) is refused.
func NewKeyring(primary KEK, old ...KEK) (*Keyring, error) {
	kr := &Keyring{aeads: make(map[[idLen]byte]cipher.AEAD)}
	for i, k := range append([]KEK{primary}, old...) {
		if k.Key == ([32]byte{}) {
			return nil, fmt.Errorf("%w: KEK %d is all zeros", ErrInvalidKEK, i)
		}
		derived := NewKEK(k.Key)
		if k.ID != "" && k.ID != derived.ID {
			return nil, fmt.Errorf("%w: KEK %d has ID %q but its key's ID is %s", ErrInvalidKEK, i, k.ID, derived.ID)
		}
		var id [idLen]byte
		if _, err := hex.Decode(id[:], []byte(derived.ID)); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidKEK, err) // unreachable
		}
		if i == 0 {
			kr.primary = id
		}
		block, err := aes.NewCipher(k.Key[:])
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidKEK, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidKEK, err)
		}
		kr.aeads[id] = aead
	}
	return kr, nil
}

// PrimaryID returns the ID of the KEK that Seal uses.
func (kr *Keyring) PrimaryID() string { return hex.EncodeToString(kr.primary[:]) }

// Seal encrypts plaintext under the primary KEK, bound to aad.
func (kr *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	aead, ok := kr.aeads[kr.primary]
	if !ok {
		return nil, fmt.Errorf("%w: keyring has no primary KEK (use NewKeyring)", ErrInvalidKEK)
	}
	r := kr.Rand
	if r == nil {
		r = rand.Reader
	}
	out := make([]byte, headerLen+nonceLen, overhead+len(plaintext))
	out[0] = version
	copy(out[1:headerLen], kr.primary[:])
	if _, err := io.ReadFull(r, out[headerLen:]); err != nil {
		return nil, fmt.Errorf("seal: reading nonce: %w", err)
	}
	return aead.Seal(out, out[headerLen:], plaintext, additional(out[:headerLen], aad)), nil
}

// Open decrypts a blob made by Seal with the same aad. It returns an error
// wrapping ErrUnknownKEK, naming the KEK id, when the keyring lacks the blob's
// KEK, and one wrapping ErrCorrupt for anything else that is wrong.
func (kr *Keyring) Open(blob, aad []byte) ([]byte, error) {
	pt, _, err := kr.open(blob, aad)
	return pt, err
}

func (kr *Keyring) open(blob, aad []byte) (plaintext []byte, id [idLen]byte, err error) {
	if len(blob) < overhead {
		return nil, id, fmt.Errorf("%w: %d bytes is shorter than the minimum %d", ErrCorrupt, len(blob), overhead)
	}
	if blob[0] != version {
		return nil, id, fmt.Errorf("%w: unknown version %d", ErrCorrupt, blob[0])
	}
	copy(id[:], blob[1:headerLen])
	aead, ok := kr.aeads[id]
	if !ok {
		return nil, id, fmt.Errorf("%w %x: the keyring holds only %s", ErrUnknownKEK, id, kr.ids())
	}
	nonce := blob[headerLen : headerLen+nonceLen]
	plaintext, err = aead.Open(nil, nonce, blob[headerLen+nonceLen:], additional(blob[:headerLen], aad))
	if err != nil {
		return nil, id, fmt.Errorf("%w: authentication failed (altered blob, or wrong AAD)", ErrCorrupt)
	}
	return plaintext, id, nil
}

// Reseal re-encrypts a blob under the primary KEK if another KEK sealed it,
// and reports whether it did; a blob already under the primary is returned
// unchanged, after checking that it opens.
func (kr *Keyring) Reseal(blob, aad []byte) ([]byte, bool, error) {
	pt, id, err := kr.open(blob, aad)
	if err != nil {
		return nil, false, err
	}
	if id == kr.primary {
		return blob, false, nil
	}
	out, err := kr.Seal(pt, aad)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// ids lists the keyring's KEK ids, primary first, for error messages.
func (kr *Keyring) ids() string {
	var old []string
	for id := range kr.aeads {
		if id != kr.primary {
			old = append(old, hex.EncodeToString(id[:]))
		}
	}
	slices.Sort(old)
	return strings.Join(append([]string{kr.PrimaryID() + " (primary)"}, old...), ", ")
}

func additional(header, aad []byte) []byte {
	return append(bytes.Clone(header), aad...)
}

// ParseKEK decodes a KEK from base64 (standard or URL alphabet, with or
// without padding) of exactly 32 bytes. Surrounding white space is ignored.
// Errors never contain the input, which is secret.
func ParseKEK(s string) (KEK, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return KEK{}, fmt.Errorf("%w: empty", ErrInvalidKEK)
	}
	enc := base64.StdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.URLEncoding
	}
	if !strings.HasSuffix(s, "=") {
		enc = enc.WithPadding(base64.NoPadding)
	}
	b, err := enc.Strict().DecodeString(s)
	if err != nil {
		return KEK{}, fmt.Errorf("%w: not valid base64 (%d characters)", ErrInvalidKEK, len(s))
	}
	if len(b) != 32 {
		return KEK{}, fmt.Errorf("%w: decodes to %d bytes, want exactly 32 (generate one with: head -c 32 /dev/urandom | base64)", ErrInvalidKEK, len(b))
	}
	if [32]byte(b) == ([32]byte{}) {
		return KEK{}, fmt.Errorf("%w: all 32 bytes are zero", ErrInvalidKEK)
	}
	return NewKEK([32]byte(b)), nil
}

// LoadKEK loads a KEK from the value of the environment variable named env
// or, if that is unset or empty, from the content of file. An empty env or
// file name skips that source. It is an error when neither yields a value, or
// when the value that is found does not parse.
func LoadKEK(env string, file string) (KEK, error) {
	if env != "" {
		if v := os.Getenv(env); v != "" {
			k, err := ParseKEK(v)
			if err != nil {
				return KEK{}, fmt.Errorf("environment variable %s: %w", env, err)
			}
			return k, nil
		}
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return KEK{}, fmt.Errorf("%w: reading KEK file: %w", ErrInvalidKEK, err)
		}
		k, err := ParseKEK(string(b))
		if err != nil {
			return KEK{}, fmt.Errorf("KEK file %s: %w", file, err)
		}
		return k, nil
	}
	if env != "" {
		return KEK{}, fmt.Errorf("%w: neither environment variable %s nor a KEK file is set", ErrInvalidKEK, env)
	}
	return KEK{}, fmt.Errorf("%w: neither a KEK environment variable nor a KEK file is set", ErrInvalidKEK)
}

// LoadOrCreateFile reads the KEK stored at path, or, when there is no such
// file, creates it with a new key read from r (nil means crypto/rand.Reader):
// base64 and a newline, mode
// 0600, in a directory created with mode 0700 if missing. It is meant for
// `hubid dev`; production KEKs come from LoadKEK.
func LoadOrCreateFile(path string, r io.Reader) (KEK, error) {
	k, err := readKEKFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if r == nil {
		r = rand.Reader
	}
	var key [32]byte
	if _, err := io.ReadFull(r, key[:]); err != nil {
		return KEK{}, fmt.Errorf("seal: generating KEK: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return KEK{}, fmt.Errorf("seal: creating KEK directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readKEKFile(path) // another process created it first
	}
	if err != nil {
		return KEK{}, fmt.Errorf("seal: creating KEK file: %w", err)
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(key[:]) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return KEK{}, fmt.Errorf("seal: writing KEK file: %w", err)
	}
	return NewKEK(key), nil
}

func readKEKFile(path string) (KEK, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return KEK{}, fmt.Errorf("seal: reading KEK file: %w", err)
	}
	k, err := ParseKEK(string(b))
	if err != nil {
		return KEK{}, fmt.Errorf("KEK file %s: %w", path, err)
	}
	return k, nil
}
