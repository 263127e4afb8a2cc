package account

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/customerhub/hubid/internal/safetext"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/hub"
	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/store"
)

// MaxNameLen is the longest name, in characters.
const MaxNameLen = 100

// languages are the choices of the language setting: "" follows the
// browser (ui_locales, Accept-Language).
var languages = []struct{ value, key string }{
	{"", "account.language.auto"}, {"en", "lang.en"}, {"ja", "lang.ja"},
}

type langOption struct {
	Value, Key string
	Selected   bool
}

type sessionView struct {
	Device, IP, LastSeen, LastSeenISO, Services, EndURL string
	Current                                             bool
}

type serviceView struct{ Name, URL string }

type consentView struct {
	Service, Scopes, Granted, GrantedISO, RevokeURL string
}

type overviewData struct {
	page
	Done, Error   string // message keys
	Name          string
	Languages     []langOption
	Email         string
	EmailVerified bool
	Sessions      []sessionView
	Others        bool // there are sessions besides this one
	Services      []serviceView
	Consents      []consentView
	MFA           *mfaView // nil: two-step verification not offered
}

func (h *Handler) overview(w http.ResponseWriter, r *http.Request, v hub.Viewer) {
	h.renderOverview(w, r, v, http.StatusOK, doneKeys[r.URL.Query().Get("done")], "", v.User.Name, v.User.Locale)
}

// renderOverview renders the settings page; name and locale are the
// profile form's values (the stored ones, or what was typed).
func (h *Handler) renderOverview(w http.ResponseWriter, r *http.Request, v hub.Viewer, status int, done, errKey, name, locale string) {
	ctx := r.Context()
	d := overviewData{page: page{Nav: nav("/account")}, Done: done, Error: errKey, Name: name,
		Email: v.User.Email, EmailVerified: v.User.EmailVerified}
	for _, l := range languages {
		d.Languages = append(d.Languages, langOption{Value: l.value, Key: l.key, Selected: l.value == locale})
	}
	ss, err := h.d.Sessions.List(ctx, v.User.ID)
	if err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	names := &clientNames{st: h.d.Store, ctx: ctx}
	seen := map[string]bool{}
	// This device first, then the most recently used.
	slices.SortStableFunc(ss, func(a, b store.Session) int {
		if (a.ID == v.Session.ID) != (b.ID == v.Session.ID) {
			if a.ID == v.Session.ID {
				return -1
			}
			return 1
		}
		return b.LastSeen.Compare(a.LastSeen)
	})
	for _, s := range ss {
		var svc []string
		for _, id := range s.Clients {
			c, ok := names.get(id)
			if !ok {
				continue
			}
			svc = append(svc, c.Name)
			if !seen[id] {
				seen[id] = true
				d.Services = append(d.Services, serviceView{Name: c.Name, URL: c.HomeURL})
			}
		}
		cur := s.ID == v.Session.ID
		d.Others = d.Others || !cur
		d.Sessions = append(d.Sessions, sessionView{
			Device: deviceName(v.P, s.UserAgent), IP: s.IP, Current: cur,
			LastSeen: formatTime(v.P, s.LastSeen), LastSeenISO: isoTime(s.LastSeen),
			Services: strings.Join(svc, v.P.T("account.sep")),
			EndURL:   "/account/sessions/" + url.PathEscape(s.ID) + "/end",
		})
	}
	slices.SortFunc(d.Services, func(a, b serviceView) int { return strings.Compare(a.Name, b.Name) })
	gs, err := h.d.Store.ListConsentsByUser(ctx, v.User.ID)
	if err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	for _, g := range gs {
		c, ok := names.get(g.ClientID)
		if !ok {
			c = store.Client{Name: g.ClientID}
		}
		d.Consents = append(d.Consents, consentView{
			Service: c.Name, Scopes: scopeNames(v.P, h.d.Renderer.Bundle, g.Scopes),
			Granted: formatDate(v.P, g.UpdatedAt), GrantedISO: isoTime(g.UpdatedAt),
			RevokeURL: "/account/consents/" + url.PathEscape(g.ClientID) + "/revoke",
		})
	}
	slices.SortFunc(d.Consents, func(a, b consentView) int { return strings.Compare(a.Service, b.Service) })
	if d.MFA, err = h.mfaState(ctx, v); err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	h.d.Renderer.Render(w, r, status, "account", v.P, "account.title", d)
}

// clientNames looks clients up once per page. A client that no longer
// exists is reported absent; another error is logged and the client shown
// by its ID, so one bad row does not take the page down.
type clientNames struct {
	st    Store
	ctx   context.Context
	cache map[string]*store.Client
}

func (c *clientNames) get(id string) (store.Client, bool) {
	if id == "" {
		return store.Client{}, false
	}
	if c.cache == nil {
		c.cache = map[string]*store.Client{}
	}
	if cl, done := c.cache[id]; done {
		if cl == nil {
			return store.Client{}, false
		}
		return *cl, true
	}
	cl, err := c.st.GetClient(c.ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		c.cache[id] = nil
		return store.Client{}, false
	}
	if err != nil {
		cl = store.Client{ID: id}
	}
	if cl.Name == "" {
		cl.Name = id
	}
	c.cache[id] = &cl
	return cl, true
}

