package idp_test

import (
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/internal/hubtest"
)

// TestTwoStepConcurrentCodeTwoReplicas: two hubid instances on the same
// stores (PostgreSQL + Redis, and SQLite + memory); eight browsers, half
// on each, have passed the password and submit the same code at once:
// exactly one is signed in. Then a code of the step before the accepted
// one is refused too (the last used step only grows).
func TestTwoStepConcurrentCodeTwoReplicas(t *testing.T) {
	for _, backend := range hubtest.Backends() {
		t.Run(backend, func(t *testing.T) {
			roomy := func(c *config.Config) { c.Throttle.DelayAfter, c.Throttle.LockAfter = 99, 100 }
			a := hubtest.New(t, hubtest.Options{Backend: backend, Config: roomy})
			b := hubtest.New(t, hubtest.Options{ReplicaOf: a, Config: roomy})
			ra := newRP(t, a, "ships", "ships-secret", "SHIPS")
			rb := &rp{env: b, client: ra.client, secret: ra.secret}
			rb.provider, rb.verifier, rb.oauth = providerFor(t, b, ra)
			erin := a.AddUser(t, hubtest.User{Email: "erin@example.com", Password: testPassword, Org: "NK0001", Service: "SHIPS"})
			key := enrollDirect(t, a, erin)

			type pending struct {
				b  *browser
				id string
			}
			var ps []pending
			for i := range 8 {
				env, r := a, ra
				if i%2 == 1 {
					env, r = b, rb
				}
				br := newBrowser(t, env)
				f, id := toSecondStep(t, br, r, erin.Email)
				drain(f.resp)
				ps = append(ps, pending{br, id})
			}
			code := totpAt(t, key, 0)
			results := make([]*http.Response, len(ps))
			var wg sync.WaitGroup
			for i, p := range ps {
				wg.Go(func() {
					results[i] = p.b.post(p.b.url("/login/mfa"), url.Values{"authRequestID": {p.id}, "code": {code}})
				})
			}
			wg.Wait()
			signedIn := 0
			for _, resp := range results {
				if path(resp) != "/login/mfa" {
					signedIn++
				} else if e := resp.Request.URL.Query().Get("e"); e != "signin.mfa.wrong" {
					t.Errorf("refused with %q", e)
				}
				drain(resp)
			}
			if signedIn != 1 {
				t.Fatalf("%d of %d concurrent submissions of one code on two replicas signed in, want 1", signedIn, len(ps))
			}
			// The previous step's code, still inside the skew window, is
			// refused after the current one was accepted.
			br := newBrowser(t, b)
			f, id := toSecondStep(t, br, rb, erin.Email)
			drain(f.resp)
			resp := br.post(br.url("/login/mfa"), url.Values{"authRequestID": {id}, "code": {totpAt(t, key, -1)}})
			if path(resp) != "/login/mfa" {
				t.Fatalf("a code of an earlier step than the last accepted one signed in: %s", resp.Request.URL)
			}
			drain(resp)
		})
	}
}
