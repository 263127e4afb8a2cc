package password

import (
	"errors"
	"strings"
	"testing"
)

func TestPBKDF2(t *testing.T) {
	var h Hasher
	h.Params = DefaultParams()
	enc, err := EncodePBKDF2("legacy pw", []byte("saltsaltsalt"), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckHash(enc); err != nil {
		t.Fatalf("CheckHash(%s) = %v", enc, err)
	}
	ok, rehash, err := h.Verify("legacy pw", enc)
	if !ok || !rehash || err != nil {
		t.Fatalf("right password: %v %v %v", ok, rehash, err)
	}
	if ok, _, err := h.Verify("legacy pX", enc); ok || err != nil {
		t.Fatalf("wrong password: %v %v", ok, err)
	}
	// passlib's form: bare iteration count, "." for "+" in base64.
	passlib := "$pbkdf2-sha256$1000$" + strings.Join(strings.Split(enc, "$")[3:], "$")
	passlib = strings.ReplaceAll(passlib, "+", ".")
	if ok, _, err := h.Verify("legacy pw", passlib); !ok || err != nil {
		t.Fatalf("passlib form %s: %v %v", passlib, ok, err)
	}
	for _, bad := range []string{
		"$pbkdf2-sha256$i=10,l=32$c2FsdHNhbHRzYWx0$" + strings.Split(enc, "$")[4], // too few iterations
		"$pbkdf2-sha256$i=99999999$c2FsdHNhbHRzYWx0$" + strings.Split(enc, "$")[4],
		"$pbkdf2-sha256$i=1000,l=16$c2FsdHNhbHRzYWx0$" + strings.Split(enc, "$")[4], // length mismatch
		"$pbkdf2-sha256$i=1000$c2Fs$" + strings.Split(enc, "$")[4],                  // short salt
		"$pbkdf2-sha256$i=1000$c2FsdHNhbHRzYWx0",
		"$pbkdf2-sha1$i=1000$c2FsdHNhbHRzYWx0$" + strings.Split(enc, "$")[4],
		"plain",
	} {
		if err := CheckHash(bad); !errors.Is(err, ErrMalformedHash) {
			t.Errorf("CheckHash(%q) = %v, want ErrMalformedHash", bad, err)
		}
		if ok, _, _ := h.Verify("legacy pw", bad); ok {
			t.Errorf("Verify(%q) accepted", bad)
		}
	}
}

func TestCheckHashOtherFormats(t *testing.T) {
	var h Hasher
	h.Params = Params{Memory: 8, Time: 1, Threads: 1, KeyLen: 16, SaltLen: 8}
	a, err := h.Hash("x")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckHash(a); err != nil {
		t.Errorf("argon2id: %v", err)
	}
	if err := CheckHash("$2a$10$" + strings.Repeat("a", 53)); err != nil {
		t.Errorf("bcrypt: %v", err)
	}
	if err := CheckHash("$2a$10$short"); err == nil {
		t.Error("short bcrypt accepted")
	}
}
