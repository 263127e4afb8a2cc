package admin_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customerhub/hubid/idp/admin"
	"github.com/customerhub/hubid/idp/keys"
	"github.com/customerhub/hubid/seal"
	"github.com/customerhub/hubid/store/storetest"
)

const token = "0123456789abcdef0123456789abcdef-admin"

type fixture struct {
	srv    *httptest.Server
	km     *keys.Manager
	clk    *storetest.Clock
	mu     sync.Mutex // guards actors
	actors []string
}

func newFixture(t *testing.T, tok string) *fixture {
	t.Helper()
	var k [32]byte
	_, _ = rand.Read(k[:])
	kr, err := seal.NewKeyring(seal.NewKEK(k))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{clk: storetest.NewClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))}
	mu := &f.mu
	f.km = keys.New(keys.Config{
		Algorithms: []string{"EdDSA"}, SigningAlgorithm: "EdDSA",
		Policy: keys.Policy{RotationPeriod: 30 * 24 * time.Hour, PublishBefore: 24 * time.Hour, RetireFor: time.Hour},
		Now:    f.clk.Now,
		OnChange: func(ctx context.Context, e keys.Event) {
			mu.Lock()
			defer mu.Unlock()
			f.actors = append(f.actors, keys.ActorOf(ctx))
		},
	}, storetest.NewMemKeys(), kr)
	if err := f.km.Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	h, err := admin.New(admin.Config{Token: tok, Keys: f.km})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Mount(mux)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// do sends a request with the admin token (tok "" = none) and decodes the
// JSON answer into a map.
func (f *fixture) do(t *testing.T, method, path, tok, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("%s %s: Cache-Control %q", method, path, cc)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, out, resp.Header
}

func wantError(t *testing.T, status int, body map[string]any, wantStatus int, wantCode, wantDesc string) {
	t.Helper()
	desc, _ := body["error_description"].(string)
	if status != wantStatus || body["error"] != wantCode || !strings.Contains(desc, wantDesc) {
		t.Fatalf("got %d %v, want %d %s containing %q", status, body, wantStatus, wantCode, wantDesc)
	}
}

func listed(t *testing.T, f *fixture) map[string]map[string]any {
	t.Helper()
	status, body, _ := f.do(t, http.MethodGet, "/admin/keys", token, "")
	if status != http.StatusOK {
		t.Fatalf("list: %d %v", status, body)
	}
	out := map[string]map[string]any{}
	for _, k := range body["keys"].([]any) {
		m := k.(map[string]any)
		out[m["kid"].(string)] = m
	}
	return out
}

func stateOf(ks map[string]map[string]any, state, alg string) string {
	for kid, k := range ks {
		if k["state"] == state && k["alg"] == alg {
			return kid
		}
	}
	return ""
}

func TestOffWithoutToken(t *testing.T) {
	f := newFixture(t, "")
	status, body, _ := f.do(t, http.MethodGet, "/admin/keys", token, "")
	wantError(t, status, body, http.StatusNotFound, "invalid_request", "admin API is off")
}

func TestShortTokenRefused(t *testing.T) {
	if _, err := admin.New(admin.Config{Token: "short"}); err == nil {
		t.Fatal("a short admin token must be refused")
	}
}

func TestAuthentication(t *testing.T) {
	f := newFixture(t, token)
	for _, tok := range []string{"", "wrong", token + "x", strings.ToUpper(token)} {
		status, body, h := f.do(t, http.MethodGet, "/admin/keys", tok, "")
		wantError(t, status, body, http.StatusUnauthorized, "invalid_client", "bearer token")
		if !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("401 without WWW-Authenticate: %v", h)
		}
	}
	// Unknown paths are not revealed before authentication either.
	status, body, _ := f.do(t, http.MethodGet, "/admin/nope", "", "")
	wantError(t, status, body, http.StatusUnauthorized, "invalid_client", "")
	status, body, _ = f.do(t, http.MethodGet, "/admin/nope", token, "")
	wantError(t, status, body, http.StatusNotFound, "invalid_request", "no such admin endpoint")
	status, body, h := f.do(t, http.MethodGet, "/admin/keys/rotate", token, "")
	wantError(t, status, body, http.StatusMethodNotAllowed, "invalid_request", "POST")
	if h.Get("Allow") != http.MethodPost {
		t.Fatalf("Allow %q", h.Get("Allow"))
	}
}

