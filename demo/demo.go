// Package demo is a small relying party used by `hubid dev` to show single
// sign-on between two services ("NK-SHIPS (demo)" and "NK-PASS (demo)").
//
// Each App is an ordinary OpenID Connect client built on
// github.com/coreos/go-oidc/v3 and golang.org/x/oauth2, the way a service
// team would integrate with hubid (docs/integrate.md): the authorization
// code flow with PKCE S256, state and nonce checked, the ID token verified
// against the provider's published keys, RP-initiated logout with an
// id_token_hint, and back-channel logout.
//
// Provider discovery is lazy: the IdP may start after the App, so the
// discovery document is fetched on first use and cached once it has been
// fetched successfully. The App keeps its own sessions in memory; it is a
// demonstration, not a template for a multi-replica service.
package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Config describes one demo service.
type Config struct {
	// Name is shown on the pages, e.g. "NK-SHIPS (demo)". Defaults to ClientID.
	Name string
	// Issuer is hubid's issuer URL (discovery is Issuer +
	// "/.well-known/openid-configuration").
	Issuer string
	// ClientID and ClientSecret are the client's registration.
	ClientID     string
	ClientSecret string
	// BaseURL is where the App is served, e.g. "http://localhost:9001". The
	// redirect URI is BaseURL+"/callback", the post-logout redirect URI
	// BaseURL+"/" and the back-channel logout URI BaseURL+"/backchannel-logout".
	BaseURL string
	// OtherURL, when set, is linked as "Open the other demo service".
	OtherURL string
	// Scopes requested at sign-in; default openid, profile, email, roles
	// (the organization claims).
	Scopes []string
	// HTTPClient talks to the IdP; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock used for token expiry and sessions; default time.Now.
	Now func() time.Time
	// Logger receives internal errors; default slog.Default().
	Logger *slog.Logger
}

const (
	discoveryTimeout = 5 * time.Second
	attemptTTL       = 10 * time.Minute
	sessionTTL       = 12 * time.Hour
)

// App is one demo service; it is an http.Handler.
type App struct {
	cfg     Config
	baseCtx context.Context // for go-oidc's background key fetches
	client  *http.Client
	secure  bool   // cookies get Secure (BaseURL is https)
	prefix  string // cookie name prefix; ports do not separate cookies
	macKey  []byte // authenticates the sign-in attempt cookies
	handler http.Handler
	pages   *pages
	csp     string

	sessions *sessionStore
	seenJTIs *jtiStore

	mu sync.Mutex
	rp *relyingParty // nil until discovery succeeds
}

// relyingParty is what discovery yields; it never changes once built.
type relyingParty struct {
	provider   *oidc.Provider
	oauth      oauth2.Config
	idVerifier *oidc.IDTokenVerifier
	// logoutVerifier checks back-channel logout tokens. It is a separate
	// verifier only so that it can never be confused with ID token checks.
	logoutVerifier *oidc.IDTokenVerifier
	endSession     string // "" when the IdP advertises none
}

var cookieUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// New checks cfg and returns the App. It does not contact the IdP: ctx
// bounds the App's background work (go-oidc fetches signing keys with it),
// so cancel it when the App is no longer served.
func New(ctx context.Context, cfg Config) (*App, error) {
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if err := validate(cfg); err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = cfg.ClientID
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{oidc.ScopeOpenID, "profile", "email", "roles"}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("demo: cookie key: %w", err)
	}
	pg, err := loadPages()
	if err != nil {
		return nil, err
	}
	iss, _ := url.Parse(cfg.Issuer) // validated
	a := &App{
		cfg:      cfg,
		baseCtx:  oidc.ClientContext(ctx, cfg.HTTPClient),
		client:   cfg.HTTPClient,
		secure:   strings.HasPrefix(cfg.BaseURL, "https://"),
		prefix:   "demo-" + cookieUnsafe.ReplaceAllString(cfg.ClientID, "_"),
		macKey:   key,
		pages:    pg,
		sessions: newSessionStore(cfg.Now, sessionTTL),
		seenJTIs: newJTIStore(cfg.Now),
		// form-action must admit the IdP: browsers apply it to the
		// redirect that follows the sign-out form.
		csp: "default-src 'none'; style-src 'self'; form-action 'self' " + iss.Scheme + "://" + iss.Host +
			"; frame-ancestors 'none'; base-uri 'none'",
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET /callback", a.callback)
	// Sign-out is a POST refused when cross-origin (Sec-Fetch-Site/Origin),
	// so another site cannot sign the person out.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, http.StatusForbidden, "Sign-out must be started from this service's own page.", nil)
	}))
	mux.Handle("POST /logout", cop.Handler(http.HandlerFunc(a.logout)))
	mux.HandleFunc("POST /backchannel-logout", a.backchannelLogout)
	mux.HandleFunc("GET /static/style.css", a.pages.serveStyle)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, http.StatusNotFound, "Page not found.", nil)
	})
	a.handler = mux
	return a, nil
}

func validate(cfg Config) error {
	var errs []error
	need := func(name, v string) {
		if v == "" {
			errs = append(errs, fmt.Errorf("demo: %s is required", name))
		}
	}
	absolute := func(name, v string) {
		if v == "" {
			return
		}
		u, err := url.Parse(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("demo: %s: %w", name, err))
			return
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("demo: %s %q is not an absolute http(s) URL without query", name, v))
		}
	}
	need("Issuer", cfg.Issuer)
	need("ClientID", cfg.ClientID)
	need("BaseURL", cfg.BaseURL)
	absolute("Issuer", cfg.Issuer)
	absolute("BaseURL", cfg.BaseURL)
	absolute("OtherURL", cfg.OtherURL)
	return errors.Join(errs...)
}

// ServeHTTP serves the demo's pages.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", a.csp)
	a.handler.ServeHTTP(w, r)
}

// relyingParty returns the discovered provider, fetching the discovery
// document (with a short timeout) until it has been fetched once.
func (a *App) relyingParty(ctx context.Context) (*relyingParty, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.rp != nil {
		return a.rp, nil
	}
	dctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, a.client), discoveryTimeout)
	defer cancel()
	p, err := oidc.NewProvider(dctx, a.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("demo: discover %s: %w", a.cfg.Issuer, err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("demo: discovery document: %w", err)
	}
	if meta.EndSession != "" {
		if u, err := url.Parse(meta.EndSession); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("demo: discovery document: bad end_session_endpoint %q", meta.EndSession)
		}
	}
	vcfg := &oidc.Config{ClientID: a.cfg.ClientID, Now: a.cfg.Now}
	a.rp = &relyingParty{
		provider: p,
		oauth: oauth2.Config{
			ClientID:     a.cfg.ClientID,
			ClientSecret: a.cfg.ClientSecret,
			Endpoint:     p.Endpoint(),
			RedirectURL:  a.cfg.BaseURL + "/callback",
			Scopes:       a.cfg.Scopes,
		},
		idVerifier:     p.VerifierContext(a.baseCtx, vcfg),
		logoutVerifier: p.VerifierContext(a.baseCtx, vcfg),
		endSession:     meta.EndSession,
	}
	return a.rp, nil
}

// fail shows a short error page; err, if any, goes to the log only.
func (a *App) fail(w http.ResponseWriter, r *http.Request, status int, msg string, err error) {
	if err != nil {
		a.cfg.Logger.WarnContext(r.Context(), "demo: request failed", slog.String("app", a.cfg.Name),
			slog.String("path", r.URL.Path), slog.Int("status", status), slog.Any("err", err))
	}
	a.pages.render(w, status, "error", errorData{App: a.cfg.Name, Message: msg})
}
