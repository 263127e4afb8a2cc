package orgs_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

// token returns the token of the last invitation mail, checking its link.
func (e *env) token() string {
	e.t.Helper()
	m := e.mail.last(e.t)
	d, ok := m.Data.(orgs.InvitationMail)
	if !ok || m.Kind != orgs.MailInvitation {
		e.t.Fatalf("last mail is not an invitation: %+v", m)
	}
	u, err := url.Parse(d.Link)
	if err != nil || !strings.HasPrefix(d.Link, "https://id.example"+orgs.AcceptPath+"?token=") {
		e.t.Fatalf("link %q", d.Link)
	}
	return u.Query().Get("token")
}

func (e *env) outboxCount() int {
	e.t.Helper()
	n := 0
	for id := int64(1); ; id++ {
		if _, err := e.st.GetOutbox(context.Background(), id); err != nil {
			return n
		}
		n++
	}
}

var newcomer = &orgs.NewAccount{Name: "New Comer", Password: "a long enough password"}

func TestInviteNewPerson(t *testing.T) {
	e := newEnv(t, sqliteBackend)
	ctx := context.Background()
	inv, err := e.svc.Invite(ctx, p("alice"), e.orgA, " New@Example.com ", "visitor", "ja")
	must(t, err)
	if inv.Status != orgs.InvitationPending || inv.Email != "New@Example.com" || !inv.ExpiresAt.Equal(t0.Add(7*24*time.Hour)) {
		t.Fatalf("invitation: %+v", inv)
	}
	m := e.mail.last(t)
	d := m.Data.(orgs.InvitationMail)
	if m.To != "New@Example.com" || m.Locale != "ja" || d.OrgName != "Alpha" || d.InviterName != "Alice" || d.Role != store.RoleVisitor || d.ExpiresDays != 7 {
		t.Fatalf("mail: %+v", m)
	}
	if e.outboxCount() != 1 {
		t.Fatal("the mail is not in the outbox")
	}
	stored, _ := e.st.GetInvitation(ctx, inv.ID)
	tok := e.token()
	if stored.TokenHash == "" || strings.Contains(stored.TokenHash, tok) || stored.ID == tok {
		t.Fatalf("the token is stored: %+v", stored)
	}

	_, err = e.svc.Invite(ctx, p("alice"), e.orgA, "new@example.COM", store.RoleNormal, "")
	wantCode(t, "a second pending invitation", err, apperr.Conflict)
	_, err = e.svc.Invite(ctx, p("alice"), e.orgA, "nora@example.com", store.RoleNormal, "")
	wantCode(t, "a member", err, apperr.Conflict)
	_, err = e.svc.Invite(ctx, p("alice"), e.orgA, "not an address", store.RoleNormal, "")
	wantCode(t, "bad address", err, apperr.Invalid)

	o, err := e.svc.OpenInvitation(ctx, tok)
	must(t, err)
	if o.AccountExists || o.Organization.Code != "A001" || o.Invitation.Role != store.RoleVisitor {
		t.Fatalf("opened: %+v", o)
	}
	_, err = e.svc.AcceptInvitation(ctx, tok, "", nil)
	wantCode(t, "no name and password", err, apperr.Invalid)
	_, err = e.svc.AcceptInvitation(ctx, tok, "", &orgs.NewAccount{Name: "N", Password: "short"})
	wantCode(t, "password policy", err, apperr.Invalid)
	_, err = e.svc.AcceptInvitation(ctx, tok, "", &orgs.NewAccount{Name: "N", Password: "new@example.com"})
	wantCode(t, "password is the email", err, apperr.Invalid)
	a, err := e.svc.AcceptInvitation(ctx, tok, "", newcomer)
	must(t, err)
	u, err := e.st.GetUserByEmail(ctx, "new@example.com")
	must(t, err)
	if !a.Created || !u.EmailVerified || u.Name != "New Comer" || u.PasswordHash != "hashed:a long enough password" ||
		a.Membership.UserID != u.ID || e.role(u.ID, e.orgA) != store.RoleVisitor {
		t.Fatalf("accepted: %+v, account %+v", a, u)
	}
	_, err = e.svc.AcceptInvitation(ctx, tok, "", newcomer)
	wantCode(t, "reused", err, apperr.InvitationUsed)
	_, err = e.svc.AcceptInvitation(ctx, tok, u.ID, nil)
	wantCode(t, "reused while signed in", err, apperr.InvitationUsed)

	evs := e.audit(e.orgA)
	if len(evs) != 2 || evs[0].Kind != orgs.AuditInvitationAccepted || evs[0].ActorID != u.ID || evs[1].Kind != orgs.AuditInvitationCreated || evs[1].ActorID != "alice" {
		t.Fatalf("audit: %+v", evs)
	}
}

