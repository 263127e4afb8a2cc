package mail

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"golang.org/x/text/language"

	"github.com/customerhub/hubid/orgs"
)

// Kinds of the organizations' mail (package orgs).
const (
	// KindOrgInvitation carries an invitation link (InvitationData).
	KindOrgInvitation = orgs.MailInvitation
	// KindOrgApplicationApproved tells an applicant their organization may
	// use a service now (ApplicationData).
	KindOrgApplicationApproved = orgs.MailApplicationApproved
	// KindOrgApplicationRejected tells an applicant why their application
	// was rejected (ApplicationData).
	KindOrgApplicationRejected = orgs.MailApplicationRejected
)

// InvitationData is the data of KindOrgInvitation.
type InvitationData struct {
	Name        string // "" (the invitee may have no account yet)
	OrgName     string
	InviterName string // "" = invited by an operator
	RoleKey     string // message key of the account type
	Link        string // absolute http(s) URL
	ExpiresDays int
}

func (d InvitationData) validate() error {
	u, err := url.Parse(d.Link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("link %q is not an absolute http(s) URL", d.Link)
	}
	if d.ExpiresDays <= 0 || d.OrgName == "" || d.RoleKey == "" {
		return errors.New("invitation without organization, account type or lifetime")
	}
	return nil
}

// ApplicationData is the data of KindOrgApplicationApproved and
// KindOrgApplicationRejected.
type ApplicationData struct {
	Name        string
	OrgName     string
	ServiceName string
	Reason      string // the rejection's reason
}

// RoleKey is the message key naming an account type in mail.
func RoleKey(role string) string { return "mail.role." + role }

// OrgMailer composes the organizations' mail and queues it in the
// caller's transaction: it is orgs.Mailer.
type OrgMailer struct{ Composer *Composer }

var _ orgs.Mailer = OrgMailer{}

// QueueMail renders m in the recipient's language (Locale, matched to a
// supported one) and queues it in out.
func (o OrgMailer) QueueMail(ctx context.Context, out orgs.Outbox, m orgs.Mail) error {
	var data any
	switch d := m.Data.(type) {
	case orgs.InvitationMail:
		data = InvitationData{OrgName: d.OrgName, InviterName: d.InviterName, RoleKey: RoleKey(string(d.Role)),
			Link: d.Link, ExpiresDays: d.ExpiresDays}
	case orgs.ApplicationMail:
		data = ApplicationData{Name: d.Name, OrgName: d.OrgName, ServiceName: d.ServiceName, Reason: d.Reason}
	default:
		return fmt.Errorf("mail: no template for %T", m.Data)
	}
	lang := language.Und
	if m.Locale != "" {
		lang = language.Make(m.Locale)
	}
	msg, err := o.Composer.Compose(m.Kind, lang, m.To, data)
	if err != nil {
		return err
	}
	return Enqueue(ctx, out, msg)
}
