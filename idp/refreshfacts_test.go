package idp_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/oauth2"

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/idp/oidcstore"
	"github.com/customerhub/hubid/idp/tracing"
	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

// A refresh token carries its facts, so a refresh makes one Redis call
// for the token — the rotation — where it used to read the token first:
// the server span of the refresh has exactly one Redis child, the
// rotation script. A token issued before the facts were carried
// (family.secret) still refreshes, through the look-up.
func TestRefreshIsOneRedisCall(t *testing.T) {
	// A connection the pool opens on the way says hello and names itself.
	connSetup := map[string]bool{"hello": true, "client": true, "redis.pipeline client": true, "redis.pipeline hello client": true}
	exp := tracetest.NewInMemoryExporter()
	tc := config.Defaults().Tracing
	tc.SampleRatio = 1
	tr := tracing.WithExporter(tc, "test", sdktrace.WithSyncer(exp))
	env := hubtest.New(t, hubtest.Options{Backend: "external", Tracing: tr})
	ships := newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "nk-ships")
	aiko := env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Org: "NK1", Service: "nk-ships"})
	_, f, code := signedIn(t, env, ships, oauth2.SetAuthURLParam("scope", "openid offline_access"))
	_, first, _ := ships.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {ships.oauth.RedirectURL}, "code_verifier": {f.verifier}})
	rt, _ := first["refresh_token"].(string)

	redisCalls := func(rt string) ([]string, string) {
		t.Helper()
		exp.Reset()
		st, out, _ := ships.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
		if st != 200 {
			t.Fatalf("refresh: %d %v", st, out)
		}
		spans := exp.GetSpans()
		var server tracetest.SpanStub
		for _, s := range spans {
			if s.Name == "POST /oauth/token" && s.SpanKind == trace.SpanKindServer {
				server = s
			}
		}
		if !server.SpanContext.IsValid() {
			t.Fatalf("no server span for the refresh among %d spans", len(spans))
		}
		// The Redis spans descend from the server span, some through
		// op's own spans.
		under := map[trace.SpanID]bool{server.SpanContext.SpanID(): true}
		for grew := true; grew; {
			grew = false
			for _, s := range spans {
				if under[s.Parent.SpanID()] && !under[s.SpanContext.SpanID()] {
					under[s.SpanContext.SpanID()], grew = true, true
				}
			}
		}
		var calls []string
		for _, s := range spans {
			if !under[s.Parent.SpanID()] {
				continue
			}
			for _, a := range s.Attributes {
				if a.Key == "db.system.name" || a.Key == "db.system" {
					if a.Value.AsString() == "redis" && !connSetup[s.Name] {
						calls = append(calls, s.Name)
					}
				}
			}
		}
		return calls, out["refresh_token"].(string)
	}
	calls, rt2 := redisCalls(rt)
	if len(calls) != 1 || !strings.Contains(strings.ToLower(calls[0]), "evalsha") {
		t.Fatalf("refresh with facts: Redis calls %q, want only the rotation script", calls)
	}
	if _, err := env.Ephemeral.GetRefreshToken(context.Background(), strings.SplitN(rt2, ".", 2)[0], oidcstore.HashToken(rt2)); err != nil {
		t.Fatalf("the new token is not stored under the hash of its whole value: %v", err)
	}

	// An old-form token (family.secret) of a new family: read, then rotated.
	old := store.RefreshToken{FamilyID: "fam-old-form", UserID: aiko.ID, ClientID: "ships",
		Scopes: []string{"openid"}, Audience: []string{"ships"}, AMR: []string{"pwd"}, AuthTime: time.Now(),
		FamilyCreatedAt: time.Now(), CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	value := old.FamilyID + "." + strings.Repeat("s", 43)
	old.ID = oidcstore.HashToken(value)
	if err := env.Ephemeral.CreateRefreshToken(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	calls, next := redisCalls(value)
	if len(calls) != 2 {
		t.Fatalf("refresh of an old-form token: Redis calls %q, want the look-up and the rotation", calls)
	}
	if strings.Count(next, ".") != 2 {
		t.Fatalf("the successor of an old-form token %q carries no facts", next)
	}
}

// Facts are only believed when the rotation finds the token under the
// hash of the whole value: a value whose facts were altered (another
// person, organization, client or scope, a later expiry) is refused with
// invalid_grant, issues nothing, and leaves the genuine token usable.
func TestRefreshFactsCannotBeForged(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		env := hubtest.New(t, hubtest.Options{Backend: backend})
		ships := newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "nk-ships")
		aiko := env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Org: "NK1", Service: "nk-ships"})
		ben := env.AddUser(t, hubtest.User{Email: "ben@example.com", Password: testPassword, Org: "NK1", Service: "nk-ships"})
		_, f, code := signedIn(t, env, ships, oauth2.SetAuthURLParam("scope", "openid offline_access"))
		_, first, _ := ships.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {ships.oauth.RedirectURL}, "code_verifier": {f.verifier}})
		rt := first["refresh_token"].(string)
		parts := strings.Split(rt, ".")
		if len(parts) != 3 {
			t.Fatalf("refresh token %q: want family.secret.facts", rt)
		}
		raw, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil {
			t.Fatal(err)
		}
		var facts map[string]any
		if err := json.Unmarshal(raw, &facts); err != nil {
			t.Fatal(err)
		}
		if facts["u"] != aiko.ID || facts["c"] != "ships" {
			t.Fatalf("facts %v: want aiko's user ID and client ships", facts)
		}
		forge := func(change func(map[string]any)) string {
			m := map[string]any{}
			for k, v := range facts {
				m[k] = v
			}
			change(m)
			b, _ := json.Marshal(m)
			return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(b)
		}
		forged := map[string]string{
			"another person": forge(func(m map[string]any) { m["u"] = ben.ID }),
			"another org":    forge(func(m map[string]any) { m["o"] = "other-org" }),
			"more scope":     forge(func(m map[string]any) { m["sc"] = []string{"openid", "offline_access", "profile", "email"} }),
			"later expiry":   forge(func(m map[string]any) { m["x"] = time.Now().Add(1000 * time.Hour).UnixNano() }),
			"not JSON":       parts[0] + "." + parts[1] + ".bm90IGpzb24",
			"no facts":       parts[0] + "." + parts[1],
			"empty facts":    parts[0] + "." + parts[1] + ".",
			"fourth part":    rt + ".x",
		}
		for name, v := range forged {
			if st, out, _ := ships.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {v}}); st != 400 || out["error"] != "invalid_grant" {
				t.Fatalf("%s: %d %v, want invalid_grant", name, st, out)
			}
		}
		st, out, _ := ships.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
		if st != 200 || out["refresh_token"] == nil {
			t.Fatalf("the genuine token after the forgeries: %d %v", st, out)
		}
	})
}