func TestInviteExistingAccount(t *testing.T) {
	e := newEnv(t, sqliteBackend)
	ctx := context.Background()
	// bob (B's administrator) invites nora, a member of A, into B... she
	// is in B already; vic is not.
	_, err := e.svc.Invite(ctx, p("bob"), e.orgB, "VIC@example.com", store.RoleNormal, "")
	must(t, err)
	tok := e.token()
	o, err := e.svc.OpenInvitation(ctx, tok)
	must(t, err)
	if !o.AccountExists {
		t.Fatal("vic's account not found")
	}
	_, err = e.svc.AcceptInvitation(ctx, tok, "", newcomer)
	wantCode(t, "existing account not signed in", err, apperr.Unauthorized)
	_, err = e.svc.AcceptInvitation(ctx, tok, "nora", nil)
	wantCode(t, "signed in as a different account", err, apperr.InvitationWrongAccount)
	if e.role("nora", e.orgB) != store.RoleVisitor || e.role("vic", e.orgB) != "" {
		t.Fatal("a refused acceptance changed a membership")
	}
	a, err := e.svc.AcceptInvitation(ctx, tok, "vic", nil)
	must(t, err)
	if a.Created || e.role("vic", e.orgB) != store.RoleNormal || e.role("vic", e.orgA) != store.RoleVisitor {
		t.Fatalf("accepted: %+v", a)
	}
}

