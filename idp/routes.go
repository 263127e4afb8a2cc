package idp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/customerhub/hubid/apperr"

	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/customerhub/hubid/idp/account"
	"github.com/customerhub/hubid/idp/backchannel"
	"github.com/customerhub/hubid/idp/consentui"
	"github.com/customerhub/hubid/idp/console"
	"github.com/customerhub/hubid/idp/httpx"
	"github.com/customerhub/hubid/idp/hub"
	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/idp/legacyui"
	"github.com/customerhub/hubid/idp/login"
	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/idp/oauthstrict"
	"github.com/customerhub/hubid/idp/oidcstore"
	"github.com/customerhub/hubid/idp/outbox"
	"github.com/customerhub/hubid/idp/pwpolicy"
	"github.com/customerhub/hubid/idp/recovery"
	"github.com/customerhub/hubid/idp/throttle"
	"github.com/customerhub/hubid/idp/web"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// jwksMaxAge is how long clients may cache /keys: never longer than the
// time a key is published before it signs, and at most 15 minutes so an
// emergency retire propagates quickly.
func (s *Server) jwksMaxAge() time.Duration {
	return min(s.deps.Config.Keys.PublishBefore.D(), 15*time.Minute)
}

func (s *Server) keysHandler(w http.ResponseWriter, r *http.Request) {
	body := s.Keys.JWKS()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(s.jwksMaxAge().Seconds())))
	_, _ = w.Write(body)
}

// cachedDiscovery renders op's discovery document once (the issuer is
// static) and serves the bytes from memory.
func (s *Server) cachedDiscovery() http.HandlerFunc {
	var once sync.Once
	var body []byte
	var ctype string
	return func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() {
			rec := httptest.NewRecorder()
			req := httptest.NewRequestWithContext(r.Context(), http.MethodGet, oidc.DiscoveryEndpoint, nil)
			s.Provider.ServeHTTP(rec, req)
			body, ctype = trimDiscovery(rec.Body.Bytes()), rec.Header().Get("Content-Type")
		})
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(body)
	}
}

// trimDiscovery removes what op advertises but hubid does not serve: the
// implicit and hybrid response types, the jwt-bearer and device grants
// (docs/decisions.md). On a parse failure the document is kept as is.
func trimDiscovery(b []byte) []byte {
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return bytes.Clone(b)
	}
	doc["response_types_supported"] = []string{"code"}
	doc["grant_types_supported"] = []string{"authorization_code", "refresh_token", "client_credentials"}
	doc["code_challenge_methods_supported"] = []string{"S256"}
	// op does not list acr values; ours are what the sign-in can prove.
	doc["acr_values_supported"] = []string{oidcstore.ACRPassword, oidcstore.ACRMFA}
	delete(doc, "device_authorization_endpoint")
	out, err := json.Marshal(doc)
	if err != nil {
		return bytes.Clone(b)
	}
	return out
}

func route(p string) string {
	switch p {
	case "/.well-known/openid-configuration", "/keys", "/authorize", "/authorize/callback",
		"/oauth/token", "/oauth/introspect", "/userinfo", "/revoke", "/end_session",
		"/login", "/login/email", "/login/password", "/login/mfa", "/login/mfa/setup", "/login/mfa/continue", "/logout", "/logged-out", "/healthz", "/readyz",
		"/forgot", "/forgot/sent", "/reset", "/reset/done", "/verify", "/verify/resend", "/verify/sent", "/signin",
		"/account", "/account/password", "/account/email", "/account/history", "/account/profile",
		"/account/mfa", "/account/mfa/setup", "/account/mfa/verify", "/account/mfa/activate", "/account/mfa/codes", "/account/mfa/off",
		"/preregister", "/preregister/register", "/preregister/sent", "/preregister/confirm", orgs.AcceptPath:
		return p
	}
	if p == "/console" || strings.HasPrefix(p, "/console/") {
		return "/console/"
	}
	if strings.HasPrefix(p, "/static/") {
		return "/static/"
	}
	return "other"
}

// originSet holds the origins of registered redirect URIs, for CORS.
type originSet struct {
	v atomic.Pointer[map[string]bool]
}

func (o *originSet) refresh(ctx context.Context, d interface {
	ListClients(context.Context) ([]store.Client, error)
}) error {
	cs, err := d.ListClients(ctx)
	if err != nil {
		return err
	}
	m := map[string]bool{}
	for _, c := range cs {
		for _, raw := range append(append([]string{}, c.RedirectURIs...), c.PostLogoutRedirectURIs...) {
			if u, err := url.Parse(raw); err == nil && u.Host != "" {
				m[u.Scheme+"://"+u.Host] = true
			}
		}
	}
	o.v.Store(&m)
	return nil
}

