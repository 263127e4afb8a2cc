package idp_test

import (
	"strings"
	"testing"

	"github.com/customerhub/hubid/internal/hubtest"
)

// A single sign-on through a live session reads each directory record it
// needs once: the person (live, not disabled, password unchanged) and the
// client. Counted from the PostgreSQL spans under the server span of GET
// /login, the step that recognizes the session. On a store of a million
// people every such read is a round trip and a cold one
// (docs/benchmarks.md, "At scale").
func TestSingleSignOnReadsEachRecordOnce(t *testing.T) {
	exp, tr := inMemoryTracing()
	env, ships, _, _ := setup(t, "external", func(o *hubtest.Options) { o.Tracing = tr })
	b, _, _ := signedIn(t, env, ships)
	exp.Reset()
	signedInWith(t, b, ships) // single sign-on: /authorize → /login → callback

	spans := exp.GetSpans()
	reads := map[string]int{} // table → queries reading it
	var queries []string
	for _, c := range storageCalls(spans, serverSpan(t, spans, "GET /login")) {
		if c.system != "postgresql" || c.text == "" { // pool.acquire has no text
			continue
		}
		queries = append(queries, c.text)
		for _, table := range []string{"users", "clients"} {
			if strings.Contains(c.text, "FROM "+table+" ") || strings.HasSuffix(c.text, "FROM "+table) {
				reads[table]++
			}
		}
	}
	if len(queries) == 0 {
		t.Fatal("no PostgreSQL query under GET /login: the spans lost their statements")
	}
	for _, table := range []string{"users", "clients"} {
		if reads[table] != 1 {
			t.Errorf("%s read %d times by GET /login; want once. Queries:\n%s", table, reads[table], strings.Join(queries, "\n"))
		}
	}
	t.Logf("GET /login: %d PostgreSQL queries", len(queries))
}
