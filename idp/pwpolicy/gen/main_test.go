package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"slices"
	"testing"
)

func TestBuild(t *testing.T) {
	src := []string{"Password1", "password1", "short", "e\u0301cole1234", "ÉCOLE1234", "line\nbreak", "パスワードパスワード", "パスワード", "abc12345"}
	got := build(src)
	want := []string{"abc12345", "password1", "\u00e9cole1234", "パスワードパスワード"}
	if !slices.Equal(got, want) {
		t.Fatalf("build = %q, want %q", got, want)
	}
}

func TestCompressIsReproducible(t *testing.T) {
	list := []string{"abc12345", "password1"}
	a, err := compress(list)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := compress(list)
	if !bytes.Equal(a, b) {
		t.Fatal("two runs differ")
	}
	zr, err := gzip.NewReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("header carries name %q, time %v", zr.Name, zr.ModTime)
	}
	text, err := io.ReadAll(zr)
	if err != nil || string(text) != "abc12345\npassword1\n" {
		t.Fatalf("decompressed %q, %v", text, err)
	}
}

func TestIntegrityRefusesOtherData(t *testing.T) {
	if integrity([]byte("not the tarball")) == sourceIntegrity {
		t.Fatal("integrity matches other data")
	}
}
