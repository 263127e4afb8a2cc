package oauthstrict

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/customerhub/hubid/idp/httpx"
)

func formHeader(auth string) http.Header {
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if auth != "" {
		h.Set("Authorization", auth)
	}
	return h
}

func basicHeader(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, method, query, ctype, auth, body string
		status                                 int
		code, id, secret                       string
	}{
		{"basic", "POST", "", "", basicHeader("c 1", "s:+&"), "grant_type=x", 0, "", "c 1", "s:+&"},
		{"basic with the same client_id", "POST", "", "", basicHeader("c", "s"), "client_id=c", 0, "", "c", "s"},
		{"body credentials", "POST", "", "", "", "client_id=c&client_secret=s", 0, "", "c", "s"},
		{"public client", "POST", "", "", "", "client_id=c", 0, "", "c", ""},
		{"charset parameter", "POST", "", "application/x-www-form-urlencoded; charset=UTF-8", "", "client_id=c", 0, "", "c", ""},
		{"GET", "GET", "", "", "", "client_id=c", 405, InvalidRequest, "", ""},
		{"query", "POST", "client_id=c", "", "", "client_id=c", 400, InvalidRequest, "", ""},
		{"multipart", "POST", "", "multipart/form-data; boundary=x", "", "", 400, InvalidRequest, "", ""},
		{"no content type", "POST", "", "-", "", "client_id=c", 400, InvalidRequest, "", ""},
		{"too large", "POST", "", "", "", "client_id=c&x=" + strings.Repeat("a", httpx.MaxBody), 413, InvalidRequest, "", ""},
		{"malformed", "POST", "", "", "", "client_id=%zz", 400, InvalidRequest, "", ""},
		{"semicolon", "POST", "", "", "", "client_id=c;x=y", 400, InvalidRequest, "", ""},
		{"repeated", "POST", "", "", "", "client_id=c&client_id=c", 400, InvalidRequest, "", ""},
		{"repeated empty", "POST", "", "", basicHeader("c", "s"), "code=&code=", 400, InvalidRequest, "", ""},
		{"NUL", "POST", "", "", "", "client_id=c%00", 400, InvalidRequest, "", ""},
		{"bad UTF-8", "POST", "", "", "", "client_id=%c3%28", 400, InvalidRequest, "", ""},
		{"bad UTF-8 name", "POST", "", "", "", "%ff=c&client_id=c", 400, InvalidRequest, "", ""},
		{"basic and body secret", "POST", "", "", basicHeader("c", "s"), "client_secret=s", 400, InvalidRequest, "", ""},
		{"basic and other client_id", "POST", "", "", basicHeader("c", "s"), "client_id=d", 400, InvalidRequest, "", ""},
		{"bearer header", "POST", "", "", "Bearer x", "client_id=c", 401, InvalidClient, "", ""},
		{"bad base64", "POST", "", "", "Basic %%%", "", 401, InvalidClient, "", ""},
		{"no colon", "POST", "", "", "Basic " + base64.StdEncoding.EncodeToString([]byte("c")), "", 401, InvalidClient, "", ""},
		{"NUL in basic", "POST", "", "", basicHeader("c\x00", "s"), "", 401, InvalidClient, "", ""},
		{"bad escape in basic", "POST", "", "", "Basic " + base64.StdEncoding.EncodeToString([]byte("c%zz:s")), "", 401, InvalidClient, "", ""},
		{"assertion", "POST", "", "", "", "client_id=c&client_assertion=x", 401, InvalidClient, "", ""},
		{"no client", "POST", "", "", "", "grant_type=x", 401, InvalidClient, "", ""},
	} {
		h := formHeader(tc.auth)
		switch tc.ctype {
		case "":
		case "-":
			h.Del("Content-Type")
		default:
			h.Set("Content-Type", tc.ctype)
		}
		req, err := Parse(tc.method, h, tc.query, []byte(tc.body))
		if tc.status == 0 {
			if err != nil || req.ClientID != tc.id || req.Secret != tc.secret {
				t.Errorf("%s: %+v, %v; want client %q secret %q", tc.name, req, err, tc.id, tc.secret)
			}
			continue
		}
		if err == nil || err.Status != tc.status || err.Code != tc.code {
			t.Errorf("%s: %+v, %v; want %d %s", tc.name, req, err, tc.status, tc.code)
		}
		if err != nil && err.Basic != (tc.auth != "" && err.Status == 401) {
			t.Errorf("%s: Basic challenge %v", tc.name, err.Basic)
		}
	}
}

func TestValidVerifier(t *testing.T) {
	ok := strings.Repeat("A", 40) + "-._~"
	for v, want := range map[string]bool{
		ok: true, ok[:43]: true, strings.Repeat("z", 128): true,
		ok[:42]: false, strings.Repeat("z", 129): false, ok[:42] + "+": false, ok[:42] + "/": false,
		ok[:42] + "=": false, ok[:42] + " ": false, ok[:42] + "é": false, "": false,
	} {
		if got := ValidVerifier(v); got != want {
			t.Errorf("ValidVerifier(%q) = %v, want %v", v, got, want)
		}
	}
}

// FuzzParse: whatever arrives, Parse never panics, refuses with a 4xx
// and an OAuth error, and what it accepts has one valid UTF-8 value per
// parameter, no NUL, and one client.
func FuzzParse(f *testing.F) {
	f.Add("POST", "", "application/x-www-form-urlencoded", basicHeader("ships", "s3cret"), "grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fa.example%2Fcb&code_verifier=x")
	f.Add("POST", "", "application/x-www-form-urlencoded", "", "grant_type=refresh_token&refresh_token=f.s&client_id=pass")
	f.Add("POST", "a=b", "application/x-www-form-urlencoded", "", "client_id=c&client_id=d")
	f.Add("GET", "", "multipart/form-data; boundary=x", "Basic Og==", "%00=%ff;")
	f.Fuzz(func(t *testing.T, method, query, ctype, auth, body string) {
		h := http.Header{}
		h.Set("Content-Type", ctype)
		if auth != "" {
			h.Set("Authorization", auth)
		}
		req, err := Parse(method, h, query, []byte(body))
		if err != nil {
			if req != nil || err.Status < 400 || err.Status > 499 || err.Code == "" {
				t.Fatalf("refusal %+v with request %+v", err, req)
			}
			return
		}
		if req.ClientID == "" || strings.ContainsRune(req.ClientID, 0) || !utf8.ValidString(req.ClientID) || !utf8.ValidString(req.Secret) {
			t.Fatalf("accepted client %q secret %q", req.ClientID, req.Secret)
		}
		for k, vs := range req.Params {
			if len(vs) != 1 || !httpx.CleanText(k) || !httpx.CleanText(vs[0]) {
				t.Fatalf("accepted parameter %q = %q", k, vs)
			}
		}
		if req.Basic && req.Params.Get("client_secret") != "" {
			t.Fatal("accepted credentials in both Basic and the body")
		}
	})
}

// FuzzValidVerifier: the syntax check agrees with RFC 7636's ABNF.
func FuzzValidVerifier(f *testing.F) {
	f.Add(strings.Repeat("a", 43))
	f.Add("short")
	f.Fuzz(func(t *testing.T, v string) {
		want := len(v) >= 43 && len(v) <= 128 && strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") == ""
		if got := ValidVerifier(v); got != want {
			t.Fatalf("ValidVerifier(%q) = %v, want %v", v, got, want)
		}
	})
}
