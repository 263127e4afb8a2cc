package seed

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/customerhub/hubid/idp/pwpolicy"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/language"

	"github.com/customerhub/hubid/idp/clients"
	"github.com/customerhub/hubid/password"
	"github.com/customerhub/hubid/store"
)

// MinPasswordLength is the shortest password (characters) a seed file may
// give a user or a legacy login ID.
const MinPasswordLength = 8

var (
	codeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	envRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
)

// validate checks every rule that needs no store and adds a problem for
// each failure. References to codes not defined in the file are left to
// Apply, which looks them up in the store.
func (f *File) validate(ps *problems) {
	f.checkCodes(ps, "organizations", len(f.Organizations), func(i int) (string, string) {
		return f.Organizations[i].Code, f.Organizations[i].Name
	})
	f.checkCodes(ps, "services", len(f.Services), func(i int) (string, string) {
		return f.Services[i].Code, f.Services[i].Name
	})

	ents := map[[2]string]string{}
	for i, e := range f.Entitlements {
		p := index("entitlements", i)
		checkRef(ps, join(p, "org"), e.Org)
		checkRef(ps, join(p, "service"), e.Service)
		key := [2]string{e.Org, e.Service}
		if first, dup := ents[key]; dup && e.Org != "" && e.Service != "" {
			ps.add(p, "duplicate entitlement of %s to %s (first at line %d)", e.Org, e.Service, f.line(first))
		} else if !dup {
			ents[key] = p
		}
	}

	emails := map[string]string{}
	for i, u := range f.Users {
		p := index("users", i)
		if err := checkEmail(u.Email); err != nil {
			ps.add(join(p, "email"), "%v", err)
		} else if first, dup := emails[store.FoldEmail(u.Email)]; dup {
			ps.add(join(p, "email"), "duplicate email %q (first at line %d)", u.Email, f.line(first))
		} else {
			emails[store.FoldEmail(u.Email)] = join(p, "email")
		}
		checkName(ps, join(p, "name"), u.Name)
		if u.Locale != "" {
			if _, err := language.Parse(u.Locale); err != nil {
				ps.add(join(p, "locale"), "%q is not a BCP 47 language tag", u.Locale)
			}
		}
		checkSecret(ps, p, userSecret,
			u.Password, u.PasswordHash, u.PasswordEnv, MinPasswordLength, true, checkPasswordHash)
		if u.Password != "" && utf8.RuneCountInString(u.Password) >= MinPasswordLength {
			// The same policy as every other place a password is set.
			if err := (pwpolicy.Policy{}).Check(u.Password, u.Email, u.Name); err != nil {
				ps.add(join(p, userSecret.plain), "%v", err)
			}
		}
		member := map[string]string{}
		for j, m := range u.Memberships {
			mp := index(join(p, "memberships"), j)
			checkRef(ps, join(mp, "org"), m.Org)
			if !m.Role.Valid() {
				if m.Role == "" {
					ps.add(join(mp, "role"), "required (administrator, normal or visitor)")
				} else {
					ps.add(join(mp, "role"), "%q is not one of administrator, normal, visitor", m.Role)
				}
			}
			if first, dup := member[m.Org]; dup && m.Org != "" {
				ps.add(mp, "duplicate membership of %s (first at line %d)", m.Org, f.line(first))
			} else if !dup {
				member[m.Org] = mp
			}
		}
	}

	ids := map[string]string{}
	for i, c := range f.Clients {
		p := index("clients", i)
		if first, dup := ids[c.ID]; dup && c.ID != "" {
			ps.add(join(p, "id"), "duplicate client id %q (first at line %d)", c.ID, f.line(first))
		} else if !dup {
			ids[c.ID] = join(p, "id")
		}
		checkName(ps, join(p, "name"), c.Name)
		if c.Service != "" {
			checkRef(ps, join(p, "service"), c.Service)
		}
		f.checkClient(ps, p, c)
	}

	legacy := map[[2]string]string{}
	for i, l := range f.LegacyLoginIDs {
		p := index("legacy_login_ids", i)
		if l.LoginID == "" {
			ps.add(join(p, "login_id"), "required")
		} else if len(l.LoginID) > 128 || strings.TrimSpace(l.LoginID) != l.LoginID || strings.IndexFunc(l.LoginID, unicode.IsControl) >= 0 {
			ps.add(join(p, "login_id"), "%q: want 1-128 characters, no control characters or surrounding spaces", l.LoginID)
		}
		checkRef(ps, join(p, "service"), l.Service)
		checkRef(ps, join(p, "org"), l.Org)
		checkSecret(ps, p, userSecret,
			l.Password, l.PasswordHash, l.PasswordEnv, MinPasswordLength, true, checkPasswordHash)
		key := [2]string{l.Service, l.LoginID}
		if first, dup := legacy[key]; dup && l.LoginID != "" {
			ps.add(join(p, "login_id"), "duplicate login ID %q of %s (first at line %d)", l.LoginID, l.Service, f.line(first))
		} else if !dup {
			legacy[key] = join(p, "login_id")
		}
	}
}

