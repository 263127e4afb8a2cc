package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/customerhub/hubid/idp/clients"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

// opRun runs one operator command on dir and returns its exit code,
// stdout and stderr.
func opRun(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append(args, "--data", dir), &out, &errOut)
	return code, out.String(), errOut.String()
}

// opOK runs a command that must succeed and decodes its JSON output into
// v (when not nil).
func opOK(t *testing.T, dir string, v any, args ...string) string {
	t.Helper()
	code, out, errOut := opRun(t, dir, append(args, "--output", "json")...)
	if code != 0 {
		t.Fatalf("hubid %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("hubid %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return out
}

// opFails runs a command that must fail with code and one line on
// stderr containing want.
func opFails(t *testing.T, dir string, code int, want string, args ...string) {
	t.Helper()
	got, out, errOut := opRun(t, dir, args...)
	if got != code || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, want) || out != "" {
		t.Fatalf("hubid %s: exit %d, stderr %q, stdout %q; want exit %d and one line with %q",
			strings.Join(args, " "), got, errOut, out, code, want)
	}
}

func TestOperatorCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	opOK(t, dir, nil, "services", "create", "nk-ships", "NK-SHIPS")
	opOK(t, dir, nil, "services", "create", "nk-pass", "NK-PASS")
	var org orgJSON
	opOK(t, dir, &org, "orgs", "create", "NK0001", "Nakano Kaiun")
	if org.Code != "NK0001" || org.ID == "" {
		t.Fatalf("org: %+v", org)
	}
	opOK(t, dir, nil, "orgs", "entitle", "NK0001", "nk-ships")
	opOK(t, dir, nil, "users", "create", "alice@example.com", "Alice", "--verified")
	opOK(t, dir, nil, "users", "create", "bob@example.com", "Bob")
	opOK(t, dir, nil, "users", "add-membership", "alice@example.com", "NK0001", "administrator")
	opOK(t, dir, nil, "users", "add-membership", "bob@example.com", "NK0001", "visitor")

	// Bad input: one line, exit 2, nothing changed.
	opFails(t, dir, 2, "administrator, normal or visitor", "users", "set-role", "bob@example.com", "NK0001", "admin")
	opFails(t, dir, 2, "usage: hubid users add-membership USER ORG ROLE", "users", "add-membership", "bob@example.com")
	opFails(t, dir, 2, "unknown subcommand", "users", "frobnicate")
	opFails(t, dir, 2, "--output must be text or json", "orgs", "list", "--output", "yaml")
	opFails(t, dir, 2, "a code is", "orgs", "create", "bad code!", "X")
	opFails(t, dir, 2, "redirect_uris[0]", "clients", "create", "--service", "nk-ships", "--redirect-uri", "http://ships.example/cb")
	opFails(t, dir, 2, "--service is required", "clients", "create", "--redirect-uri", "https://ships.example/cb")
	if code, _, errOut := opRun(t, "", "orgs", "list"); code != 2 || !strings.Contains(errOut, "--config FILE or --data DIR") {
		t.Fatalf("no store: %d %q", code, errOut)
	}
	// Refusals of the rules: one line, exit 1.
	opFails(t, dir, 1, "must keep an administrator", "users", "set-role", "alice@example.com", "NK0001", "normal")
	opFails(t, dir, 1, "organization not found", "users", "add-membership", "bob@example.com", "NOPE", "normal")
	opFails(t, dir, 1, "already", "users", "add-membership", "bob@example.com", "NK0001", "normal")

	var members []orgs.Member
	opOK(t, dir, &members, "orgs", "members", "NK0001")
	if len(members) != 2 || members[0].Email != "alice@example.com" || members[0].Role != store.RoleAdministrator || members[1].Role != store.RoleVisitor {
		t.Fatalf("members: %+v", members)
	}
	opOK(t, dir, nil, "users", "set-role", "bob@example.com", "NK0001", "Normal")

	// A client with a generated secret, printed once.
	var cl clientJSON
	opOK(t, dir, &cl, "clients", "create", "--service", "nk-ships", "--name", "Ships", "--redirect-uri", "https://ships.example/cb", "--id", "ships")
	if cl.ID != "ships" || cl.Service != "nk-ships" || len(cl.Secret) < clients.MinSecretLength {
		t.Fatalf("client: %+v", cl)
	}
	var shown clientJSON
	opOK(t, dir, &shown, "clients", "show", "ships")
	if shown.Secret != "" || shown.RedirectURIs[0] != "https://ships.example/cb" {
		t.Fatalf("show prints a secret or lost the URI: %+v", shown)
	}
	if !shown.RefreshIDToken || shown.AccessTokenSigningAlgorithm != "RS256" {
		t.Fatalf("default token options: %+v", shown)
	}
	// Token options: refresh without an ID token, ES256 access tokens;
	// an update that does not name them keeps them.
	var lean clientJSON
	opOK(t, dir, &lean, "clients", "update", "ships", "--refresh-id-token=false", "--access-token-signing-algorithm", "ES256")
	opOK(t, dir, &lean, "clients", "update", "ships", "--name", "Ships 2")
	if lean.RefreshIDToken || lean.AccessTokenSigningAlgorithm != "ES256" || lean.Name != "Ships 2" {
		t.Fatalf("token options after update: %+v", lean)
	}
	opFails(t, dir, 2, "access_token_signing_algorithm", "clients", "update", "ships", "--access-token-signing-algorithm", "HS256")
	opOK(t, dir, &lean, "clients", "update", "ships", "--refresh-id-token", "--access-token-signing-algorithm", "RS256")
	if !lean.RefreshIDToken || lean.AccessTokenSigningAlgorithm != "RS256" {
		t.Fatalf("token options back to the defaults: %+v", lean)
	}
	code, text, _ := opRun(t, dir, "clients", "list")
	if code != 0 || !strings.Contains(text, "ships") || strings.Contains(text, cl.Secret) {
		t.Fatalf("clients list: %d\n%s", code, text)
	}

	// An administrator applies (through the service, as the console does);
	// the operator approves and rejects from the command line.
	st := storetest.OpenSQLiteAt(t, filepath.Join(dir, "hubid.db"), nil)
	svc, err := orgs.New(orgs.Deps{Store: st, Mailer: discardMailer{}})
	if err != nil {
		t.Fatal(err)
	}
	alice, _ := st.GetUserByEmail(context.Background(), "alice@example.com")
	app, err := svc.Apply(context.Background(), orgs.Person(alice.ID), org.ID, "nk-pass", "please")
	if err != nil {
		t.Fatal(err)
	}
	var pending []applicationJSON
	opOK(t, dir, &pending, "applications", "list", "--status", "pending")
	if len(pending) != 1 || pending[0].ID != app.ID || pending[0].Org != "NK0001" || pending[0].Service != "nk-pass" {
		t.Fatalf("pending: %+v", pending)
	}
	opFails(t, dir, 2, "enter a reason", "applications", "reject", app.ID)
	var decided applicationJSON
	opOK(t, dir, &decided, "applications", "approve", app.ID)
	if decided.Status != store.ApplicationApproved || decided.DecidedBy != "operator:cli" {
		t.Fatalf("approved: %+v", decided)
	}
	opFails(t, dir, 1, "approved already", "applications", "reject", app.ID, "--reason", "late")
	var shownOrg struct {
		Services []string `json:"services"`
	}
	opOK(t, dir, &shownOrg, "orgs", "show", "NK0001")
	if strings.Join(shownOrg.Services, ",") != "nk-pass,nk-ships" && strings.Join(shownOrg.Services, ",") != "nk-ships,nk-pass" {
		t.Fatalf("services after approval: %+v", shownOrg)
	}

	// An invitation is queued as mail.
	var inv orgs.Invitation
	opOK(t, dir, &inv, "invitations", "create", "NK0001", "carol@example.com", "normal", "--lang", "ja")
	if inv.Status != orgs.InvitationPending || inv.Email != "carol@example.com" {
		t.Fatalf("invitation: %+v", inv)
	}
	var invs []orgs.Invitation
	opOK(t, dir, &invs, "invitations", "list", "NK0001", "--pending")
	if len(invs) != 1 {
		t.Fatalf("invitations: %+v", invs)
	}
	opOK(t, dir, nil, "invitations", "cancel", "NK0001", inv.ID)
	opOK(t, dir, &invs, "invitations", "list", "NK0001", "--pending")
	if len(invs) != 0 {
		t.Fatalf("pending after cancel: %+v", invs)
	}

	// Every change above is in the organization's history, by the CLI.
	var hist []store.AuditEvent
	opOK(t, dir, &hist, "orgs", "history", "NK0001", "--limit", "100")
	byCLI := 0
	for _, e := range hist {
		if e.ActorID == "operator:cli" {
			byCLI++
		}
	}
	if byCLI < 7 {
		t.Fatalf("history: %d events by the CLI: %+v", byCLI, hist)
	}

	opFails(t, dir, 1, "must keep an administrator", "users", "delete", "alice@example.com")
	opOK(t, dir, nil, "users", "remove-membership", "bob@example.com", "NK0001", "--delete-account")
	opFails(t, dir, 1, "account not found", "users", "show", "bob@example.com")
}

type discardMailer struct{}

func (discardMailer) QueueMail(context.Context, orgs.Outbox, orgs.Mail) error { return nil }
