//go:build openssl && cgo

package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/customerhub/hubid/idp/keys/opensslsign"
	"github.com/customerhub/hubid/internal/testenv"
)

// countedSigner counts the signatures an OpenSSL signer makes.
type countedSigner struct {
	jose.OpaqueSigner
	n *atomic.Int64
}

func (c countedSigner) SignPayload(p []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	c.n.Add(1)
	return c.OpaqueSigner.SignPayload(p, alg)
}

// A -tags openssl `hubid dev` signs its RS256 tokens through OpenSSL, and
// they verify against /keys.
func TestDevSignsRS256WithOpenSSL(t *testing.T) {
	if _, err := opensslsign.Init(); err != nil {
		testenv.Unavailable(t, "OpenSSL's libcrypto", err)
	}
	var out bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &out, &out); code != 0 || !strings.Contains(out.String(), "rsa-signer openssl") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	var made, signs atomic.Int64
	t.Cleanup(func() { newOpenSSLSigner = opensslsign.New })
	newOpenSSLSigner = func(priv *rsa.PrivateKey) (jose.OpaqueSigner, error) {
		s, err := opensslsign.New(priv)
		if err != nil {
			return nil, err
		}
		made.Add(1)
		return countedSigner{OpaqueSigner: s, n: &signs}, nil
	}

	d, _ := startDevSignedIn(t)
	if made.Load() == 0 {
		t.Fatal("hubid dev made no OpenSSL signer")
	}
	before := signs.Load()
	if before == 0 {
		t.Fatal("the sign-in's tokens were not signed through OpenSSL")
	}
	code, tok := refreshDev(t, d.base, d.rt)
	if code != 200 {
		t.Fatalf("refresh: %d %v", code, tok)
	}
	if signs.Load() == before {
		t.Fatal("the refresh's tokens were not signed through OpenSSL")
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(waitGet(t, d.base+"/keys", 200), &set); err != nil {
		t.Fatal(err)
	}
	verified := 0
	for _, name := range []string{"id_token", "access_token"} {
		raw, _ := tok[name].(string)
		jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			continue // an opaque access token
		}
		keys := set.Key(jws.Signatures[0].Header.KeyID)
		if len(keys) != 1 {
			t.Fatalf("%s: kid %q not in /keys", name, jws.Signatures[0].Header.KeyID)
		}
		if _, err := jws.Verify(keys[0].Key); err != nil {
			t.Fatalf("%s does not verify against /keys: %v", name, err)
		}
		verified++
	}
	if verified == 0 {
		t.Fatalf("no RS256 JWT in the refresh's answer: %v", tok)
	}
}

// A -tags openssl hubid that cannot load libcrypto refuses to start, with
// a message saying what to do, rather than falling back to crypto/rsa
// unannounced. It runs `hubid dev` in a child process (this process has
// loaded OpenSSL already, once for all) that finds no library to load.
func TestRefusesToStartWithoutLibcrypto(t *testing.T) {
	if os.Getenv("HUBID_TEST_NO_LIBCRYPTO") == "1" {
		opensslsign.Libraries = []string{"libcrypto-hubid-test-missing.so.3"}
		var out bytes.Buffer
		code := run(context.Background(), []string{"dev", "--data", os.Getenv("HUBID_TEST_DIR"),
			"--listen", "127.0.0.1:0", "--demo=false"}, &out, &out)
		os.Stdout.WriteString(out.String())
		os.Exit(code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestRefusesToStartWithoutLibcrypto$")
	cmd.Env = append(os.Environ(), "HUBID_TEST_NO_LIBCRYPTO=1", "HUBID_TEST_DIR="+filepath.Join(t.TempDir(), "dev"))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("hubid dev without libcrypto: %v, want a non-zero exit\n%s", err, out)
	}
	for _, want := range []string{"built with -tags openssl", "cannot load OpenSSL's libcrypto", "install OpenSSL 3"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the refusal does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "listening") {
		t.Errorf("it started listening before refusing:\n%s", out)
	}
}
