// Package adminapi serves the operators' admin API, /admin/v1: JSON over
// HTTP on the internal listener, beside the signing-key API of idp/admin.
//
// It is an adapter: it authenticates the operator (the admin token, or a
// client_credentials access token carrying the hubid:admin scope), parses
// strict JSON, checks the resource version (ETag / If-Match), calls the
// domain service (orgs for organizations, people, memberships,
// invitations and applications; idp/clients for registrations; legacy for
// the login-ID import and report) and renders JSON or an RFC 9457
// problem. The services apply their rules and audit every write with the
// actor (operator:admin-token or operator:client:ID, as the command's
// operator:cli); the API does not repeat them.
//
// A write that needs If-Match runs in one transaction: the resource's row
// is locked and compared with the ETag, then the service, bound to the
// same transaction (orgs.Service.In), makes the change. Of two operators
// holding one version exactly one wins; the other gets 412.
//
// The routes are registered in routes() and described in the OpenAPI 3.1
// document served at /admin/v1/openapi.json (openapi.go); a test keeps the
// two equal.
package adminapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/customerhub/hubid/legacy"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// Prefix is where the API is mounted.
const Prefix = "/admin/v1"

// Scope is the OAuth scope a client_credentials token needs to call the
// API. Only the clients listed in admin.clients can obtain it.
const Scope = "hubid:admin"

// MinTokenLength is the shortest operator token accepted (characters).
const MinTokenLength = 32

// DefaultMaxBody is the largest JSON request body accepted (bytes).
const DefaultMaxBody = 64 << 10

// DefaultMaxImport is the largest legacy import file accepted (bytes):
// about 200,000 lines.
const DefaultMaxImport = 32 << 20

// Store is what the API reads directly (records the services have no
// reader for) and the transactions its guarded writes run in.
type Store interface {
	GetUser(ctx context.Context, id string) (store.User, error)
	GetOrganization(ctx context.Context, id string) (store.Organization, error)
	ListMembershipsByUser(ctx context.Context, userID string) ([]store.Membership, error)
	GetService(ctx context.Context, id string) (store.Service, error)
	ListEntitlementsByOrg(ctx context.Context, orgID string) ([]store.Entitlement, error)
	GetInvitation(ctx context.Context, id string) (store.Invitation, error)
	GetClient(ctx context.Context, id string) (store.Client, error)
	ListClients(ctx context.Context) ([]store.Client, error)
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error)
	InTx(ctx context.Context, fn func(tx store.Durable) error) error
}

// Config configures the API.
type Config struct {
	// Token is the operator bearer token ("" = none; then only admin
	// clients can call). Only its SHA-256 is kept.
	Token string
	// Issuer is the issuer access tokens must carry.
	Issuer string
	// Clients are the client IDs allowed the hubid:admin scope; a token
	// of any other client is refused even if it carries the scope.
	Clients []string
	// Tokens verifies client_credentials access tokens; nil accepts the
	// operator token only.
	Tokens TokenVerifier
	Store  Store
	// Orgs is the organizations service: every write of organizations,
	// services, entitlements, people, memberships, invitations and
	// applications goes through it.
	Orgs *orgs.Service
	// Legacy is the migration service (import and report); nil answers
	// 503 on those routes.
	Legacy *legacy.Service
	// MaxBody limits JSON request bodies (default DefaultMaxBody).
	MaxBody int64
	// MaxImport limits legacy import files (default DefaultMaxImport).
	MaxImport int64
	Now       func() time.Time
	Rand      io.Reader
	Logger    *slog.Logger
}

// API is the /admin/v1 handler.
type API struct {
	cfg      Config
	token    [sha256.Size]byte
	hasToken bool
	mux      *http.ServeMux
	patterns []string // every registered "METHOD /path", in order
	doc      []byte   // the OpenAPI document
	log      *slog.Logger
}

// New returns the API. It is enabled when an operator token or at least
// one admin client is configured; otherwise every request gets 404.
func New(c Config) (*API, error) {
	if c.Token != "" && len(c.Token) < MinTokenLength {
		return nil, fmt.Errorf("adminapi: the token has %d characters, want at least %d", len(c.Token), MinTokenLength)
	}
	if c.Store == nil || c.Orgs == nil {
		return nil, errors.New("adminapi: Store and Orgs are required")
	}
	if len(c.Clients) > 0 && c.Tokens == nil {
		return nil, errors.New("adminapi: Tokens is required with admin clients")
	}
	if c.MaxBody <= 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.MaxImport <= 0 {
		c.MaxImport = DefaultMaxImport
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	a := &API{cfg: c, token: sha256.Sum256([]byte(c.Token)), hasToken: c.Token != "", mux: http.NewServeMux(), log: c.Logger}
	doc, err := openAPIDocument(c.Issuer)
	if err != nil {
		return nil, fmt.Errorf("adminapi: OpenAPI document: %w", err)
	}
	a.doc = doc
	a.routes()
	a.mux.HandleFunc(Prefix+"/", a.unmatched)
	return a, nil
}

// Enabled reports whether any credential can call the API.
func (a *API) Enabled() bool { return a.hasToken || len(a.cfg.Clients) > 0 }

// Mount registers the API under /admin/v1/ on mux.
func (a *API) Mount(mux *http.ServeMux) { mux.Handle(Prefix+"/", a) }

// Patterns returns every registered route as "METHOD /path".
func (a *API) Patterns() []string { return slices.Clone(a.patterns) }

// handler is an API handler: an error is rendered as a problem.
type handler func(w http.ResponseWriter, r *http.Request) error

// handle registers a route and records its pattern. A query parameter
// the route's operation (openapi.go) does not list is refused, so a
// mistyped filter never silently lists everything; so is a body sent to
// a route that takes none.
func (a *API) handle(pattern string, h handler) {
	a.patterns = append(a.patterns, pattern)
	known := map[string]bool{}
	op, _ := operationOf(pattern)
	for _, q := range op.query {
		known[q] = true
	}
	bodiless := op.body == nil && !op.upload
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		err := checkQuery(r, known)
		if err == nil && bodiless {
			err = noBody(r)
		}
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			a.problem(w, r, err)
		}
	})
}

