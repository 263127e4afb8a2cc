package demo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzCheckLogoutType feeds the logout token header parser arbitrary input.
func FuzzCheckLogoutType(f *testing.F) {
	f.Add("eyJ0eXAiOiJsb2dvdXQrand0IiwiYWxnIjoiUlMyNTYifQ.e30.sig")
	f.Add("eyJ0eXAiOiJhdCtqd3QifQ.e30.")
	f.Add("")
	f.Add("....")
	f.Fuzz(func(t *testing.T, raw string) { _ = checkLogoutType(raw) })
}

// FuzzAttemptCookie checks that no forged attempt cookie is accepted: the
// cookie is authenticated with a key only the App knows.
func FuzzAttemptCookie(f *testing.F) {
	a, err := New(context.Background(), Config{Issuer: "http://idp.test", ClientID: "c", BaseURL: "http://rp.test"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("STATE", "eyJuIjoibiIsInYiOiJ2IiwiZSI6OTk5OTk5OTk5OX0.AAAA")
	f.Add("S", ".")
	f.Fuzz(func(t *testing.T, state, value string) {
		r := httptest.NewRequest(http.MethodGet, "/callback", nil)
		r.AddCookie(&http.Cookie{Name: a.attemptCookie(state), Value: value})
		if _, ok := a.takeAttempt(httptest.NewRecorder(), r, state); ok {
			t.Fatalf("forged attempt cookie %q accepted", value)
		}
	})
}
