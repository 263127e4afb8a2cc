package demo_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/customerhub/hubid/demo"
	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

// The two demo services against a real hubid: signing in on one signs in
// on the other without a password page, and signing out reaches both via
// back-channel logout.
func TestDemoServicesShareOneSignIn(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{})
	env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: "correct horse battery staple", Name: "Aiko", Org: "O", Service: "svc"})
	apps := map[string]*httptest.Server{}
	for _, id := range []string{"ships", "pass"} {
		ts := hubtest.UnstartedServer(t)
		base := "http://" + ts.Listener.Addr().String()
		secret := id + "-demo-secret-0123456789-0123456789-ab"
		env.AddClient(t, store.Client{ID: id, Name: id + " (demo)", ServiceID: env.EnsureService(t, "svc").ID, HomeURL: base + "/",
			RedirectURIs: []string{base + "/callback"}, PostLogoutRedirectURIs: []string{base + "/"},
			BackchannelLogoutURI: base + "/backchannel-logout"}, secret)
		app, err := demo.New(context.Background(), demo.Config{Name: id, Issuer: env.URL, ClientID: id, ClientSecret: secret, BaseURL: base})
		if err != nil {
			t.Fatal(err)
		}
		ts.Config.Handler = app
		ts.Start()
		t.Cleanup(ts.Close)
		apps[id] = ts
	}
	jar, _ := cookiejar.New(nil)
	var visited []string
	browser := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		visited = append(visited, req.URL.String())
		return nil
	}}
	do := func(method, u string, form url.Values) (*http.Response, string) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, u, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
		}
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	// Sign in on ships: hubid's two pages.
	resp, _ := do("GET", apps["ships"].URL+"/login", nil)
	id := resp.Request.URL.Query().Get("authRequestID")
	if resp.Request.URL.Path != "/login" || id == "" {
		t.Fatalf("not sent to hubid's sign-in page: %s", resp.Request.URL)
	}
	do("POST", env.URL+"/login/email", url.Values{"authRequestID": {id}, "email": {"aiko@example.com"}})
	resp, page := do("POST", env.URL+"/login/password", url.Values{"authRequestID": {id}, "password": {"correct horse battery staple"}})
	if !strings.HasPrefix(resp.Request.URL.String(), apps["ships"].URL) || !strings.Contains(page, "aiko@example.com") {
		t.Fatalf("ships did not sign in: %s\n%s", resp.Request.URL, page)
	}
	// Open pass: signed in without any hubid page.
	visited = nil
	resp, page = do("GET", apps["pass"].URL+"/login", nil)
	sawHubid := false
	for _, u := range visited {
		sawHubid = sawHubid || strings.HasPrefix(u, env.URL+"/authorize")
		if strings.Contains(u, "/login/password") {
			t.Fatalf("SSO asked for the password: %v", visited)
		}
	}
	if !sawHubid {
		t.Fatalf("pass did not go through hubid: %v", visited)
	}
	if !strings.HasPrefix(resp.Request.URL.String(), apps["pass"].URL) || !strings.Contains(page, "aiko@example.com") {
		t.Fatalf("pass did not sign in by SSO: %s\n%s", resp.Request.URL, page)
	}
}
