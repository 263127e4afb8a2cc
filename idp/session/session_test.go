package session

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/memory"
	"github.com/customerhub/hubid/store/storetest"
)

func newManager(secure bool) (*Manager, *storetest.Clock) {
	clk := storetest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	st := memory.New(memory.Options{Now: clk.Now})
	return New(Config{
		RememberIdle: 14 * 24 * time.Hour, RememberAbsolute: 30 * 24 * time.Hour,
		BrowserIdle: 12 * time.Hour, TouchInterval: time.Minute, Secure: secure, Now: clk.Now,
	}, st), clk
}

// browser replays the last Set-Cookie like a browser would.
type browser struct{ cookie *http.Cookie }

func (b *browser) req() *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	if b.cookie != nil && b.cookie.MaxAge >= 0 {
		r.AddCookie(&http.Cookie{Name: b.cookie.Name, Value: b.cookie.Value})
	}
	return r
}

func (b *browser) take(t *testing.T, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	cs := w.Result().Cookies()
	if len(cs) == 0 {
		return nil
	}
	b.cookie = cs[len(cs)-1]
	return b.cookie
}

func TestRememberSlidesFor14DaysWithinTheCap(t *testing.T) {
	ctx := context.Background()
	m, clk := newManager(true)
	var b browser
	w := httptest.NewRecorder()
	s, err := m.Create(ctx, w, b.req(), Params{UserID: "u1", AuthTime: clk.Now(), AMR: []string{"pwd"}, Remember: true})
	if err != nil {
		t.Fatal(err)
	}
	c := b.take(t, w)
	if c.Name != "__Host-hubid_session" || !c.HttpOnly || !c.Secure || c.Path != "/" || c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("cookie attributes: %+v", c)
	}
	if c.MaxAge != 14*24*3600 {
		t.Fatalf("Max-Age %d, want 14 days", c.MaxAge)
	}
	if len(c.Value) < 43 || s.ID == c.Value {
		t.Fatal("the stored ID must be a hash of a ≥256-bit cookie value")
	}
	// Used every 13 days: alive past 14 days, renewed each time.
	for i := range 2 {
		clk.Advance(13 * 24 * time.Hour)
		w = httptest.NewRecorder()
		if _, ok, err := m.Current(ctx, w, b.req()); err != nil || !ok {
			t.Fatalf("use %d: session gone (%v)", i, err)
		}
		// Renewed to 14 days, or to the 30-day cap when that comes first.
		want := min(14*24*3600, int((30*24*time.Hour - time.Duration(i+1)*13*24*time.Hour).Seconds()))
		if c := b.take(t, w); c == nil || c.MaxAge != want {
			t.Fatalf("use %d: cookie Max-Age %+v, want %d", i, c, want)
		}
	}
	// The absolute cap (30 days) ends it even while used.
	clk.Advance(5 * 24 * time.Hour) // day 31
	w = httptest.NewRecorder()
	if _, ok, _ := m.Current(ctx, w, b.req()); ok {
		t.Fatal("session outlived the absolute cap")
	}
}

func TestRememberEndsAfter14IdleDays(t *testing.T) {
	ctx := context.Background()
	m, clk := newManager(false)
	var b browser
	w := httptest.NewRecorder()
	if _, err := m.Create(ctx, w, b.req(), Params{UserID: "u1", Remember: true}); err != nil {
		t.Fatal(err)
	}
	if c := b.take(t, w); c.Name != "hubid_session" || c.Secure {
		t.Fatalf("http cookie: %+v", c)
	}
	clk.Advance(14*24*time.Hour - time.Second)
	if _, ok, _ := m.Current(ctx, httptest.NewRecorder(), b.req()); !ok {
		t.Fatal("ended before 14 idle days")
	}
	clk.Advance(14*24*time.Hour + time.Second)
	w = httptest.NewRecorder()
	if _, ok, _ := m.Current(ctx, w, b.req()); ok {
		t.Fatal("alive after 14 idle days")
	}
	if c := b.take(t, w); c == nil || c.MaxAge >= 0 {
		t.Fatal("a dead session's cookie must be cleared")
	}
}

func TestWithoutRememberIsABrowserSessionCookieWith12hIdle(t *testing.T) {
	ctx := context.Background()
	m, clk := newManager(true)
	var b browser
	w := httptest.NewRecorder()
	if _, err := m.Create(ctx, w, b.req(), Params{UserID: "u1"}); err != nil {
		t.Fatal(err)
	}
	if c := b.take(t, w); c.MaxAge != 0 || !c.Expires.IsZero() {
		t.Fatalf("want a session cookie (no Max-Age/Expires): %+v", c)
	}
	clk.Advance(11 * time.Hour)
	if _, ok, _ := m.Current(ctx, httptest.NewRecorder(), b.req()); !ok {
		t.Fatal("ended within 12 h")
	}
	clk.Advance(12*time.Hour + time.Second)
	if _, ok, _ := m.Current(ctx, httptest.NewRecorder(), b.req()); ok {
		t.Fatal("alive after 12 idle hours")
	}
}

