package main

import (
	"context"
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
	"time"

	devseed "github.com/customerhub/hubid/deploy/dev"
	"github.com/customerhub/hubid/idp/oidcstore"
	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/store/memory"
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

// devSignIn signs the demo administrator in to the NK-SHIPS demo client
// with "automatically sign in" and returns the refresh token of the code
// exchange.
func devSignIn(t *testing.T, b *devBrowser, base string) string {
	t.Helper()
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
	return rt
}

// devRun is a `hubid dev` on a fresh data directory, a browser signed in
// to it with "automatically sign in", and the refresh token a service got.
type devRun struct {
	dir, addr, base string
	b               *devBrowser
	rt              string
}

func startDevSignedIn(t *testing.T) (devRun, func() int) {
	t.Helper()
	d := devRun{dir: filepath.Join(t.TempDir(), "data"), addr: testenv.FreeAddr(t)}
	d.base = "http://" + d.addr
	_, stop := runAsync(t, "dev", "--data", d.dir, "--listen", d.addr, "--demo=false")
	checkDiscoveryAndKeys(t, d.base)
	d.b = newDevBrowser(t, d.base)
	d.rt = devSignIn(t, d.b, d.base)
	if !d.b.signedIn() {
		t.Fatal("not signed in to the hub before the restart")
	}
	return d, stop
}

// restart starts `hubid dev` again on the data directory and checks that
// the browser is still signed in and the refresh token still works.
func (d devRun) restart(t *testing.T, after string) func() int {
	t.Helper()
	out, stop := runAsync(t, "dev", "--data", d.dir, "--listen", d.addr, "--demo=false")
	checkDiscoveryAndKeys(t, d.base)
	if !d.b.signedIn() {
		t.Fatalf("signed out by the %s:\n%s", after, out)
	}
	if st, body := refreshDev(t, d.base, d.rt); st != 200 || body["refresh_token"] == nil {
		t.Fatalf("refresh after the %s: %d %v", after, st, body)
	}
	return stop
}

// TestDevKeepsSessionsAcrossRestart: a person signed in with "automatically
// sign in" on `hubid dev` is still signed in after it restarts on the same
// data directory, and the refresh token a service got still works. A
// corrupt saved state is a signed-out start (and a warning in the log).
func TestDevKeepsSessionsAcrossRestart(t *testing.T) {
	d, stop := startDevSignedIn(t)
	if code := stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	d.restart(t, "restart")()

	// A corrupt saved state: a warning, a start, signed out.
	if err := os.WriteFile(filepath.Join(d.dir, "ephemeral.gob"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stop3 := runAsync(t, "dev", "--data", d.dir, "--listen", d.addr, "--demo=false")
	checkDiscoveryAndKeys(t, d.base)
	if d.b.signedIn() {
		t.Fatal("signed in from a corrupt saved state")
	}
	if code := stop3(); code != 0 {
		t.Fatalf("exit %d after starting from a corrupt saved state", code)
	}
}

// TestDevKeepsSessionsAfterKill: `hubid dev` saves its sessions about a
// second after each change, not only on a clean stop, so a kill -9 keeps
// the person signed in. The kill is modelled by what it leaves on disk:
// the state file as the running process last autosaved it (the shutdown
// save that follows is undone before the restart).
func TestDevKeepsSessionsAfterKill(t *testing.T) {
	d, stop := startDevSignedIn(t)
	// Wait (bounded) until the running process has saved the refresh
	// token, and with it the session created before it.
	path := filepath.Join(d.dir, "ephemeral.gob")
	family, _, _ := strings.Cut(d.rt, ".")
	var onDisk []byte
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		data, err := os.ReadFile(path)
		if err == nil {
			probe := filepath.Join(t.TempDir(), "probe.gob")
			if err := os.WriteFile(probe, data, 0o600); err != nil {
				t.Fatal(err)
			}
			m := memory.New(memory.Options{})
			if err := m.Load(probe); err == nil {
				if _, err := m.GetRefreshToken(context.Background(), family, oidcstore.HashToken(d.rt)); err == nil {
					onDisk = data
					break
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sign-in was not autosaved while hubid dev ran (last read: %v)", err)
		}
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if err := os.WriteFile(path, onDisk, 0o600); err != nil {
		t.Fatal(err)
	}
	d.restart(t, "kill")()
}
