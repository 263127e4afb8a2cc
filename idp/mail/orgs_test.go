package mail

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

func TestOrgMailerQueuesInTheRecipientsLanguage(t *testing.T) {
	st := storetest.OpenSQLite(t, nil)
	om := OrgMailer{Composer: newComposer(t)}
	ctx := context.Background()
	err := st.InTx(ctx, func(tx store.Durable) error {
		return om.QueueMail(ctx, tx, orgs.Mail{Kind: orgs.MailInvitation, To: "x@example.com", Locale: "ja",
			Data: orgs.InvitationMail{OrgName: "Alpha", Role: store.RoleAdministrator, Link: link, ExpiresDays: 7}})
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.GetOutbox(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var msg Message
	if err := json.Unmarshal(m.Payload, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.To != "x@example.com" || !strings.Contains(msg.Text, "管理者") || !strings.Contains(msg.Text, link) {
		t.Fatalf("queued: %+v", msg)
	}
	err = om.QueueMail(ctx, st, orgs.Mail{Kind: orgs.MailInvitation, To: "x@example.com", Data: "nonsense"})
	if err == nil {
		t.Fatal("queued mail without a template for its data")
	}
	err = om.QueueMail(ctx, st, orgs.Mail{Kind: orgs.MailApplicationRejected, To: "x@example.com",
		Data: orgs.ApplicationMail{Name: "Taro", OrgName: "Alpha", ServiceName: "NK", Reason: "no"}})
	if err != nil {
		t.Fatal(err)
	}
}
