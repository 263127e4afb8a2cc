package idp_test

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// Someone who types a legacy login ID into the email box is told what to
// do: in the window, to register it (with a link); outside it, before the
// cutover, that login IDs do not sign in here; after the cutover, that
// they no longer sign in, and whom to ask.
func TestLegacyLoginIDInTheEmailBox(t *testing.T) {
	for name, tc := range map[string]struct {
		start, end, cutover time.Duration
		typed               string
		want, wantNot       []string
	}{
		"window": {-time.Hour, time.Hour, 2 * time.Hour, "NKS-0001",
			[]string{"This is a login ID of a service", `href="/preregister"`, "Register your login ID"}, []string{"Enter your email address."}},
		"window, not a login ID": {-time.Hour, time.Hour, 2 * time.Hour, "nobody-at-all",
			[]string{"Enter your email address."}, []string{"This is a login ID"}},
		"closed": {-3 * time.Hour, -2 * time.Hour, time.Hour, "NKS-0001",
			[]string{"Login IDs do not sign in to the Customer Hub"}, []string{"Register your login ID"}},
		"cutover": {-3 * time.Hour, -2 * time.Hour, -time.Hour, "NKS-0001",
			[]string{"Login IDs no longer sign in", "ask the helpdesk: help@example.com / https://help.example/form"}, []string{`href="/preregister"`}},
		"cutover, a mistyped address": {-3 * time.Hour, -2 * time.Hour, -time.Hour, "aiko@",
			[]string{"Enter your email address."}, []string{"Login IDs"}},
	} {
		t.Run(name, func(t *testing.T) {
			env := legacyEnv(t, tc.start, tc.end, tc.cutover)
			b := newBrowser(t, env)
			resp := b.get(env.URL + "/signin")
			id := resp.Request.URL.Query().Get("authRequestID")
			drain(resp)
			resp = b.post(env.URL+"/login/email", url.Values{"authRequestID": {id}, "email": {tc.typed}})
			if resp.StatusCode != 400 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			page := body(t, resp)
			for _, w := range tc.want {
				if !strings.Contains(page, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(page, w) {
					t.Errorf("page has %q", w)
				}
			}
			if t.Failed() {
				t.Log(page)
			}
		})
	}
}
