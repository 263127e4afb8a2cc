package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	devseed "github.com/customerhub/hubid/deploy/dev"
	"github.com/customerhub/hubid/internal/testenv"
)

// devBrowser follows redirects inside hubid and stops at anything else
// (the demo service's callback), keeping cookies.
type devBrowser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newDevBrowser(t *testing.T, base string) *devBrowser {
	jar, _ := cookiejar.New(nil)
	host := strings.TrimPrefix(base, "http://")
	return &devBrowser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if r.URL.Host != host {
			return http.ErrUseLastResponse
		}
		return nil
	}}}
}

func (b *devBrowser) do(method, path string, form url.Values) *http.Response {
	b.t.Helper()
	u := path
	if strings.HasPrefix(path, "/") {
		u = b.base + path
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp
}

// signedIn reports whether the hub's home page shows a signed-in person
// (the guard sends the others to /signin).
func (b *devBrowser) signedIn() bool {
	b.t.Helper()
	resp := b.do(http.MethodGet, "/", nil)
	return resp.StatusCode == http.StatusOK && resp.Request.URL.Path == "/"
}

// refresh redeems a refresh token of the NK-SHIPS demo client.
func refreshDev(t *testing.T, base, rt string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth/token",
		strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("nk-ships-demo", "nk-ships-demo-secret-not-for-production-0001")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestDevKeepsSessionsAcrossRestart: a person signed in with "automatically
// sign in" on `hubid dev` is still signed in after it restarts on the same
// data directory, and the refresh token a service got still works. A
// corrupt saved state is a signed-out start (and a warning in the log).
func TestDevKeepsSessionsAcrossRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	addr := testenv.FreeAddr(t)
	base := "http://" + addr
	_, stop := runAsync(t, "dev", "--data", dir, "--listen", addr, "--demo=false")
	checkDiscoveryAndKeys(t, base)

	b := newDevBrowser(t, base)
	vb := make([]byte, 32)
	_, _ = rand.Read(vb)
	verifier := base64.RawURLEncoding.EncodeToString(vb)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {"nk-ships-demo"}, "redirect_uri": {"http://localhost:9001/callback"},
		"response_type": {"code"}, "scope": {"openid offline_access"}, "state": {"state-123456"},
		"nonce": {"nonce-123456"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}}
	resp := b.do(http.MethodGet, "/authorize?"+q.Encode(), nil)
	id := resp.Request.URL.Query().Get("authRequestID")
	if resp.Request.URL.Path != "/login" || id == "" {
		t.Fatalf("authorize ended at %s (%s)", resp.Request.URL, resp.Status)
	}
	b.do(http.MethodPost, "/login/email", url.Values{"authRequestID": {id}, "email": {"admin@demo.example"}})
	resp = b.do(http.MethodPost, "/login/password", url.Values{"authRequestID": {id}, "password": {devseed.DemoPassword}, "remember": {"1"}})
	loc, err := resp.Location()
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("sign-in did not reach the service: %s %v", resp.Status, resp.Request.URL)
	}
	tr, _ := http.NewRequest(http.MethodPost, base+"/oauth/token", strings.NewReader(url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {"http://localhost:9001/callback"}, "code_verifier": {verifier}}.Encode()))
	tr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	tr.SetBasicAuth("nk-ships-demo", "nk-ships-demo-secret-not-for-production-0001")
	tresp, err := http.DefaultClient.Do(tr)
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	_ = json.NewDecoder(tresp.Body).Decode(&tok)
	_ = tresp.Body.Close()
	rt, _ := tok["refresh_token"].(string)
	if tresp.StatusCode != 200 || rt == "" {
		t.Fatalf("code exchange: %d %v", tresp.StatusCode, tok)
	}
	if !b.signedIn() {
		t.Fatal("not signed in to the hub before the restart")
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}

	out2, stop2 := runAsync(t, "dev", "--data", dir, "--listen", addr, "--demo=false")
	checkDiscoveryAndKeys(t, base)
	if !b.signedIn() {
		t.Fatalf("signed out by the restart:\n%s", out2)
	}
	if st, out := refreshDev(t, base, rt); st != 200 || out["refresh_token"] == nil {
		t.Fatalf("refresh after the restart: %d %v", st, out)
	}
	stop2()

	// A corrupt saved state: a warning, a start, signed out.
	if err := os.WriteFile(filepath.Join(dir, "ephemeral.gob"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stop3 := runAsync(t, "dev", "--data", dir, "--listen", addr, "--demo=false")
	checkDiscoveryAndKeys(t, base)
	if b.signedIn() {
		t.Fatal("signed in from a corrupt saved state")
	}
	if code := stop3(); code != 0 {
		t.Fatalf("exit %d after starting from a corrupt saved state", code)
	}
}