func TestListRotateRetire(t *testing.T) {
	f := newFixture(t, token)
	ks := listed(t, f)
	active, next := stateOf(ks, "active", "EdDSA"), stateOf(ks, "next", "EdDSA")
	if len(ks) != 4 || active == "" || next == "" || stateOf(ks, "active", "RS256") == "" {
		t.Fatalf("want active and next for RS256 and EdDSA: %v", ks)
	}
	if ks[next]["ready_at"] != "2026-03-02T00:00:00Z" || ks[active]["ready_at"] != nil || ks[active]["activated_at"] == nil {
		t.Fatalf("timestamps: next %v, active %v", ks[next], ks[active])
	}

	// Too early: 409 with the reason, nothing changed.
	status, body, _ := f.do(t, http.MethodPost, "/admin/keys/rotate", token, `{"force": false}`)
	wantError(t, status, body, http.StatusConflict, "invalid_request", "published too briefly")
	if !strings.Contains(body["error_description"].(string), "2026-03-02T00:00:00Z") {
		t.Fatalf("the reason should say when the key may sign: %v", body)
	}
	if got := listed(t, f); stateOf(got, "active", "EdDSA") != active {
		t.Fatal("a refused rotation changed the keys")
	}
	status, body, _ = f.do(t, http.MethodPost, "/admin/keys/rotate", token, `{"forse": true}`)
	wantError(t, status, body, http.StatusBadRequest, "invalid_request", "JSON")

	// Forced: done, with a warning and forced events.
	status, body, _ = f.do(t, http.MethodPost, "/admin/keys/rotate", token, `{"force": true}`)
	if status != http.StatusOK || body["warning"] == nil || len(body["events"].([]any)) != 6 {
		t.Fatalf("forced rotation: %d %v", status, body)
	}
	ks = listed(t, f)
	if stateOf(ks, "active", "EdDSA") != next || ks[active]["state"] != "retired" || ks[active]["removal_due"] == nil {
		t.Fatalf("after forced rotation: %v", ks)
	}

	// A day later an empty body rotates without force.
	f.clk.Advance(25 * time.Hour)
	status, body, _ = f.do(t, http.MethodPost, "/admin/keys/rotate", token, "")
	if status != http.StatusOK || body["warning"] != nil {
		t.Fatalf("scheduled-safe rotation: %d %v", status, body)
	}

	// Emergency retire needs {"now": true}.
	cur := stateOf(listed(t, f), "active", "EdDSA")
	status, body, _ = f.do(t, http.MethodPost, "/admin/keys/"+cur+"/retire", token, `{}`)
	wantError(t, status, body, http.StatusBadRequest, "invalid_request", `{"now": true}`)
	status, body, _ = f.do(t, http.MethodPost, "/admin/keys/no-such-kid/retire", token, `{"now": true}`)
	wantError(t, status, body, http.StatusNotFound, "invalid_request", "no-such-kid")
	status, body, _ = f.do(t, http.MethodPost, "/admin/keys/"+cur+"/retire", token, `{"now": true}`)
	if status != http.StatusOK {
		t.Fatalf("retire: %d %v", status, body)
	}
	ks = listed(t, f)
	if _, ok := ks[cur]; ok || stateOf(ks, "active", "EdDSA") == "" {
		t.Fatalf("after retire: %v", ks)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(f.actors, admin.Actor) || f.actors[0] != "" {
		t.Fatalf("audit actors: %v", f.actors)
	}
}
