// Package idp assembles hubid: the zitadel/oidc provider over our storage
// adapter, signing keys, the public handler (OIDC endpoints and pages) and
// the internal handler (metrics, health). All wiring happens in New.
package idp

import (
	"context"
	"crypto/hkdf"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/customerhub/hubid/idp/account"
	"github.com/customerhub/hubid/idp/admin"
	"github.com/customerhub/hubid/idp/adminapi"
	"github.com/customerhub/hubid/idp/announce"
	"github.com/customerhub/hubid/idp/backchannel"
	"github.com/customerhub/hubid/idp/claimcache"
	"github.com/customerhub/hubid/idp/clients"
	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/idp/consentui"
	"github.com/customerhub/hubid/idp/console"
	"github.com/customerhub/hubid/idp/hub"
	"github.com/customerhub/hubid/idp/keys"
	"github.com/customerhub/hubid/idp/legacyui"
	"github.com/customerhub/hubid/idp/login"
	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/idp/oidcstore"
	"github.com/customerhub/hubid/idp/outbox"
	"github.com/customerhub/hubid/idp/recovery"
	"github.com/customerhub/hubid/idp/session"
	"github.com/customerhub/hubid/idp/tracing"
	"github.com/customerhub/hubid/idp/usercache"
	"github.com/customerhub/hubid/idp/web"
	"github.com/customerhub/hubid/legacy"
	"github.com/customerhub/hubid/mfa"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/password"
	"github.com/customerhub/hubid/store"
)

// Deps are what the provider is built from.
type Deps struct {
	Config        config.Config
	Durable       store.Durable
	DurableName   string // for /readyz: "postgres" or "sqlite"
	Ephemeral     store.Ephemeral
	EphemeralName string // "redis" or "memory"
	Sealer        keys.Sealer
	// CryptoSecret derives the key op encrypts codes and opaque tokens
	// with; every replica must have the same (the KEK).
	CryptoSecret []byte
	// PreviousCryptoSecrets are older KEKs (kek.previous): what they
	// protected still opens during a KEK rotation.
	PreviousCryptoSecrets [][]byte
	Hasher                *password.Hasher
	// Mail delivers queued mail; nil leaves mail in the outbox (logged at
	// start-up) until a sender is configured.
	Mail mail.Sender
	// DevMailDir, when set (hubid dev only), serves /dev/mail from it.
	DevMailDir string
	// AdminToken enables the admin API on the internal listener ("" = off).
	AdminToken string
	Now        func() time.Time
	Rand       io.Reader
	Logger     *slog.Logger
	Registry   *prometheus.Registry
	// Tracing, when on, puts an OpenTelemetry span around every request
	// (idp/tracing); nil: off.
	Tracing *tracing.Tracing
	// RSASigner, when set, signs with the active RS256 keys in its stead
	// of crypto/rsa (keys.Config.RSASigner; hubid built with -tags
	// openssl passes opensslsign.New).
	RSASigner func(*rsa.PrivateKey) (jose.OpaqueSigner, error)
}

// Server is an assembled provider.
type Server struct {
	deps     Deps
	Keys     *keys.Manager
	Provider *op.Provider
	storage  *oidcstore.Storage
	tokens   *oidcstore.TokenInfo // userinfo and introspection (tokeninfo.go)
	Sessions *session.Manager
	// Orgs is the organizations service the console and the admin API
	// adapt.
	Orgs     *orgs.Service
	login    *login.Handler
	renderer *web.Renderer
	guard    *hub.Guard
	origins  *originSet
	logouts  *backchannel.Worker
	admin    *admin.Handler
	adminAPI *adminapi.API
	mailer   *outbox.Worker
	composer *mail.Composer
	recovery *recovery.Handler
	account  *account.Handler
	consent  *consentui.Handler
	twoStep  *mfa.Service
	legacy   *legacy.Service
	legacyUI *legacyui.Handler
	console  *console.Handler
	proxies  []netip.Prefix // trusted proxies, for the client address
	public   http.Handler
	internal http.Handler
	draining atomic.Bool // set by Drain: /readyz answers 503
}

