package seal

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func kek(b byte) KEK {
	var k [32]byte
	for i := range k {
		k[i] = b + byte(i)
	}
	return NewKEK(k)
}

func ring(t testing.TB, primary KEK, old ...KEK) *Keyring {
	t.Helper()
	kr, err := NewKeyring(primary, old...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestKEKID(t *testing.T) {
	// SHA-256 of 32 zero bytes is 66687aadf862bd77 6c8f...
	if got := NewKEK([32]byte{}).ID; got != "66687aadf862bd77" {
		t.Fatalf("ID of the zero key = %s, want 66687aadf862bd77", got)
	}
	if kek(1).ID == kek(2).ID {
		t.Fatal("distinct keys share an ID")
	}
}

func TestRoundTripAndLayout(t *testing.T) {
	k := kek(1)
	kr := ring(t, k)
	nonce := bytes.Repeat([]byte{0x42}, 12)
	kr.Rand = bytes.NewReader(nonce)
	pt := []byte("-----BEGIN PRIVATE KEY-----")
	blob, err := kr.Seal(pt, []byte("signing-key:k1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(blob) != 1+8+12+len(pt)+16 {
		t.Fatalf("len(blob) = %d, want %d", len(blob), 1+8+12+len(pt)+16)
	}
	if blob[0] != 1 {
		t.Errorf("version byte = %d, want 1", blob[0])
	}
	if got := hex.EncodeToString(blob[1:9]); got != k.ID {
		t.Errorf("KEK id in blob = %s, want %s", got, k.ID)
	}
	if !bytes.Equal(blob[9:21], nonce) {
		t.Errorf("nonce in blob = %x, want %x", blob[9:21], nonce)
	}
	if bytes.Contains(blob, pt[:8]) {
		t.Error("blob contains plaintext")
	}
	got, err := kr.Open(blob, []byte("signing-key:k1"))
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("Open = %q, %v; want %q", got, err, pt)
	}

	// Empty plaintext and empty AAD work too.
	kr.Rand = nil
	blob, err = kr.Seal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := kr.Open(blob, nil); err != nil || len(got) != 0 {
		t.Fatalf("Open(empty) = %q, %v", got, err)
	}
}

func TestNoncesDiffer(t *testing.T) {
	kr := ring(t, kek(1))
	a, _ := kr.Seal([]byte("x"), nil)
	b, _ := kr.Seal([]byte("x"), nil)
	if bytes.Equal(a[9:21], b[9:21]) {
		t.Fatal("two seals used the same nonce")
	}
}

func TestSealRandError(t *testing.T) {
	boom := errors.New("no entropy")
	kr := ring(t, kek(1))
	kr.Rand = errReader{boom}
	if _, err := kr.Seal([]byte("x"), nil); !errors.Is(err, boom) {
		t.Fatalf("Seal err = %v, want it to wrap %v", err, boom)
	}
}

func TestTamper(t *testing.T) {
	k := kek(1)
	kr := ring(t, k)
	aad := []byte("totp:user-1")
	blob, err := kr.Seal([]byte("JBSWY3DPEHPK3PXP"), aad)
	if err != nil {
		t.Fatal(err)
	}
	for i := range blob {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(blob)
			bad[i] ^= bit
			_, err := kr.Open(bad, aad)
			want := ErrCorrupt
			if i >= 1 && i < 9 {
				want = ErrUnknownKEK // the id names a key the ring lacks
			}
			if !errors.Is(err, want) {
				t.Errorf("flip %#x at byte %d: err = %v, want %v", bit, i, err, want)
			}
		}
	}
	for n := range len(blob) {
		if _, err := kr.Open(blob[:n], aad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated to %d bytes: err = %v, want ErrCorrupt", n, err)
		}
	}
	if _, err := kr.Open(append(bytes.Clone(blob), 0), aad); !errors.Is(err, ErrCorrupt) {
		t.Errorf("extended blob: err = %v, want ErrCorrupt", err)
	}
}

func TestUnknownKEKNamesID(t *testing.T) {
	old, cur := kek(1), kek(2)
	blob, err := ring(t, old).Seal([]byte("s"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ring(t, cur).Open(blob, nil)
	if !errors.Is(err, ErrUnknownKEK) {
		t.Fatalf("err = %v, want ErrUnknownKEK", err)
	}
	if !strings.Contains(err.Error(), old.ID) || !strings.Contains(err.Error(), cur.ID) {
		t.Errorf("error %q should name the missing id %s and the held id %s", err, old.ID, cur.ID)
	}
}

// A blob relabelled with the id of another KEK in the ring fails
// authentication rather than decrypting under the wrong key.
func TestIDSwapWithinRing(t *testing.T) {
	a, b := kek(1), kek(2)
	kr := ring(t, a, b)
	blob, _ := kr.Seal([]byte("s"), nil)
	id, _ := hex.DecodeString(b.ID)
	copy(blob[1:9], id)
	if _, err := kr.Open(blob, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
}

func TestAADBindsUse(t *testing.T) {
	kr := ring(t, kek(1))
	blob, _ := kr.Seal([]byte("secret of k1"), []byte("signing-key:k1"))
	for _, aad := range []string{"signing-key:k2", "signing-key:k1 ", "", "totp:k1"} {
		if _, err := kr.Open(blob, []byte(aad)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Open with AAD %q: err = %v, want ErrCorrupt", aad, err)
		}
	}
}

func TestRotation(t *testing.T) {
	oldK, newK := kek(1), kek(2)
	aad := []byte("signing-key:k1")
	blob, err := ring(t, oldK).Seal([]byte("pk"), aad)
	if err != nil {
		t.Fatal(err)
	}
	both := ring(t, newK, oldK)
	if got, err := both.Open(blob, aad); err != nil || string(got) != "pk" {
		t.Fatalf("ring [new, old] Open = %q, %v", got, err)
	}
	resealed, changed, err := both.Reseal(blob, aad)
	if err != nil || !changed {
		t.Fatalf("Reseal = changed %v, %v; want true, nil", changed, err)
	}
	if got := hex.EncodeToString(resealed[1:9]); got != newK.ID {
		t.Errorf("resealed under %s, want %s", got, newK.ID)
	}
	onlyNew := ring(t, newK)
	if got, err := onlyNew.Open(resealed, aad); err != nil || string(got) != "pk" {
		t.Fatalf("ring [new] Open(resealed) = %q, %v", got, err)
	}
	if _, err := onlyNew.Open(blob, aad); !errors.Is(err, ErrUnknownKEK) {
		t.Errorf("ring [new] Open(original) err = %v, want ErrUnknownKEK", err)
	}
	again, changed, err := both.Reseal(resealed, aad)
	if err != nil || changed || !bytes.Equal(again, resealed) {
		t.Errorf("Reseal of a primary blob = changed %v, %v, same bytes %v; want false, nil, true",
			changed, err, bytes.Equal(again, resealed))
	}
	// Reseal checks the AAD even when nothing needs doing.
	if _, _, err := both.Reseal(resealed, []byte("other")); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Reseal with wrong AAD: err = %v, want ErrCorrupt", err)
	}
}

func TestNewKeyringErrors(t *testing.T) {
	k := kek(1)
	if _, err := NewKeyring(KEK{Key: k.Key}); err != nil {
		t.Errorf("empty ID should be derived: %v", err)
	}
	if _, err := NewKeyring(KEK{ID: "0011223344556677", Key: k.Key}); !errors.Is(err, ErrInvalidKEK) {
		t.Errorf("mismatched ID: err = %v, want ErrInvalidKEK", err)
	}
	if _, err := NewKeyring(k, KEK{}); !errors.Is(err, ErrInvalidKEK) {
		t.Errorf("zero old KEK: err = %v, want ErrInvalidKEK", err)
	}
	var zero Keyring
	if _, err := zero.Seal([]byte("x"), nil); !errors.Is(err, ErrInvalidKEK) {
		t.Errorf("zero Keyring Seal: err = %v, want ErrInvalidKEK", err)
	}
}

func TestParseKEK(t *testing.T) {
	var key [32]byte
	for i := range key {
		key[i] = 0xfb + byte(i)*7 // yields '+' and '/' in standard base64
	}
	want := NewKEK(key)
	for name, s := range map[string]string{
		"std padded":    base64.StdEncoding.EncodeToString(key[:]),
		"std raw":       base64.RawStdEncoding.EncodeToString(key[:]),
		"url padded":    base64.URLEncoding.EncodeToString(key[:]),
		"url raw":       base64.RawURLEncoding.EncodeToString(key[:]),
		"with newline":  base64.StdEncoding.EncodeToString(key[:]) + "\n",
		"spaces around": "  " + base64.RawURLEncoding.EncodeToString(key[:]) + " \t",
	} {
		got, err := ParseKEK(s)
		if err != nil || got != want {
			t.Errorf("%s: ParseKEK(%q) = %v, %v; want %v", name, s, got.ID, err, want.ID)
		}
	}
	if !strings.ContainsAny(base64.StdEncoding.EncodeToString(key[:]), "+/") {
		t.Fatal("test key does not exercise the standard alphabet")
	}

	secretish := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 31))
	for name, s := range map[string]string{
		"empty":          "",
		"blank":          " \n",
		"31 bytes":       secretish,
		"33 bytes":       base64.StdEncoding.EncodeToString(make([]byte, 33)),
		"16 bytes hex":   strings.Repeat("ab", 16),
		"not base64":     strings.Repeat("!", 43),
		"mixed alphabet": "+" + base64.RawURLEncoding.EncodeToString(key[:])[1:42] + "-",
		"all zero":       base64.StdEncoding.EncodeToString(make([]byte, 32)),
		"bad padding":    base64.RawStdEncoding.EncodeToString(key[:]) + "==",
		"stray low bits": nonCanonical(base64.RawStdEncoding.EncodeToString(key[:])),
	} {
		_, err := ParseKEK(s)
		if !errors.Is(err, ErrInvalidKEK) {
			t.Errorf("%s: ParseKEK err = %v, want ErrInvalidKEK", name, err)
			continue
		}
		if strings.TrimSpace(s) != "" && strings.Contains(err.Error(), strings.TrimSpace(s)) {
			t.Errorf("%s: error %q reveals the input", name, err)
		}
	}
}

// nonCanonical sets the unused low bits of the last character of an unpadded
// encoding of 32 bytes, giving a second spelling of the same key.
func nonCanonical(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	i := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[i|1])
}