// checkCodes checks the codes and names of organizations or services.
func (f *File) checkCodes(ps *problems, list string, n int, get func(int) (code, name string)) {
	codes := map[string]string{}
	for i := range n {
		p := index(list, i)
		code, name := get(i)
		switch first, dup := codes[code]; {
		case code == "":
			ps.add(join(p, "code"), "required")
		case !codeRE.MatchString(code):
			ps.add(join(p, "code"), "%q: want 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", code)
		case dup:
			ps.add(join(p, "code"), "duplicate code %q (first at line %d)", code, f.line(first))
		default:
			codes[code] = join(p, "code")
		}
		checkName(ps, join(p, "name"), name)
	}
}

// checkRef checks a reference to an organization or service code. Whether
// the code exists is decided by Apply (in the file or in the store).
func checkRef(ps *problems, path, code string) {
	if code == "" {
		ps.add(path, "required")
	} else if !codeRE.MatchString(code) {
		ps.add(path, "%q is not a valid code", code)
	}
}

func checkName(ps *problems, path, name string) {
	if strings.TrimSpace(name) == "" {
		ps.add(path, "required")
	} else if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		ps.add(path, "must not contain control characters")
	}
}

func checkEmail(s string) error {
	switch {
	case s == "":
		return errors.New("required")
	case len(s) > 254:
		return fmt.Errorf("%.20q... is longer than 254 bytes", s)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || !strings.Contains(s, "@") {
		return fmt.Errorf("%q is not an email address", s)
	}
	return nil
}

// secretFields names the three ways a secret can be given.
type secretFields struct{ plain, hash, env string }

func (n secretFields) String() string { return n.plain + ", " + n.hash + " or " + n.env }

// given returns the name of the field the secret was given in, "" if none.
func (n secretFields) given(plain, hash, env string) string {
	switch {
	case plain != "":
		return n.plain
	case hash != "":
		return n.hash
	case env != "":
		return n.env
	}
	return ""
}

// checkSecret checks that at most one (exactly one when required) of the
// three secret fields of the record at path is set, and checks it.
func checkSecret(ps *problems, path string, n secretFields, plain, hash, env string, minLen int, required bool, checkHash func(string) error) {
	var set []string
	for _, s := range [][2]string{{n.plain, plain}, {n.hash, hash}, {n.env, env}} {
		if s[1] != "" {
			set = append(set, s[0])
		}
	}
	switch {
	case len(set) > 1:
		ps.add(join(path, set[1]), "%s is set too; set only one of %s", set[0], n)
	case len(set) == 0 && required:
		ps.add(path, "%s is required", n)
	}
	if plain != "" && utf8.RuneCountInString(plain) < minLen {
		ps.add(join(path, n.plain), "shorter than %d characters", minLen)
	}
	if hash != "" {
		if err := checkHash(hash); err != nil {
			ps.add(join(path, n.hash), "%v", err)
		}
	}
	if env != "" && !envRE.MatchString(env) {
		ps.add(join(path, n.env), "%q is not an environment variable name", env)
	}
}

var clientSecret = secretFields{"secret", "secret_hash", "secret_env"}

// checkClient runs clients.Validate on the registration the client would
// get and reports each of its messages at the field it names.
func (f *File) checkClient(ps *problems, path string, c Client) {
	if !c.Public { // a public client's secret is reported by clients.Validate
		checkSecret(ps, path, clientSecret, c.Secret, c.SecretHash, c.SecretEnv, clients.MinSecretLength, false, checkClientSecretHash)
	}
	sc := c.record()
	sc.ServiceID = c.Service // a code here: clients.Validate only asks whether there is one
	if clientSecret.given(c.Secret, c.SecretHash, c.SecretEnv) != "" {
		sc.SecretHash = "(set)" // its form was checked above
	}
	err := clients.Validate(sc)
	if err == nil {
		return
	}
	errs := []error{err}
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		field, msg, ok := strings.Cut(e.Error(), ": ")
		if !ok || strings.ContainsAny(field, " \t\"") {
			ps.add(path, "%s", e.Error())
			continue
		}
		if field == "secret" {
			if g := clientSecret.given(c.Secret, c.SecretHash, c.SecretEnv); g != "" {
				field = g
			}
		}
		ps.add(path+"."+field, "%s", msg)
	}
}