// New wires everything and makes sure signing keys exist.
func New(ctx context.Context, d Deps) (*Server, error) {
	c := d.Config
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	// Token endpoints read users and the organization claims through
	// caches that writes invalidate on every replica (idp/usercache,
	// idp/claimcache); every component below gets the announcing store
	// (idp/announce).
	var users *usercache.Cache
	var claims oidcstore.ClaimReader
	bus, _ := d.Ephemeral.(usercache.Bus)
	if bus != nil {
		d.Durable = announce.Notifying(d.Durable, bus, d.Logger)
		users = usercache.New(bus, d.Durable.GetUser, usercache.TTL, d.Now)
		claims = claimcache.New(bus, d.Durable, claimcache.TTL, d.Now).Over(d.Durable)
	}
	km := keys.New(keys.Config{
		Algorithms:       c.Keys.Algorithms,
		SigningAlgorithm: c.Tokens.IDTokenSigningAlgorithm,
		RSABits:          c.Keys.RSABits,
		Policy: keys.Policy{
			RotationPeriod: c.Keys.RotationPeriod.D(),
			PublishBefore:  c.Keys.PublishBefore.D(),
			RetireFor:      max(c.Tokens.AccessTTL.D(), c.Tokens.IDTokenTTL.D()) + c.Keys.ClockSkew.D(),
		},
		Now: d.Now, Rand: d.Rand, Logger: d.Logger,
		OnChange:  keys.AuditTo(d.Durable, d.Logger),
		Announce:  keys.AnnounceOn(bus),
		RSASigner: d.RSASigner,
	}, d.Durable, d.Sealer)
	keys.FollowAnnouncements(km, bus)
	if err := km.RegisterMetrics(d.Registry); err != nil {
		return nil, fmt.Errorf("signing key metrics: %w", err)
	}
	if m, ok := d.Ephemeral.(interface{ RevocationMirrorUsable() bool }); ok {
		err := d.Registry.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hubid_revocation_mirror_usable",
			Help: "1 while revocation checks are answered from this replica's in-memory copy of Redis's revocation list; 0 while each check asks Redis.",
		}, func() float64 {
			if m.RevocationMirrorUsable() {
				return 1
			}
			return 0
		}))
		if err != nil {
			return nil, fmt.Errorf("revocation mirror metric: %w", err)
		}
	}
	if err := km.Ensure(ctx); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	if err := ensureClientAlgorithms(ctx, km, d.Durable); err != nil {
		return nil, err
	}
	secure := strings.HasPrefix(c.Issuer, "https://")
	sessions := session.New(session.Config{
		RememberIdle: c.Sessions.RememberIdle.D(), RememberAbsolute: c.Sessions.RememberAbsolute.D(),
		BrowserIdle: c.Sessions.BrowserIdle.D(), TouchInterval: c.Sessions.TouchInterval.D(),
		Secure: secure, Now: d.Now, Rand: d.Rand,
	}, d.Ephemeral)
	s := &Server{deps: d, Keys: km, Sessions: sessions, origins: &originSet{}}
	verify := clients.Verifier(func(secret, hash string) bool {
		ok, _, err := d.Hasher.Verify(secret, hash)
		return ok && err == nil
	})
	stor := oidcstore.New(oidcstore.Config{
		LoginURL:                func(id string) string { return "/login?authRequestID=" + url.QueryEscape(id) },
		AuthRequestTTL:          c.Sessions.AuthRequestTTL.D(),
		CodeTTL:                 c.Tokens.CodeTTL.D(),
		AccessTTL:               c.Tokens.AccessTTL.D(),
		IDTokenTTL:              c.Tokens.IDTokenTTL.D(),
		RefreshIdle:             c.Tokens.RefreshIdle.D(),
		RefreshAbsolute:         c.Tokens.RefreshAbsolute.D(),
		RefreshReuseGrace:       c.Tokens.RefreshReuseGrace.D(),
		ClockSkew:               c.Keys.ClockSkew.D(),
		RequirePKCEConfidential: c.Tokens.RequirePKCEConfidential == nil || *c.Tokens.RequirePKCEConfidential,
		VerifySecret:            verify,
		RestrictedScopes:        map[string][]string{adminapi.Scope: c.Admin.Clients},
		ClientCacheTTL:          5 * time.Second,
		Users:                   usersFrom(users),
		Claims:                  claims,
		EndSession:              s.endSession,
		SignOut:                 s.serviceSignOut,
		Audit: func(ctx context.Context, e store.AuditEvent) {
			if _, err := d.Durable.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
				d.Logger.WarnContext(ctx, "audit", slog.String("kind", e.Kind), slog.Any("err", err))
			}
		},
		LogoutConfirmURL: login.ConfirmURL,
		Now:              d.Now,
		Rand:             d.Rand,
		Logger:           d.Logger,
	}, d.Durable, d.Ephemeral, km)

	crypto, cryptoKey, err := NewCrypto(d.CryptoSecret, d.PreviousCryptoSecrets...)
	if err != nil {
		return nil, err
	}
	opts := []op.Option{
		op.WithCrypto(crypto),
		op.WithCORSOptions(&cors.Options{AllowOriginFunc: func(string) bool { return false }}),
		op.WithHttpInterceptors(oidcstore.Memoize, oidcstore.CaptureOrgHint),
	}
	if strings.HasPrefix(c.Issuer, "http://") {
		opts = append(opts, op.WithAllowInsecure())
	}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:                         cryptoKey,
		CodeMethodS256:                    true,
		AuthMethodPost:                    true,
		GrantTypeRefreshToken:             true,
		SupportedUILocales:                []language.Tag{language.English, language.Japanese},
		SupportedScopes:                   []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess, oidcstore.ScopeRoles},
		SupportedClaims:                   []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "acr", "amr", "azp", "sid", "name", "locale", "email", "email_verified", "updated_at", "orgs", "roles", "org"},
		BackChannelLogoutSupported:        true,
		BackChannelLogoutSessionSupported: true,
	}, stor, op.StaticIssuer(c.Issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("oidc provider: %w", err)
	}
	s.Provider, s.storage = provider, stor
	if s.tokens, err = s.newTokenInfo(); err != nil {
		return nil, fmt.Errorf("token cache: %w", err)
	}
	s.logouts, err = backchannel.NewWorker(d.Durable, backchannel.Keys(km.Signing), backchannel.Config{
		Issuer: c.Issuer, Now: d.Now, Rand: d.Rand, Logger: d.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("back-channel logout: %w", err)
	}
	if d.Mail != nil {
		if s.mailer, err = mail.NewWorker(d.Durable, d.Mail, outbox.Config{Now: d.Now, Rand: d.Rand, Logger: d.Logger}); err != nil {
			return nil, fmt.Errorf("mail: %w", err)
		}
	} else {
		d.Logger.Warn("no SMTP server configured (smtp.host): mail stays queued in the outbox until one is")
	}
	if s.admin, err = admin.New(admin.Config{Token: d.AdminToken, Keys: km, Logger: d.Logger}); err != nil {
		return nil, fmt.Errorf("admin API: %w", err)
	}
	if err := s.buildLogin(); err != nil {
		return nil, err
	}
	s.adminAPI, err = adminapi.New(adminapi.Config{
		Token: d.AdminToken, Issuer: c.Issuer, Clients: c.Admin.Clients, Store: d.Durable, Orgs: s.Orgs, Legacy: s.legacy,
		Tokens: &adminapi.JWTVerifier{Issuer: c.Issuer, Keys: km, Active: stor.AccessTokenActive, Skew: c.Keys.ClockSkew.D(), Now: d.Now},
		Now:    d.Now, Rand: d.Rand, Logger: d.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("admin API v1: %w", err)
	}
	if err := s.origins.refresh(ctx, d.Durable); err != nil {
		return nil, fmt.Errorf("load client origins: %w", err)
	}
	s.public = s.buildPublic()
	s.internal = s.buildInternal()
	return s, nil
}

// usersFrom is the oidcstore reader for a cache (nil: none).
func usersFrom(c *usercache.Cache) func(context.Context, string) (store.User, error) {
	if c == nil {
		return nil
	}
	return c.Get
}

// Drain marks the server as stopping: from now on /readyz answers 503
// "draining" while every other route keeps serving, so that the load
// balancer stops sending new requests before the listeners close
// (listen.shutdown_delay).
func (s *Server) Drain() { s.draining.Store(true) }

// Shutdown waits for background request work (password-reset mail jobs)
// to finish; call it after the HTTP servers have shut down.
func (s *Server) Shutdown() { s.recovery.Wait() }

// deriveCryptoKey derives op's AES-256 key from a KEK with HKDF-SHA256.
func deriveCryptoKey(secret []byte) ([32]byte, string, error) {
	var key [32]byte
	k, err := hkdf.Key(sha256.New, secret, nil, "hubid op crypto v1", 32)
	if err != nil {
		return key, "", fmt.Errorf("derive crypto key: %w", err)
	}
	copy(key[:], k)
	id := sha256.Sum256(key[:])
	return key, hex.EncodeToString(id[:6]), nil
}

// NewCrypto is what op encrypts authorization codes and opaque access
// tokens with: AES-256-GCM under a key derived from the current KEK, and
// decryption under the keys of the current and previous KEKs, so a KEK
// rotation does not void codes and tokens already issued. It also returns
// the current key, which op's Config wants.
func NewCrypto(current []byte, previous ...[]byte) (op.Crypto, [32]byte, error) {
	key, id, err := deriveCryptoKey(current)
	if err != nil {
		return nil, key, err
	}
	enc := op.NewAES256GCMCrypto(key, id)
	decs := []op.Decrypter{enc}
	for _, p := range previous {
		k, pid, err := deriveCryptoKey(p)
		if err != nil {
			return nil, key, err
		}
		decs = append(decs, op.NewAES256GCMCrypto(k, pid))
	}
	return jweOnly{op.NewCompositeCrypto(enc, decs)}, key, nil
}

var errNotJWE = errors.New("not an encrypted value")

// jweOnly refuses at once what is not a JWE compact serialization (five
// parts) before trying the keys: op tries to decrypt every access token,
// JWTs included, before verifying it as a JWT, and parsing a JWT as a
// JWE costs ~4 % of a userinfo request.
type jweOnly struct{ op.Crypto }

func (c jweOnly) Decrypt(s string) (string, error) {
	if strings.Count(s, ".") != 4 {
		return "", errNotJWE
	}
	return c.Crypto.Decrypt(s)
}