func TestLoadKEK(t *testing.T) {
	envKey, fileKey := kek(1), kek(2)
	dir := t.TempDir()
	file := filepath.Join(dir, "kek")
	if err := os.WriteFile(file, []byte("\n  "+base64.StdEncoding.EncodeToString(fileKey.Key[:])+"\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const env = "HUBID_TEST_KEK"

	t.Setenv(env, base64.StdEncoding.EncodeToString(envKey.Key[:]))
	if got, err := LoadKEK(env, file); err != nil || got != envKey {
		t.Errorf("env and file set: got %s, %v; want the env key %s", got.ID, err, envKey.ID)
	}

	t.Setenv(env, "")
	if got, err := LoadKEK(env, file); err != nil || got != fileKey {
		t.Errorf("env empty: got %s, %v; want the file key %s", got.ID, err, fileKey.ID)
	}
	if got, err := LoadKEK("", file); err != nil || got != fileKey {
		t.Errorf("no env name: got %s, %v; want the file key %s", got.ID, err, fileKey.ID)
	}

	_, err := LoadKEK(env, "")
	if !errors.Is(err, ErrInvalidKEK) || !strings.Contains(err.Error(), env) || !strings.Contains(err.Error(), "neither") {
		t.Errorf("neither set: err = %v, want ErrInvalidKEK saying neither %s nor a file is set", err, env)
	}
	if _, err := LoadKEK("", ""); !errors.Is(err, ErrInvalidKEK) {
		t.Errorf("nothing configured: err = %v, want ErrInvalidKEK", err)
	}

	_, err = LoadKEK(env, filepath.Join(dir, "missing"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v, want fs.ErrNotExist", err)
	}

	t.Setenv(env, "too-short")
	_, err = LoadKEK(env, file)
	if !errors.Is(err, ErrInvalidKEK) || !strings.Contains(err.Error(), env) {
		t.Errorf("bad env value: err = %v, want ErrInvalidKEK naming %s (and no fallback to the file)", err, env)
	}
}

func TestLoadOrCreateFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "hubid")
	path := filepath.Join(dir, "kek")
	key := bytes.Repeat([]byte{9}, 32)

	created, err := LoadOrCreateFile(path, bytes.NewReader(key))
	if err != nil {
		t.Fatal(err)
	}
	if created != NewKEK([32]byte(key)) {
		t.Fatalf("created KEK %s, want the key from rand", created.ID)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("file mode = %v, want 0600", fi.Mode().Perm())
		}
		di, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if di.Mode().Perm() != 0o700 {
			t.Errorf("directory mode = %v, want 0700", di.Mode().Perm())
		}
	}
	content, _ := os.ReadFile(path)
	if string(content) != base64.StdEncoding.EncodeToString(key)+"\n" {
		t.Errorf("file content = %q", content)
	}

	// A second call reads the file and needs no randomness.
	again, err := LoadOrCreateFile(path, errReader{errors.New("must not read rand")})
	if err != nil || again != created {
		t.Fatalf("second call = %s, %v; want %s", again.ID, err, created.ID)
	}
	if _, err := LoadKEK("", path); err != nil {
		t.Errorf("LoadKEK cannot read the created file: %v", err)
	}

	// An invalid existing file is an error and is left alone.
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateFile(bad, bytes.NewReader(key)); !errors.Is(err, ErrInvalidKEK) {
		t.Errorf("invalid file: err = %v, want ErrInvalidKEK", err)
	}
	if b, _ := os.ReadFile(bad); string(b) != "not a key" {
		t.Errorf("invalid file was overwritten: %q", b)
	}

	// A failing rand creates nothing.
	none := filepath.Join(dir, "none")
	boom := errors.New("no entropy")
	if _, err := LoadOrCreateFile(none, errReader{boom}); !errors.Is(err, boom) {
		t.Errorf("failing rand: err = %v, want %v", err, boom)
	}
	if _, err := os.Stat(none); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("failing rand left a file: %v", err)
	}
}

func FuzzOpen(f *testing.F) {
	kr := ring(f, kek(1), kek(2))
	valid, _ := kr.Seal([]byte("seed plaintext"), []byte("aad"))
	old, _ := ring(f, kek(2)).Seal([]byte("old"), nil)
	f.Add(valid, []byte("aad"))
	f.Add(old, []byte(nil))
	f.Add(valid[:21], []byte("aad"))
	f.Add([]byte{}, []byte{})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0}, []byte("x"))
	f.Fuzz(func(t *testing.T, blob, aad []byte) {
		pt, err := kr.Open(blob, aad)
		if err != nil {
			if pt != nil {
				t.Fatalf("plaintext %q returned with error %v", pt, err)
			}
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnknownKEK) {
				t.Fatalf("error %v wraps neither ErrCorrupt nor ErrUnknownKEK", err)
			}
			return
		}
		// Anything that opens must reseal and reopen to the same plaintext.
		out, _, err := kr.Reseal(blob, aad)
		if err != nil {
			t.Fatalf("Reseal of an openable blob: %v", err)
		}
		if again, err := kr.Open(out, aad); err != nil || !bytes.Equal(again, pt) {
			t.Fatalf("resealed blob opens to %q, %v; want %q", again, err, pt)
		}
	})
}