func (o *originSet) allowed(origin string) bool {
	m := o.v.Load()
	return m != nil && (*m)[origin]
}

// corsFor allows registered origins only, without credentials.
func (s *Server) corsFor(h http.Handler) http.Handler {
	return cors.New(cors.Options{
		AllowOriginFunc: s.origins.allowed,
		AllowedMethods:  []string{http.MethodGet, http.MethodPost},
		AllowedHeaders:  []string{"Authorization", "Content-Type"},
		MaxAge:          600,
	}).Handler(h)
}

func (s *Server) buildLogin() error {
	c := s.deps.Config
	bundle, err := i18n.New(login.Messages, login.MFAMessages, account.MFAMessages, hub.Messages, mail.Messages, recovery.Messages, pwpolicy.Messages, account.Messages, consentui.Messages, legacyui.Messages, console.Messages)
	if err != nil {
		return err
	}
	renderer, err := web.NewRenderer(bundle, web.Helpdesk{Email: c.Helpdesk.Email, Phone: c.Helpdesk.Phone, URL: c.Helpdesk.URL}, s.deps.Logger, login.Templates, hub.Templates, recovery.Templates, account.Templates, consentui.Templates, legacyui.Templates, console.Templates)
	if err != nil {
		return err
	}
	proxies, err := throttle.ParseProxies(c.Listen.TrustedProxies)
	if err != nil {
		return err
	}
	s.proxies = proxies
	policy := throttle.Policy{DelayAfter: c.Throttle.DelayAfter, LockAfter: c.Throttle.LockAfter, Window: c.Throttle.Window.D()}
	ipPolicy := throttle.Policy{DelayAfter: 5 * c.Throttle.DelayAfter, LockAfter: 5 * c.Throttle.LockAfter, Window: c.Throttle.Window.D()}
	s.renderer = renderer
	s.guard = &hub.Guard{Sessions: s.Sessions, Directory: s.deps.Durable, Renderer: renderer, Logger: s.deps.Logger}
	helpdesk := web.Helpdesk{Email: c.Helpdesk.Email, Phone: c.Helpdesk.Phone, URL: c.Helpdesk.URL}
	if s.composer, err = mail.NewComposer(bundle, helpdesk.String()); err != nil {
		return err
	}
	if s.Orgs, err = orgs.New(orgs.Deps{
		Store: s.deps.Durable, Mailer: mail.OrgMailer{Composer: s.composer},
		Policy: pwpolicy.Policy{MinLength: c.Password.MinLength}, Hasher: s.deps.Hasher,
		BaseURL: c.Issuer, Now: s.deps.Now, Rand: s.deps.Rand, Logger: s.deps.Logger,
	}); err != nil {
		return err
	}
	s.recovery = recovery.New(recovery.Deps{
		Directory: s.deps.Durable, Sessions: s.Sessions, EndSession: s.endSession,
		Counters: s.deps.Ephemeral, Hasher: s.deps.Hasher,
		Policy:   pwpolicy.Policy{MinLength: c.Password.MinLength},
		Composer: s.composer, Renderer: renderer, Guard: s.guard,
		Issuer: c.Issuer, Proxies: proxies, Now: s.deps.Now, Rand: s.deps.Rand, Logger: s.deps.Logger,
	})
	limiter := &throttle.Limiter{Counters: s.deps.Ephemeral, Account: policy, IP: ipPolicy, Now: s.deps.Now}
	twoStep, err := s.newTwoStep()
	if err != nil {
		return err
	}
	s.twoStep = twoStep
	s.account = account.New(account.Deps{
		Guard: s.guard, Renderer: renderer, Store: s.deps.Durable, Sessions: s.Sessions,
		EndSession: s.endSession, Hasher: s.deps.Hasher, Limiter: limiter,
		Policy: pwpolicy.Policy{MinLength: c.Password.MinLength},
		StartEmailChange: func(ctx context.Context, tx store.Durable, u store.User, e string, l language.Tag) error {
			return s.recovery.StartEmailVerification(ctx, tx, u, e, l)
		},
		Composer: s.composer, Proxies: proxies, Now: s.deps.Now, Logger: s.deps.Logger,
		TwoStep: twoStep, PendingTOTP: s.setPendingTOTP,
	})
	s.consent = consentui.New(consentui.Deps{
		AuthRequests: s.deps.Ephemeral, Store: s.deps.Durable, Sessions: s.Sessions, Renderer: renderer,
		Deny: func(w http.ResponseWriter, r *http.Request, ar store.AuthRequest) {
			// Answered from a POST: 303 (op.AuthRequestError would send 302).
			redir, err := op.TryErrorRedirect(r.Context(), oidcstore.WrapAuthRequest(ar), oidc.ErrAccessDenied(), s.Provider.Encoder(), s.deps.Logger)
			if err != nil {
				renderer.Error(w, r, renderer.Bundle.Printer(renderer.Bundle.FromRequest(r)), apperr.Wrap(apperr.Invalid, "deny", err), "error.badrequest")
				return
			}
			http.Redirect(w, r, redir.URL, http.StatusSeeOther)
		},
		ConsentRequired: func(w http.ResponseWriter, r *http.Request, ar store.AuthRequest) {
			// zitadel/oidc has no ErrConsentRequired constructor.
			op.AuthRequestError(w, r, oidcstore.WrapAuthRequest(ar), &oidc.Error{ErrorType: "consent_required"}, s.Provider)
		},
		Continue: func(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, sess store.Session) {
			s.login.Finish(w, r, ar, sess)
		},
		Proxies: proxies, Now: s.deps.Now, Logger: s.deps.Logger,
	})
	if err := s.buildLegacy(limiter, proxies); err != nil {
		return err
	}
	s.console = console.New(console.Deps{
		Guard: s.guard, Sessions: s.Sessions, Renderer: renderer, Orgs: s.Orgs, TwoStep: twoStep,
		Legacy: s.legacy, Store: s.deps.Durable, Proxies: proxies, MinLength: c.Password.MinLength,
		Logger: s.deps.Logger,
	})
	s.login = login.New(login.Deps{
		Preregister:  s.legacyUI.Open,
		Consent:      s.consent.Check,
		AuthRequests: s.deps.Ephemeral,
		Directory:    s.deps.Durable,
		Sessions:     s.Sessions,
		Limiter:      limiter,
		Hasher:       s.deps.Hasher,
		Renderer:     renderer,
		Proxies:      proxies,
		CallbackURL: func(id string) string {
			return c.Issuer + "/authorize/callback?id=" + url.QueryEscape(id)
		},
		LoginRequired: func(w http.ResponseWriter, r *http.Request, ar store.AuthRequest) {
			op.AuthRequestError(w, r, oidcstore.WrapAuthRequest(ar), oidc.ErrLoginRequired(), s.Provider)
		},
		AccountSelectionRequired: func(w http.ResponseWriter, r *http.Request, ar store.AuthRequest) {
			// zitadel/oidc has no constructor for this OIDC Core error.
			op.AuthRequestError(w, r, oidcstore.WrapAuthRequest(ar), &oidc.Error{ErrorType: "account_selection_required"}, s.Provider)
		},
		EndSession:     s.endSession,
		TwoStep:        twoStep,
		TwoStepACR:     oidcstore.ACRMFA,
		AuthRequestTTL: c.Sessions.AuthRequestTTL.D(),
		Rand:           s.deps.Rand,
		Now:            s.deps.Now,
		Logger:         s.deps.Logger,
	})
	return nil
}

