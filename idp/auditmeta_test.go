package idp_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// TestWritesAuditClientAddress: every audit event written for a request
// records the client's address and User-Agent, whichever service writes
// it — here the organizations service through the admin API (which names
// neither itself) and the sign-in pages. An X-Forwarded-For from a peer
// that is not a trusted proxy is not believed.
func TestWritesAuditClientAddress(t *testing.T) {
	env, ships, _, u := setup(t, "embedded", func(o *hubtest.Options) { o.AdminToken = adminToken })
	internal := httptest.NewServer(env.Server.Internal())
	t.Cleanup(internal.Close)
	ctx := context.Background()
	before, err := env.Durable.ListAudit(ctx, store.AuditFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	var lastID int64
	if len(before) > 0 {
		lastID = before[0].ID
	}

	const opsUA = "ops-script/2.0 (audit test)"
	call := func(path, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, internal.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("User-Agent", opsUA)
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out map[string]any
		if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &out) != nil {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
		}
		return out
	}
	org := call("/admin/v1/organizations", `{"code":"AUDIT1","name":"Audited"}`)
	call("/admin/v1/organizations/"+org["id"].(string)+"/memberships", `{"user_id":"`+u.ID+`","role":"normal"}`)

	b := newBrowser(t, env)
	f := b.authorize(ships)
	b.signIn(f, u.Email, testPassword, false)
	f.code(t)

	events, err := env.Durable.ListAudit(ctx, store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range events {
		if e.ID <= lastID {
			continue
		}
		seen[e.Kind] = true
		wantUA := "hubid-test-browser"
		if strings.HasPrefix(e.Kind, "org.") {
			wantUA = opsUA
		}
		if e.IP != "127.0.0.1" || e.UserAgent != wantUA {
			t.Errorf("%s: IP %q, User-Agent %q; want 127.0.0.1, %q", e.Kind, e.IP, e.UserAgent, wantUA)
		}
	}
	for _, k := range []string{orgs.AuditOrgCreated, orgs.AuditMemberAdded, "signin.success"} {
		if !seen[k] {
			t.Errorf("no %s event written (saw %v)", k, seen)
		}
	}
}