// TestWarmRefreshNeedsNoDatabase: on warm caches a refresh makes no
// PostgreSQL round trip — the client, the person (idp/usercache) and the
// organization claims (idp/claimcache) are in memory — so it goes on
// through a database outage, with the person's claims.
func TestWarmRefreshNeedsNoDatabase(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{Backend: "external", PostgresProxy: true})
	t.Cleanup(func() { env.PostgresProxy.Pass() })
	ships := newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "nk-ships")
	env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Org: "NK1", Service: "nk-ships"})
	_, f, code := signedIn(t, env, ships, oauth2.SetAuthURLParam("scope", "openid offline_access roles"))
	_, first, _ := ships.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {ships.oauth.RedirectURL}, "code_verifier": {f.verifier}})
	rt, _ := first["refresh_token"].(string)
	// The caches are used while announcements are known to arrive.
	bus := env.Ephemeral.(interface{ InvalidationsFresh() bool })
	for deadline := time.Now().Add(10 * time.Second); !bus.InvalidationsFresh(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the invalidation subscription never became fresh")
		}
	}
	st, out, _ := ships.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	if st != 200 {
		t.Fatalf("warming refresh: %d %v", st, out)
	}
	env.PostgresProxy.SetDown(true)
	st, out, _ = ships.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {out["refresh_token"].(string)}})
	if st != 200 {
		t.Fatalf("warm refresh during a PostgreSQL outage: %d %v; want 200 from the caches", st, out)
	}
	idt, err := ships.verifier.Verify(context.Background(), out["id_token"].(string))
	if err != nil {
		t.Fatalf("ID token of the warm refresh: %v", err)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if orgs, _ := claims["orgs"].([]any); len(orgs) != 1 || orgs[0].(map[string]any)["code"] != "NK1" {
		t.Fatalf("orgs claim of the warm refresh: %v", claims["orgs"])
	}
}