func TestInvitationLinkRefusals(t *testing.T) {
	e := newEnv(t, sqliteBackend)
	ctx := context.Background()
	accept := func(tok string) error {
		_, err := e.svc.AcceptInvitation(ctx, tok, "", newcomer)
		return err
	}
	inv, err := e.svc.Invite(ctx, p("alice"), e.orgA, "x@example.com", store.RoleNormal, "")
	must(t, err)
	tok := e.token()

	// Tampered: one character changed, cut short, or garbage.
	b := []byte(tok)
	b[5] ^= 1
	for _, bad := range []string{string(b), tok[:len(tok)-1], "", "../../etc", tok + "A"} {
		wantCode(t, "tampered "+bad, accept(bad), apperr.InvitationInvalid)
		_, err := e.svc.OpenInvitation(ctx, bad)
		wantCode(t, "open tampered", err, apperr.InvitationInvalid)
	}

	// Resent: the old link dies, the new one works later.
	e.clk.Advance(time.Hour)
	re, err := e.svc.ResendInvitation(ctx, p("anna"), e.orgA, inv.ID, "")
	must(t, err)
	tok2 := e.token()
	if tok2 == tok || !re.ExpiresAt.Equal(t0.Add(time.Hour+orgs.InvitationTTL)) {
		t.Fatalf("resend: %+v", re)
	}
	wantCode(t, "old link after resend", accept(tok), apperr.InvitationInvalid)

	// Expired: 7 days after the resend.
	e.clk.Advance(orgs.InvitationTTL)
	wantCode(t, "expired", accept(tok2), apperr.InvitationExpired)
	_, err = e.svc.OpenInvitation(ctx, tok2)
	wantCode(t, "open expired", err, apperr.InvitationExpired)

	// An expired invitation can be resent; then cancelled.
	_, err = e.svc.ResendInvitation(ctx, p("alice"), e.orgA, inv.ID, "")
	must(t, err)
	tok3 := e.token()
	c, err := e.svc.CancelInvitation(ctx, p("alice"), e.orgA, inv.ID)
	must(t, err)
	if c.Status != orgs.InvitationCancelled {
		t.Fatalf("cancel: %+v", c)
	}
	wantCode(t, "cancelled", accept(tok3), apperr.InvitationCancelled)
	_, err = e.svc.CancelInvitation(ctx, p("alice"), e.orgA, inv.ID)
	must(t, err)
	_, err = e.svc.ResendInvitation(ctx, p("alice"), e.orgA, inv.ID, "")
	wantCode(t, "resend cancelled", err, apperr.Conflict)

	if _, err := e.st.GetUserByEmail(ctx, "x@example.com"); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatal("a refused link created an account")
	}
	// Another organization's administrator cannot touch it.
	_, err = e.svc.CancelInvitation(ctx, p("bob"), e.orgB, inv.ID)
	wantCode(t, "B's administrator, B's organization", err, apperr.NotFound)
	_, err = e.svc.GetInvitation(ctx, p("bob"), e.orgB, inv.ID)
	wantCode(t, "B's administrator reads A's invitation", err, apperr.NotFound)

	list, err := e.svc.ListInvitations(ctx, p("alice"), e.orgA, false)
	must(t, err)
	pending, _ := e.svc.ListInvitations(ctx, p("alice"), e.orgA, true)
	if len(list) != 1 || len(pending) != 0 {
		t.Fatalf("lists: %+v / %+v", list, pending)
	}
	kinds := map[string]int{}
	for _, ev := range e.audit(e.orgA) {
		kinds[ev.Kind]++
	}
	if kinds[orgs.AuditInvitationCreated] != 1 || kinds[orgs.AuditInvitationResent] != 2 || kinds[orgs.AuditInvitationCancelled] != 1 {
		t.Fatalf("audit kinds: %v", kinds)
	}
}

// A mail that cannot be queued leaves no invitation behind.
func TestInviteMailFailureChangesNothing(t *testing.T) {
	e := newEnv(t, sqliteBackend)
	e.mail.fail = apperr.New(apperr.Internal, "composer broken")
	_, err := e.svc.Invite(context.Background(), p("alice"), e.orgA, "x@example.com", store.RoleNormal, "")
	if err == nil {
		t.Fatal("invited without mail")
	}
	list, _ := e.svc.ListInvitations(context.Background(), p("alice"), e.orgA, false)
	if len(list) != 0 || len(e.audit(e.orgA)) != 0 {
		t.Fatalf("left behind: %+v", list)
	}
}

// Accepting one link many times at once, as a new person, creates one
// account and one membership, on every durable backend.
func TestConcurrentAccept(t *testing.T) {
	for name, open := range durableBackends {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open)
			ctx := context.Background()
			_, err := e.svc.Invite(ctx, p("alice"), e.orgA, "race@example.com", store.RoleNormal, "")
			must(t, err)
			tok := e.token()
			const n = 50
			errs := storetest.Together(n, func(int) error {
				_, err := e.svc.AcceptInvitation(ctx, tok, "", newcomer)
				return err
			})
			ok := 0
			for _, err := range errs {
				switch apperr.CodeOf(err) {
				case "":
					ok++
				case apperr.InvitationUsed, apperr.Unauthorized:
					// Lost the race: the link was used, or the account it
					// created exists by the time this one looked.
				default:
					t.Fatalf("unexpected error: %v", err)
				}
			}
			pg, err := e.svc.ListMembers(ctx, p("alice"), e.orgA, orgs.MemberQuery{Search: "race@"})
			must(t, err)
			if ok != 1 || len(pg.Members) != 1 {
				t.Fatalf("%d concurrent acceptances: %d succeeded, %d memberships", n, ok, len(pg.Members))
			}
		})
	}
}