func TestTouchIsThrottled(t *testing.T) {
	ctx := context.Background()
	m, clk := newManager(true)
	var b browser
	w := httptest.NewRecorder()
	s0, _ := m.Create(ctx, w, b.req(), Params{UserID: "u1", Remember: true})
	b.take(t, w)
	clk.Advance(30 * time.Second)
	w = httptest.NewRecorder()
	s1, _, _ := m.Current(ctx, w, b.req())
	if !s1.LastSeen.Equal(s0.LastSeen) || len(w.Result().Cookies()) != 0 {
		t.Fatal("wrote within the touch interval")
	}
	clk.Advance(31 * time.Second)
	s2, _, _ := m.Current(ctx, httptest.NewRecorder(), b.req())
	if !s2.LastSeen.Equal(clk.Now()) {
		t.Fatal("did not slide after the touch interval")
	}
}

func TestNewSignInReplacesTheOldSession(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(true)
	var b browser
	w := httptest.NewRecorder()
	old, _ := m.Create(ctx, w, b.req(), Params{UserID: "u1"})
	b.take(t, w)
	w = httptest.NewRecorder()
	nw, _ := m.Create(ctx, w, b.req(), Params{UserID: "u1"})
	if nw.ID == old.ID {
		t.Fatal("session ID reused")
	}
	if _, err := m.Get(ctx, old.ID); err == nil {
		t.Fatal("old session still alive")
	}
}

func TestEndAllExcept(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(true)
	var ids []string
	for range 3 {
		s, _ := m.Create(ctx, httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), Params{UserID: "u1"})
		ids = append(ids, s.ID)
	}
	ended, err := m.EndAllExcept(ctx, "u1", ids[0])
	if err != nil || len(ended) != 2 {
		t.Fatalf("ended %d, %v", len(ended), err)
	}
	if left, _ := m.List(ctx, "u1"); len(left) != 1 || left[0].ID != ids[0] {
		t.Fatalf("left %v", left)
	}
}

// countingStore counts the session writes that reach the store.
type countingStore struct {
	Store
	updates int
}

func (c *countingStore) UpdateSession(ctx context.Context, id string, fn func(*store.Session) error) (store.Session, error) {
	c.updates++
	return c.Store.UpdateSession(ctx, id, fn)
}

// TestSignedIntoWritesOnceAtMost: the first sign-in to a client records
// the client and the organization chosen in one write; a single sign-on
// to it with the same organization writes nothing; another organization
// chosen later (prompt=select_account) is written.
func TestSignedIntoWritesOnceAtMost(t *testing.T) {
	ctx := context.Background()
	clk := storetest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	st := &countingStore{Store: memory.New(memory.Options{Now: clk.Now})}
	m := New(Config{RememberIdle: 14 * 24 * time.Hour, RememberAbsolute: 30 * 24 * time.Hour,
		BrowserIdle: 12 * time.Hour, TouchInterval: time.Minute, Now: clk.Now}, st)
	s, _ := m.Create(ctx, httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), Params{UserID: "u1"})
	steps := []struct {
		name, client, org string
		writes            int
		clients           []string
		orgs              map[string]string
	}{
		{"first sign-in to ships, org A", "ships", "A", 1, []string{"ships"}, map[string]string{"ships": "A"}},
		{"single sign-on to ships, org A", "ships", "A", 1, []string{"ships"}, map[string]string{"ships": "A"}},
		{"ships again, org B chosen", "ships", "B", 2, []string{"ships"}, map[string]string{"ships": "B"}},
		{"first sign-in to pass, no organization", "pass", "", 3, []string{"ships", "pass"}, map[string]string{"ships": "B"}},
		{"single sign-on to pass", "pass", "", 3, []string{"ships", "pass"}, map[string]string{"ships": "B"}},
	}
	for _, step := range steps {
		var err error
		s, err = m.SignedInto(ctx, s, step.client, step.org)
		if err != nil || st.updates != step.writes {
			t.Fatalf("%s: %v, %d writes in all; want %d", step.name, err, st.updates, step.writes)
		}
		stored, err := st.GetSession(ctx, s.ID)
		for _, got := range []store.Session{s, stored} {
			if err != nil || !slices.Equal(got.Clients, step.clients) || !maps.Equal(got.OrgChoices, step.orgs) {
				t.Fatalf("%s: clients %v, organizations %v (%v); want %v, %v", step.name, got.Clients, got.OrgChoices, err,
					step.clients, step.orgs)
			}
		}
	}
}