// endSession ends a browser session and queues a back-channel logout for
// each client signed in with it. Its refresh tokens without
// offline_access die with it (checked at refresh).
func (s *Server) endSession(ctx context.Context, id string) error {
	sess, err := s.Sessions.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(sess.Clients) > 0 {
		err := s.deps.Durable.InTx(ctx, func(tx store.Durable) error {
			_, err := backchannel.Enqueue(ctx, tx, tx, s.deps.Config.Issuer, sess, s.deps.Now())
			return err
		})
		if err != nil {
			// The person asked to sign out: end the session anyway.
			s.deps.Logger.ErrorContext(ctx, "queue back-channel logout", "err", err)
		}
	}
	return s.Sessions.End(ctx, id)
}

func (s *Server) buildPublic() http.Handler {
	https := strings.HasPrefix(s.deps.Config.Issuer, "https://")
	mux := http.NewServeMux()
	mux.Handle("GET /keys", s.corsFor(http.HandlerFunc(s.keysHandler)))
	mux.Handle("GET "+oidc.DiscoveryEndpoint, s.corsFor(s.cachedDiscovery()))
	// The strict layer (idp/oauthstrict) runs inside unavailableStatus:
	// both share the request memo, which carries the client
	// authentication to op and an outage to unavailableStatus.
	strict := &oauthstrict.Layer{Clients: s.storage, PageError: s.formError, Tokens: s.tokens}
	mux.Handle("/oauth/token", s.corsFor(httpx.NoStore(unavailableStatus(strict.Token(s.storage.TokenOptions(s.Provider, s.Provider))))))
	mux.Handle("/userinfo", s.corsFor(httpx.NoStore(unavailableStatus(strict.Userinfo(s.Provider)))))
	mux.Handle("/oauth/introspect", httpx.NoStore(unavailableStatus(strict.Introspect(s.Provider))))
	mux.Handle("/revoke", unavailableStatus(strict.Revoke(s.Provider)))
	mux.HandleFunc("GET /healthz", healthz)
	mux.Handle("/static/", web.Static())
	if s.deps.DevMailDir != "" {
		mux.Handle("GET /dev/mail/", mail.DevMailbox(s.deps.DevMailDir))
		mux.Handle("GET /dev/mail", http.RedirectHandler("/dev/mail/", http.StatusSeeOther))
	}

	pages := http.NewServeMux()
	s.login.Mount(pages)
	hub.New(s.guard).Mount(pages)
	s.recovery.Mount(pages)
	s.account.Mount(pages)
	s.consent.Mount(pages)
	s.legacyUI.Mount(pages)
	s.console.Mount(pages)
	protected := httpx.Forms(web.LangSwitch(s.renderer.Bundle, https, web.Protect(pages)), s.formError)
	for _, p := range []string{"GET /{$}", "/signin", "/login", "/login/", "/logout", "/logged-out",
		"/forgot", "/forgot/", "/preregister", "/preregister/", "/reset", "/reset/", "/verify", "/verify/", "/account", "/account/", "/consent"} {
		mux.Handle(p, protected)
	}
	for _, p := range console.Paths {
		mux.Handle(p, protected)
	}
	browser := web.Protect(s.browserErrors(strict.Browser(s.Provider)))
	mux.Handle("/authorize", browser)
	mux.Handle("/authorize/", browser)
	mux.Handle("/end_session", browser)
	mux.Handle("/device_authorization", http.NotFoundHandler())
	mux.Handle("/", s.Provider)
	m := httpx.NewMetrics(s.deps.Registry)
	h := httpx.Deadline(httpx.SecurityHeaders(requestMeta(mux, s.proxies), https), s.deps.Config.Listen.RequestTimeout.D(), s.deps.Logger)
	// The span is outermost, so that the access log line carries its
	// trace_id and every storage call below is its child.
	return s.deps.Tracing.Handler(httpx.Wrap(h, s.deps.Logger, m, route), route, "/healthz", "/static/")
}

