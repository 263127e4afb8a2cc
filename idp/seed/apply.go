package seed

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/customerhub/hubid/idp/pwpolicy"

	"github.com/customerhub/hubid/idp/clients"
	"github.com/customerhub/hubid/password"
	"github.com/customerhub/hubid/store"
)

// Options configure Apply.
type Options struct {
	// Hasher hashes the passwords of new users and legacy login IDs; nil
	// means a Hasher with password.DefaultParams.
	Hasher *password.Hasher
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the source of new record IDs; nil means crypto/rand.Reader.
	Rand io.Reader
	// Getenv reads password_env and secret_env variables; nil means
	// os.Getenv.
	Getenv func(string) string
}

// Summary counts the records a seed file names (organizations, services,
// entitlements, users, memberships, clients, legacy login IDs): those Apply
// created and those that existed already and were left unchanged.
type Summary struct {
	Created   int
	Unchanged int
}

// String returns e.g. "3 created, 9 unchanged".
func (s Summary) String() string {
	return fmt.Sprintf("%d created, %d unchanged", s.Created, s.Unchanged)
}

// Apply creates, in one transaction, every record of f that the store does
// not hold yet: an organization or service by code, a user by folded email,
// a client by ID, a legacy login ID by service and login ID, and each
// entitlement and membership by its pair. Records that exist are left
// unchanged, whatever the file says of them: a membership that exists with
// another role keeps its role. Applying a file twice therefore changes
// nothing the second time.
//
// Before writing, Apply checks f again, resolves every reference to a code
// not defined in f against the store, and reads the environment variables
// of the records it will create; any problem is reported, all at once, in
// an *Error, and any failure leaves the store as it was. Passwords are
// hashed only for records that will be created, and before the transaction
// begins, so that it stays short.
func Apply(ctx context.Context, d store.Durable, f *File, opt Options) (Summary, error) {
	if f == nil {
		return Summary{}, errors.New("seed: nil File")
	}
	if opt.Hasher == nil {
		opt.Hasher = &password.Hasher{Params: password.DefaultParams()}
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Rand == nil {
		opt.Rand = rand.Reader
	}
	if opt.Getenv == nil {
		opt.Getenv = os.Getenv
	}
	ps := newProblems(f)
	f.validate(ps)
	if err := ps.err(); err != nil {
		return Summary{}, err
	}
	a := &applier{f: f, opt: opt, hashes: map[string]hashed{}}
	// A first plan, outside the transaction, finds the passwords to hash.
	// The transaction plans again: whatever changed meanwhile is honoured,
	// and a password still unhashed is hashed there.
	p, err := a.plan(ctx, d)
	if err != nil {
		return Summary{}, err
	}
	if err := a.hashAll(ctx, p); err != nil {
		return Summary{}, err
	}
	var sum Summary
	err = d.InTx(ctx, func(tx store.Durable) error {
		p, err := a.plan(ctx, tx)
		if err != nil {
			return err
		}
		sum, err = a.exec(ctx, tx, p)
		return err
	})
	if err != nil {
		return Summary{}, err
	}
	return sum, nil
}

// applier holds what one Apply call shares between its plans.
type applier struct {
	f      *File
	opt    Options
	mu     sync.Mutex
	hashes map[string]hashed // record path -> password hashed for it
}

type hashed struct{ plain, hash string }

// secret is a resolved secret: plain text to hash, or a hash.
type secret struct{ plain, hash string }

// plan is what Apply will write. Indexes refer to the File's lists.
type plan struct {
	orgID     map[string]string // code -> ID; "" = created by this plan
	serviceID map[string]string
	userID    map[int]string // existing users only

	newOrgs, newServices, newEntitlements []int
	newUsers, newClients, newLegacy       []int
	newMemberships                        [][2]int // user, membership
	secrets                               map[string]secret

	unchanged int
}

// plan reads the store and decides what to create. Problems with the file
// (unknown references, missing environment variables) come back as an
// *Error; store failures as wrapped errors.
func (a *applier) plan(ctx context.Context, d store.Durable) (*plan, error) {
	f := a.f
	ps := newProblems(f)
	p := &plan{orgID: map[string]string{}, serviceID: map[string]string{}, userID: map[int]string{},
		secrets: map[string]secret{}}
	missing := map[string]bool{} // "organization:CODE", "service:CODE": known absent

	for i, o := range f.Organizations {
		org, err := d.GetOrganizationByCode(ctx, o.Code)
		switch {
		case err == nil:
			p.orgID[o.Code] = org.ID
			p.unchanged++
		case errors.Is(err, store.ErrNotFound):
			p.orgID[o.Code] = ""
			p.newOrgs = append(p.newOrgs, i)
		default:
			return nil, a.wrap(index("organizations", i), "look up organization", err)
		}
	}
	for i, s := range f.Services {
		svc, err := d.GetServiceByCode(ctx, s.Code)
		switch {
		case err == nil:
			p.serviceID[s.Code] = svc.ID
			p.unchanged++
		case errors.Is(err, store.ErrNotFound):
			p.serviceID[s.Code] = ""
			p.newServices = append(p.newServices, i)
		default:
			return nil, a.wrap(index("services", i), "look up service", err)
		}
	}
	// ref resolves a code not defined in the file against the store; ok is
	// false when it is unknown (reported) or the lookup failed (err).
	ref := func(path, kind, code string) (id string, ok bool, err error) {
		ids, get := p.orgID, func() (string, error) {
			o, err := d.GetOrganizationByCode(ctx, code)
			return o.ID, err
		}
		if kind == "service" {
			ids, get = p.serviceID, func() (string, error) {
				s, err := d.GetServiceByCode(ctx, code)
				return s.ID, err
			}
		}
		if id, ok := ids[code]; ok {
			return id, true, nil
		}
		if !missing[kind+":"+code] {
			id, err := get()
			switch {
			case err == nil:
				ids[code] = id
				return id, true, nil
			case !errors.Is(err, store.ErrNotFound):
				return "", false, a.wrap(path, "look up "+kind, err)
			}
			missing[kind+":"+code] = true
		}
		ps.add(path, "unknown %s %q: not in the file nor in the store", kind, code)
		return "", false, nil
	}

	if err := a.planEntitlements(ctx, d, p, ref); err != nil {
		return nil, err
	}
	if err := a.planUsers(ctx, d, p, ps, ref); err != nil {
		return nil, err
	}
	if err := a.planClients(ctx, d, p, ps, ref); err != nil {
		return nil, err
	}
	if err := a.planLegacy(ctx, d, p, ps, ref); err != nil {
		return nil, err
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return p, nil
}

type refFunc func(path, kind, code string) (string, bool, error)

func (a *applier) planEntitlements(ctx context.Context, d store.Durable, p *plan, ref refFunc) error {
	have := map[string]map[string]bool{} // org ID -> service IDs, read once per org
	for i, e := range a.f.Entitlements {
		path := index("entitlements", i)
		orgID, okO, err := ref(join(path, "org"), "organization", e.Org)
		if err != nil {
			return err
		}
		svcID, okS, err := ref(join(path, "service"), "service", e.Service)
		if err != nil {
			return err
		}
		if !okO || !okS {
			continue
		}
		if orgID != "" && svcID != "" {
			if have[orgID] == nil {
				list, err := d.ListEntitlementsByOrg(ctx, orgID)
				if err != nil {
					return a.wrap(path, "list entitlements", err)
				}
				have[orgID] = map[string]bool{}
				for _, x := range list {
					have[orgID][x.ServiceID] = true
				}
			}
			if have[orgID][svcID] {
				p.unchanged++
				continue
			}
		}
		p.newEntitlements = append(p.newEntitlements, i)
	}
	return nil
}

func (a *applier) planUsers(ctx context.Context, d store.Durable, p *plan, ps *problems, ref refFunc) error {
	for i, u := range a.f.Users {
		path := index("users", i)
		existing, err := d.GetUserByEmail(ctx, u.Email)
		switch {
		case err == nil:
			p.userID[i] = existing.ID
			p.unchanged++
		case errors.Is(err, store.ErrNotFound):
			p.newUsers = append(p.newUsers, i)
			a.resolve(ps, p, path, userSecret, u.Password, u.PasswordHash, u.PasswordEnv, MinPasswordLength)
		default:
			return a.wrap(path, "look up user", err)
		}
		var member map[string]bool // org IDs of an existing user
		if err == nil {
			list, err := d.ListMembershipsByUser(ctx, existing.ID)
			if err != nil {
				return a.wrap(path, "list memberships", err)
			}
			member = map[string]bool{}
			for _, m := range list {
				member[m.OrgID] = true
			}
		}
		for j, m := range u.Memberships {
			orgID, ok, err := ref(join(index(join(path, "memberships"), j), "org"), "organization", m.Org)
			if err != nil {
				return err
			}
			switch {
			case !ok:
			case member[orgID] && orgID != "":
				p.unchanged++ // whatever its role: see Apply
			default:
				p.newMemberships = append(p.newMemberships, [2]int{i, j})
			}
		}
	}
	return nil
}

func (a *applier) planClients(ctx context.Context, d store.Durable, p *plan, ps *problems, ref refFunc) error {
	for i, c := range a.f.Clients {
		path := index("clients", i)
		if c.Service != "" {
			if _, _, err := ref(join(path, "service"), "service", c.Service); err != nil {
				return err
			}
		}
		_, err := d.GetClient(ctx, c.ID)
		switch {
		case err == nil:
			p.unchanged++
		case errors.Is(err, store.ErrNotFound):
			p.newClients = append(p.newClients, i)
			if !c.Public {
				a.resolve(ps, p, path, clientSecret, c.Secret, c.SecretHash, c.SecretEnv, clients.MinSecretLength)
			}
		default:
			return a.wrap(path, "look up client", err)
		}
	}
	return nil
}

func (a *applier) planLegacy(ctx context.Context, d store.Durable, p *plan, ps *problems, ref refFunc) error {
	for i, l := range a.f.LegacyLoginIDs {
		path := index("legacy_login_ids", i)
		svcID, okS, err := ref(join(path, "service"), "service", l.Service)
		if err != nil {
			return err
		}
		if _, _, err := ref(join(path, "org"), "organization", l.Org); err != nil {
			return err
		}
		if !okS {
			continue
		}
		if svcID != "" {
			_, err := d.GetLegacyLoginID(ctx, svcID, l.LoginID)
			switch {
			case err == nil:
				p.unchanged++
				continue
			case !errors.Is(err, store.ErrNotFound):
				return a.wrap(path, "look up legacy login ID", err)
			}
		}
		p.newLegacy = append(p.newLegacy, i)
		a.resolve(ps, p, path, userSecret, l.Password, l.PasswordHash, l.PasswordEnv, MinPasswordLength)
	}
	return nil
}

var userSecret = secretFields{"password", "password_hash", "password_env"}

// resolve records the secret of a record to create, reading its
// environment variable if it has one.
func (a *applier) resolve(ps *problems, p *plan, path string, n secretFields, plain, hash, env string, minLen int) {
	switch {
	case plain != "":
		p.secrets[path] = secret{plain: plain}
	case hash != "":
		p.secrets[path] = secret{hash: hash}
	case env != "":
		v := a.opt.Getenv(env)
		switch {
		case v == "":
			ps.add(join(path, n.env), "environment variable %s is not set", env)
		case utf8.RuneCountInString(v) < minLen:
			ps.add(join(path, n.env), "the value of %s is shorter than %d characters", env, minLen)
		default:
			p.secrets[path] = secret{plain: v}
		}
	}
}

// hashAll hashes, in parallel, the plain passwords of the users and legacy
// login IDs p creates.
func (a *applier) hashAll(ctx context.Context, p *plan) error {
	var paths []string
	for _, i := range p.newUsers {
		paths = append(paths, index("users", i))
	}
	for _, i := range p.newLegacy {
		paths = append(paths, index("legacy_login_ids", i))
	}
	jobs := make(chan string)
	errs := make(chan error, len(paths))
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(paths)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for path := range jobs {
				if _, err := a.passwordHash(path, p.secrets[path]); err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, path := range paths {
		if ctx.Err() != nil {
			break
		}
		jobs <- path
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if err := ctx.Err(); err != nil {
		return err
	}
	return <-errs // nil when closed and empty
}

// passwordHash returns the hash to store for the record at path: the one
// given, one computed before for the same password, or a new one.
func (a *applier) passwordHash(path string, s secret) (string, error) {
	if s.hash != "" {
		return s.hash, nil
	}
	a.mu.Lock()
	h, ok := a.hashes[path]
	a.mu.Unlock()
	if ok && h.plain == s.plain {
		return h.hash, nil
	}
	hash, err := a.opt.Hasher.Hash(pwpolicy.Normalize(s.plain))
	if err != nil {
		return "", a.wrap(path, "hash password", err)
	}
	a.mu.Lock()
	a.hashes[path] = hashed{plain: s.plain, hash: hash}
	a.mu.Unlock()
	return hash, nil
}

// exec writes what p plans, in the transaction tx.
func (a *applier) exec(ctx context.Context, tx store.Durable, p *plan) (Summary, error) {
	f := a.f
	now := a.opt.Now()
	created := 0
	for _, i := range p.newOrgs {
		o := f.Organizations[i]
		id, err := a.newID()
		if err == nil {
			err = tx.CreateOrganization(ctx, store.Organization{ID: id, Code: o.Code, Name: o.Name, CreatedAt: now})
		}
		if err != nil {
			return Summary{}, a.wrap(index("organizations", i), "create organization", err)
		}
		p.orgID[o.Code] = id
		created++
	}
	for _, i := range p.newServices {
		s := f.Services[i]
		id, err := a.newID()
		if err == nil {
			err = tx.CreateService(ctx, store.Service{ID: id, Code: s.Code, Name: s.Name, CreatedAt: now})
		}
		if err != nil {
			return Summary{}, a.wrap(index("services", i), "create service", err)
		}
		p.serviceID[s.Code] = id
		created++
	}
	for _, i := range p.newEntitlements {
		e := f.Entitlements[i]
		err := tx.PutEntitlement(ctx, store.Entitlement{OrgID: p.orgID[e.Org], ServiceID: p.serviceID[e.Service], CreatedAt: now})
		if err != nil {
			return Summary{}, a.wrap(index("entitlements", i), "put entitlement", err)
		}
		created++
	}
	for _, i := range p.newUsers {
		u, path := f.Users[i], index("users", i)
		hash, err := a.passwordHash(path, p.secrets[path])
		if err != nil {
			return Summary{}, err
		}
		id, err := a.newID()
		if err == nil {
			err = tx.CreateUser(ctx, store.User{ID: id, Email: u.Email, EmailVerified: u.EmailVerified,
				Name: u.Name, Locale: u.Locale, PasswordHash: hash, Disabled: u.Disabled,
				PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now})
		}
		if err != nil {
			return Summary{}, a.wrap(path, "create user", err)
		}
		p.userID[i] = id
		created++
	}
	for _, m := range p.newMemberships {
		ms := f.Users[m[0]].Memberships[m[1]]
		err := tx.PutMembership(ctx, store.Membership{UserID: p.userID[m[0]], OrgID: p.orgID[ms.Org], Role: ms.Role, CreatedAt: now})
		if err != nil {
			return Summary{}, a.wrap(index(join(index("users", m[0]), "memberships"), m[1]), "put membership", err)
		}
		created++
	}
	for _, i := range p.newClients {
		c, path := f.Clients[i], index("clients", i)
		rec := c.record()
		if s := p.secrets[path]; s.hash != "" {
			rec.SecretHash = s.hash
		} else if s.plain != "" {
			rec.SecretHash = clients.HashSecret(s.plain)
		}
		if c.Service != "" {
			rec.ServiceID = p.serviceID[c.Service]
		}
		rec.CreatedAt, rec.UpdatedAt = now, now
		if err := tx.CreateClient(ctx, rec); err != nil {
			return Summary{}, a.wrap(path, "create client", err)
		}
		created++
	}
	for _, i := range p.newLegacy {
		l, path := f.LegacyLoginIDs[i], index("legacy_login_ids", i)
		hash, err := a.passwordHash(path, p.secrets[path])
		if err != nil {
			return Summary{}, err
		}
		err = tx.CreateLegacyLoginID(ctx, store.LegacyLoginID{LoginID: l.LoginID, ServiceID: p.serviceID[l.Service],
			OrgID: p.orgID[l.Org], PasswordHash: hash, Disabled: l.Disabled, CreatedAt: now})
		if err != nil {
			return Summary{}, a.wrap(path, "create legacy login ID", err)
		}
		created++
	}
	return Summary{Created: created, Unchanged: p.unchanged}, nil
}

// idEncoding is lower-case unpadded base32: 16 random bytes give 26
// characters that are safe in URLs, file names and case-insensitive places.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns a random opaque record ID read from Options.Rand.
func (a *applier) newID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(a.opt.Rand, b[:]); err != nil {
		return "", fmt.Errorf("new ID: %w", err)
	}
	return idEncoding.EncodeToString(b[:]), nil
}

// wrap names the record an error is about: "file:line: path: what: err".
func (a *applier) wrap(path, what string, err error) error {
	p := Problem{File: a.f.name, Line: a.f.line(path), Path: path, Msg: what}
	return fmt.Errorf("%s: %w", p, err)
}
