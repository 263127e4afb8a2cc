package idp_test

import (
	"testing"

	"github.com/customerhub/hubid/idp"
)

func TestCryptoSurvivesKEKRotation(t *testing.T) {
	k1, k2 := []byte("kek-one-0123456789-0123456789-ab"), []byte("kek-two-0123456789-0123456789-ab")
	old, _, err := idp.NewCrypto(k1)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := old.Encrypt("code-for-auth-request-1")
	if err != nil {
		t.Fatal(err)
	}
	rotated, _, _ := idp.NewCrypto(k2, k1)
	if got, err := rotated.Decrypt(sealed); err != nil || got != "code-for-auth-request-1" {
		t.Fatalf("after rotation with the old KEK in kek.previous: %q %v", got, err)
	}
	fresh, _ := rotated.Encrypt("x")
	if _, err := old.Decrypt(fresh); err == nil {
		t.Fatal("the new KEK must encrypt new values")
	}
	withoutOld, _, _ := idp.NewCrypto(k2)
	if _, err := withoutOld.Decrypt(sealed); err == nil {
		t.Fatal("without the old KEK the old value must not open")
	}
}