// scopeNames translates the scopes a person granted; a scope without a
// message ("account.scope.<scope>") is shown as it is.
func scopeNames(p *i18n.Printer, b *i18n.Bundle, scopes []string) string {
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if k := "account.scope." + s; b.Has(k) {
			out = append(out, p.T(k))
		} else {
			out = append(out, s)
		}
	}
	return strings.Join(out, p.T("account.sep"))
}

// checkName returns the trimmed name or the message key of its fault.
func checkName(raw string) (string, string) {
	name := strings.TrimSpace(raw)
	switch {
	case name == "":
		return "", "account.name.required"
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		return "", "account.name.invalid"
	case utf8.RuneCountInString(name) > MaxNameLen:
		return "", "account.name.toolong"
	}
	return name, ""
}

func (h *Handler) postProfile(w http.ResponseWriter, r *http.Request, v hub.Viewer) {
	rawName, locale := r.PostFormValue("name"), r.PostFormValue("locale")
	valid := false
	for _, l := range languages {
		valid = valid || l.value == locale
	}
	if !valid {
		h.renderOverview(w, r, v, http.StatusUnprocessableEntity, "", "account.language.invalid", rawName, v.User.Locale)
		return
	}
	name, errKey := checkName(rawName)
	if errKey != "" {
		h.renderOverview(w, r, v, http.StatusUnprocessableEntity, "", errKey, rawName, locale)
		return
	}
	if name == v.User.Name && locale == v.User.Locale {
		back(w, r, "/account", "profile")
		return
	}
	err := h.d.Store.InTx(r.Context(), func(tx store.Durable) error {
		var changed []string
		if _, err := tx.UpdateUser(r.Context(), v.User.ID, func(u *store.User) error {
			if u.Name != name {
				changed = append(changed, "name")
			}
			if u.Locale != locale {
				changed = append(changed, "locale")
			}
			u.Name, u.Locale = name, locale
			return nil
		}); err != nil {
			return fmt.Errorf("update profile: %w", err)
		}
		if len(changed) == 0 {
			return nil
		}
		_, err := tx.AppendAudit(r.Context(), h.event(r, v, KindProfileUpdated, map[string]string{"fields": strings.Join(changed, ",")}))
		return err
	})
	if err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	back(w, r, "/account", "profile")
}

// ownSession returns the viewer's live session with that ID. Another
// person's session, or none, is NotFound: the answer is the same, so the
// form cannot be used to probe for session IDs.
func (h *Handler) ownSession(ctx context.Context, v hub.Viewer, id string) (store.Session, error) {
	ss, err := h.d.Sessions.List(ctx, v.User.ID)
	if err != nil {
		return store.Session{}, err
	}
	for _, s := range ss {
		if s.ID == id {
			return s, nil
		}
	}
	return store.Session{}, apperr.New(apperr.NotFound, "no such session")
}

func (h *Handler) postEndSession(w http.ResponseWriter, r *http.Request, v hub.Viewer) {
	s, err := h.ownSession(r.Context(), v, r.PathValue("id"))
	if err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	if err := h.d.EndSession(r.Context(), s.ID); err != nil {
		h.d.Renderer.Error(w, r, v.P, fmt.Errorf("end session: %w", err), "")
		return
	}
	h.auditNow(r, h.event(r, v, KindSessionEnded, map[string]string{
		"reason": "account", "ip": s.IP, "user_agent": safetext.Cut(s.UserAgent, 256), "current": fmt.Sprint(s.ID == v.Session.ID),
	}))
	// Ending this device's own session signs the person out here: the
	// guard then sends them to the sign-in page.
	back(w, r, "/account", "session")
}

// endOthers ends every session of the viewer but the current one and
// returns how many it ended; it tries them all and reports the first
// failure.
func (h *Handler) endOthers(ctx context.Context, v hub.Viewer) (int, error) {
	ss, err := h.d.Sessions.List(ctx, v.User.ID)
	if err != nil {
		return 0, fmt.Errorf("list sessions: %w", err)
	}
	n := 0
	var errs []error
	for _, s := range ss {
		if s.ID == v.Session.ID {
			continue
		}
		if err := h.d.EndSession(ctx, s.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	if len(errs) > 0 {
		return n, fmt.Errorf("end sessions: %w", errors.Join(errs...))
	}
	return n, nil
}

func (h *Handler) postEndOthers(w http.ResponseWriter, r *http.Request, v hub.Viewer) {
	n, err := h.endOthers(r.Context(), v)
	if n > 0 {
		h.auditNow(r, h.event(r, v, KindSessionsEnded, map[string]string{"reason": "account", "count": fmt.Sprint(n)}))
	}
	if err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	back(w, r, "/account", "others")
}

func (h *Handler) postRevokeConsent(w http.ResponseWriter, r *http.Request, v hub.Viewer) {
	clientID := r.PathValue("client")
	err := h.d.Store.InTx(r.Context(), func(tx store.Durable) error {
		if _, err := tx.GetConsent(r.Context(), v.User.ID, clientID); err != nil {
			return fmt.Errorf("get consent: %w", err)
		}
		if err := tx.DeleteConsent(r.Context(), v.User.ID, clientID); err != nil {
			return fmt.Errorf("delete consent: %w", err)
		}
		e := h.event(r, v, KindConsentRevoked, nil)
		e.ClientID = clientID
		_, err := tx.AppendAudit(r.Context(), e)
		return err
	})
	if err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	back(w, r, "/account", "consent")
}