// formError answers a refused page request (too large, not a form, bad
// text, a repeated parameter at /authorize) with the error page: a
// client error, logged as a warning.
func (s *Server) formError(w http.ResponseWriter, r *http.Request, err error) {
	p := s.renderer.Bundle.Printer(s.renderer.Bundle.FromRequest(r))
	fe := httpx.AsFormError(err)
	if fe.Status() == http.StatusRequestEntityTooLarge {
		s.deps.Logger.WarnContext(r.Context(), "page error", slog.Any("err", err), slog.Int("status", fe.Status()))
		s.renderer.Render(w, r, fe.Status(), "error", p, "error.title", web.ErrorData{Message: "error.badrequest", RequestID: httpx.RequestID(r.Context())})
		return
	}
	s.renderer.Error(w, r, p, apperr.Wrap(apperr.Invalid, "request refused", err), "error.badrequest")
}

func (s *Server) buildInternal() http.Handler {
	reg := s.deps.Registry
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", healthz)
	// Profiles for operators, on the internal listener only.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	s.admin.Mount(mux)
	s.adminAPI.Mount(mux)
	checks := []Check{
		{Name: s.deps.DurableName, P: s.deps.Durable},
		{Name: s.deps.EphemeralName, P: s.deps.Ephemeral},
	}
	mux.HandleFunc("GET /readyz", readyz(checks, s.draining.Load))
	reg.MustRegister(&stateCollector{checks: checks, outbox: s.deps.Durable, now: s.deps.Now})
	// Only the admin APIs are traced here, not probes and scrapes.
	return s.deps.Tracing.Handler(requestMeta(mux, s.proxies), internalRoute, "/metrics", "/healthz", "/readyz", "/debug/")
}

// internalRoute names an internal listener path for span names.
func internalRoute(p string) string {
	for _, r := range []string{"/admin/v1/", "/admin/"} {
		if strings.HasPrefix(p, r) {
			return r
		}
	}
	return "other"
}

// Public is the handler for the public listener.
func (s *Server) Public() http.Handler { return s.public }

// Internal is the handler for the metrics/health listener.
func (s *Server) Internal() http.Handler { return s.internal }

// Logouts is the back-channel logout worker (Run drives it; tests call
// RunOnce).
func (s *Server) Logouts() *backchannel.Worker { return s.logouts }

// RefreshOrigins reloads the CORS origins from the registered clients now
// (Run does it every 30 s).
func (s *Server) RefreshOrigins(ctx context.Context) error {
	return s.origins.refresh(ctx, s.deps.Durable)
}

// Mailer is the mail delivery worker (nil without a sender).
func (s *Server) Mailer() *outbox.Worker { return s.mailer }
