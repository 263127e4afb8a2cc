package adminapi

import (
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"unicode"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/store"
)

// write runs fn in one transaction and appends, in the same transaction,
// the audit event fn filled in (its Kind at least), stamped with the
// time, the actor and the caller's address. Either both commit or
// neither.
func (a *API) write(r *http.Request, fn func(tx store.Durable, ev *store.AuditEvent) error) error {
	ctx := r.Context()
	return a.cfg.Store.InTx(ctx, func(tx store.Durable) error {
		var ev store.AuditEvent
		if err := fn(tx, &ev); err != nil {
			return err
		}
		ev.Time = a.cfg.Now()
		ev.ActorID = ActorOf(ctx)
		ev.IP = remoteIP(r)
		ev.UserAgent = cut(r.UserAgent(), 256)
		if _, err := tx.AppendAudit(ctx, ev); err != nil {
			return fmt.Errorf("audit %s: %w", ev.Kind, err)
		}
		return nil
	})
}

func remoteIP(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// idEncoding is lower-case unpadded base32, as record IDs elsewhere.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns a random opaque record ID.
func (a *API) newID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(a.cfg.Rand, b[:]); err != nil {
		return "", fmt.Errorf("new ID: %w", err)
	}
	return idEncoding.EncodeToString(b[:]), nil
}

// codeRE is the shape of organization and service codes (as in seed files).
var codeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// problems collects every problem of a request body, reported at once.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return errInvalid(strings.Join(p, "; "))
}

func (p *problems) code(field, v string) {
	if !codeRE.MatchString(v) {
		p.add("%s: want 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", field)
	}
}

func (p *problems) name(field, v string) {
	switch {
	case strings.TrimSpace(v) == "":
		p.add("%s: required", field)
	case len(v) > 200:
		p.add("%s: at most 200 bytes", field)
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		p.add("%s: must not contain control characters", field)
	}
}

// errUnchanged ends a write transaction that found nothing to change: it
// rolls back (no audit event) and the handler answers with the current
// state.
var errUnchanged = errors.New("unchanged")

// notFound turns the store's not-found into a 404 naming the resource.
func notFound(err error, what string) error {
	if apperr.CodeOf(err) == apperr.NotFound {
		return apperr.Wrap(apperr.NotFound, "no such "+what, err)
	}
	return err
}

// exists turns the store's already-exists into a 409 naming the clash.
func exists(err error, msg string) error {
	if apperr.CodeOf(err) == apperr.Conflict {
		return apperr.Wrap(apperr.Conflict, msg, err)
	}
	return err
}