// record returns the client's registration without secret, service and
// times.
func (c Client) record() store.Client {
	return store.Client{
		ID:                          c.ID,
		Name:                        c.Name,
		HomeURL:                     c.HomeURL,
		RedirectURIs:                c.RedirectURIs,
		PostLogoutRedirectURIs:      c.PostLogoutRedirectURIs,
		BackchannelLogoutURI:        c.BackchannelLogoutURI,
		GrantTypes:                  c.GrantTypes,
		Public:                      c.Public,
		FirstParty:                  c.FirstParty,
		AccessTokenType:             c.AccessTokenType,
		OrganizationSelection:       c.OrganizationSelection,
		OmitRefreshIDToken:          c.RefreshIDToken != nil && !*c.RefreshIDToken,
		AccessTokenSigningAlgorithm: c.AccessTokenSigningAlgorithm,
	}
}

// checkClientSecretHash accepts what clients.Verifier can check: the
// "sha256:" hash of clients.HashSecret, or a password hash.
func checkClientSecretHash(h string) error {
	if hexPart, ok := strings.CutPrefix(h, "sha256:"); ok {
		if b, err := hex.DecodeString(hexPart); err != nil || len(b) != 32 || strings.ToLower(hexPart) != hexPart {
			return errors.New(`want "sha256:" and 64 lower-case hex digits`)
		}
		return nil
	}
	return checkPasswordHash(h)
}

// checkPasswordHash checks the form of an argon2id PHC string or a bcrypt
// hash, within the bounds password.Hasher.Verify accepts, without the cost
// of a verification.
func checkPasswordHash(h string) error {
	switch {
	case strings.HasPrefix(h, "$argon2id$"):
		if err := checkArgon2id(h); err != nil {
			return fmt.Errorf("malformed argon2id hash: %w", err)
		}
		return nil
	case strings.HasPrefix(h, "$2a$"), strings.HasPrefix(h, "$2b$"), strings.HasPrefix(h, "$2y$"):
		if len(h) != 60 {
			return errors.New("malformed bcrypt hash: want 60 characters")
		}
		cost, err := bcrypt.Cost([]byte(h))
		if err != nil {
			return fmt.Errorf("malformed bcrypt hash: %w", err)
		}
		if cost > password.MaxBcryptCost {
			return fmt.Errorf("bcrypt cost %d exceeds %d", cost, password.MaxBcryptCost)
		}
		return nil
	}
	return errors.New("want an argon2id PHC string ($argon2id$...) or a bcrypt hash ($2a$, $2b$, $2y$)")
}

func checkArgon2id(h string) error {
	parts := strings.Split(h, "$")
	if len(parts) != 6 || parts[2] != "v=19" {
		return errors.New("want $argon2id$v=19$m=...,t=...,p=...$salt$key")
	}
	var vals [3]uint64
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return errors.New("want parameters m, t, p")
	}
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(params[i], name)
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil || (len(v) > 1 && v[0] == '0') {
			return errors.New("want parameters m, t, p as decimal numbers")
		}
		vals[i] = n
	}
	m, t, p := vals[0], vals[1], vals[2]
	if t < 1 || t > password.MaxTime || p < 1 || p > 255 || m < 8*p || m > password.MaxMemory {
		return fmt.Errorf("parameters m=%d,t=%d,p=%d are out of bounds", m, t, p)
	}
	salt, err := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < password.MinSaltLen || len(salt) > password.MaxSaltLen {
		return fmt.Errorf("salt: want %d-%d bytes of unpadded base64", password.MinSaltLen, password.MaxSaltLen)
	}
	key, err := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err != nil || len(key) < password.MinKeyLen || len(key) > password.MaxKeyLen {
		return fmt.Errorf("key: want %d-%d bytes of unpadded base64", password.MinKeyLen, password.MaxKeyLen)
	}
	return nil
}