// ServeHTTP authenticates and authorizes the request, then routes it.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if !a.Enabled() {
		a.problem(w, r, errNotFound("the admin API is off (set admin.token or admin.clients)"))
		return
	}
	actor, err := a.authenticate(r)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	a.mux.ServeHTTP(w, r.WithContext(withActor(r.Context(), orgs.Operator(actor))))
}

// unmatched answers a path no route serves: 405 with Allow when another
// method would match, else 404.
func (a *API) unmatched(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := a.mux.Handler(probe); p != "" && p != Prefix+"/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		a.problem(w, r, errMethod(r.Method))
		return
	}
	a.problem(w, r, errNotFound("no such admin API route"))
}

// routes registers every route of the API. The OpenAPI document
// (openapi.go) must describe exactly these.
func (a *API) routes() {
	a.handle("GET "+Prefix+"/openapi.json", a.openAPI)

	orgResource.mount(a)
	a.handle("GET "+Prefix+"/organizations/{id}/history", a.orgHistory)

	a.handle("GET "+Prefix+"/organizations/{id}/memberships", a.listMembers)
	a.handle("POST "+Prefix+"/organizations/{id}/memberships", a.addMember)
	a.handle("GET "+Prefix+"/organizations/{id}/memberships/{user_id}", a.getMember)
	a.handle("PATCH "+Prefix+"/organizations/{id}/memberships/{user_id}", a.changeRole)
	a.handle("DELETE "+Prefix+"/organizations/{id}/memberships/{user_id}", a.removeMember)

	a.handle("GET "+Prefix+"/organizations/{id}/invitations", a.listInvitations)
	a.handle("POST "+Prefix+"/organizations/{id}/invitations", a.invite)
	a.handle("GET "+Prefix+"/organizations/{id}/invitations/{invitation_id}", a.getInvitation)
	a.handle("POST "+Prefix+"/organizations/{id}/invitations/{invitation_id}/resend", a.resendInvitation)
	a.handle("POST "+Prefix+"/organizations/{id}/invitations/{invitation_id}/cancel", a.cancelInvitation)

	a.handle("GET "+Prefix+"/organizations/{id}/entitlements", a.listEntitlements)
	a.handle("PUT "+Prefix+"/organizations/{id}/entitlements/{service_id}", a.putEntitlement)
	a.handle("GET "+Prefix+"/organizations/{id}/entitlements/{service_id}", a.getEntitlement)
	a.handle("DELETE "+Prefix+"/organizations/{id}/entitlements/{service_id}", a.deleteEntitlement)

	a.handle("GET "+Prefix+"/users", a.listUsers)
	a.handle("POST "+Prefix+"/users", a.createUser)
	a.handle("GET "+Prefix+"/users/{id}", a.getUser)
	a.handle("PATCH "+Prefix+"/users/{id}", a.patchUser)
	a.handle("DELETE "+Prefix+"/users/{id}", a.deleteUser)
	a.handle("GET "+Prefix+"/users/{id}/memberships", a.listUserMemberships)

	serviceResource.mount(a)

	a.handle("GET "+Prefix+"/clients", a.listClients)
	a.handle("POST "+Prefix+"/clients", a.createClient)
	a.handle("GET "+Prefix+"/clients/{id}", a.getClient)
	a.handle("PATCH "+Prefix+"/clients/{id}", a.patchClient)
	a.handle("DELETE "+Prefix+"/clients/{id}", a.deleteClient)
	a.handle("POST "+Prefix+"/clients/{id}/secret", a.rotateClientSecret)

	a.handle("GET "+Prefix+"/applications", a.listApplications)
	a.handle("GET "+Prefix+"/applications/{id}", a.getApplication)
	a.handle("POST "+Prefix+"/applications/{id}/approve", a.approveApplication)
	a.handle("POST "+Prefix+"/applications/{id}/reject", a.rejectApplication)

	a.handle("POST "+Prefix+"/legacy/import", a.legacyImport)
	a.handle("GET "+Prefix+"/legacy/report", a.legacyReport)

	a.handle("GET "+Prefix+"/audit", a.searchAudit)
}
