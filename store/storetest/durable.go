package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

// DurableOpener opens an empty store.Durable that reads now as its clock.
// It registers its own cleanup (Close, dropping schemas or files) on t.
type DurableOpener func(t *testing.T, now func() time.Time) store.Durable

// RunDurable runs the conformance suite for store.Durable. Each subtest
// opens its own empty store with its own Clock starting at a fixed instant
// with microsecond precision (the precision every durable backend keeps);
// expiry is tested by moving that clock or passing `at`, never by
// sleeping. The Contention subtests hammer one record from many goroutines
// and assert exact counts.
//
// Beyond store/durable.go, the suite pins down what the SQL backends do and
// any other durable backend must do too:
//   - timestamps the caller leaves zero (CreatedAt, UpdatedAt, audit Time,
//     outbox CreatedAt/NextAttempt) are filled from the clock, and the
//     Update* closures set UpdatedAt to the clock's time;
//   - empty lists and maps read back as nil;
//   - Delete* of a missing record returns ErrNotFound (DeleteOneTimeTokens,
//     a bulk delete, does not); a record referring to a missing user,
//     organization, service, client or legacy login ID is ErrNotFound;
//   - deleting a user deletes what is theirs except their audit history;
//   - an error inside InTx (even a duplicate key) leaves the transaction
//     usable, and a nested InTx that fails undoes only its own writes.
func RunDurable(t *testing.T, open func(t *testing.T, now func() time.Time) store.Durable) {
	tests := []struct {
		name string
		fn   func(*testing.T, DurableOpener)
	}{
		{"Ping", durPing},
		{"Users", durUsers},
		{"UsersFoldedEmail", durUsersFoldedEmail},
		{"UpdateUser", durUpdateUser},
		{"DeleteUserCascades", durDeleteUserCascades},
		{"Organizations", durOrganizations},
		{"Services", durServices},
		{"Memberships", durMemberships},
		{"Entitlements", durEntitlements},
		{"EntitledMemberships", durEntitledMemberships},
		{"Clients", durClients},
		{"UpdateClient", durUpdateClient},
		{"Legacy", durLegacy},
		{"LegacyImport", durLegacyImport},
		{"LegacyImportLarge", durLegacyImportLarge},
		{"LegacyLink", durLegacyLink},
		{"LegacyReport", durLegacyReport},
		{"LegacyByOrg", durLegacyByOrg},
		{"LegacyRegistration", durLegacyRegistration},
		{"LegacyReminders", durLegacyReminders},
		{"ContentionLegacyFirstAdmin", durContentionLegacyFirstAdmin},
		{"SigningKeys", durSigningKeys},
		{"Consent", durConsent},
		{"TOTP", durTOTP},
		{"RecoveryCodes", durRecoveryCodes},
		{"OrgRequireMFA", durOrgRequireMFA},
		{"Invitations", durInvitations},
		{"InvitationLifecycle", durInvitationLifecycle},
		{"LastAdministrator", durLastAdministrator},
		{"MembersList", durMembersList},
		{"OrgsUpdateDelete", durOrgsUpdateDelete},
		{"ServiceApplications", durServiceApplications},
		{"AuditOrgHistory", durAuditOrgHistory},
		{"OneTimeTokens", durOneTimeTokens},
		{"Audit", durAudit},
		{"AuditPaging", durAuditPaging},
		{"AuditRequestMeta", durAuditRequestMeta},
		{"Outbox", durOutbox},
		{"OutboxRetry", durOutboxRetry},
		{"OutboxPurge", durOutboxPurge},
		{"OutboxBacklog", durOutboxBacklog},
		{"InTxCommit", durInTxCommit},
		{"InTxRollback", durInTxRollback},
		{"InTxNested", durInTxNested},
		{"InTxErrorKeepsTx", durInTxErrorKeepsTx},
		{"ContentionConsumeToken", durContentionConsumeToken},
		{"ContentionRecoveryCode", durContentionRecoveryCode},
		{"ContentionAcceptInvitation", durContentionAcceptInvitation},
		{"ContentionSigningKeys", durContentionSigningKeys},
		{"ContentionClaimOutbox", durContentionClaimOutbox},
		{"ContentionUpdateUser", durContentionUpdateUser},
		{"ContentionLastAdministrator", durContentionLastAdministrator},
		{"ContentionRemoveAdministrators", durContentionRemoveAdministrators},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

// durT0 is where every subtest's clock starts.
var durT0 = time.Date(2030, time.January, 2, 3, 4, 5, 123456000, time.UTC)

func durOpen(t *testing.T, open DurableOpener) (store.Durable, *Clock) {
	t.Helper()
	clk := NewClock(durT0)
	s := open(t, clk.Now)
	if s == nil {
		t.Fatal("opener returned a nil store")
	}
	return s, clk
}

func durIs(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s: unexpected error: %v", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func durEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func durUser(id, email string, now time.Time) store.User {
	return store.User{
		ID: id, Email: email, EmailVerified: true, Name: "User " + id, Locale: "de",
		PasswordHash: "$argon2id$v=19$" + id, PasswordChangedAt: now.Add(-time.Hour),
		CreatedAt: now, UpdatedAt: now,
	}
}

func durOrg(id string, now time.Time) store.Organization {
	return store.Organization{ID: id, Code: "C-" + id, Name: "Org " + id, CreatedAt: now}
}

func durService(id string, now time.Time) store.Service {
	return store.Service{ID: id, Code: "svc-" + id, Name: "Service " + id, CreatedAt: now}
}

func durClient(id string, now time.Time) store.Client {
	return store.Client{
		ID: id, SecretHash: "$argon2id$secret", Name: "Client " + id, HomeURL: "https://" + id + ".example",
		RedirectURIs:           []string{"https://" + id + ".example/cb", "http://127.0.0.1:8080/cb"},
		PostLogoutRedirectURIs: []string{"https://" + id + ".example/bye"},
		BackchannelLogoutURI:   "https://" + id + ".example/bcl",
		GrantTypes:             []string{"authorization_code", "refresh_token"},
		FirstParty:             true, AccessTokenType: store.AccessTokenJWT,
		OrganizationSelection: store.OrgSelectionRequired,
		CreatedAt:             now, UpdatedAt: now,
	}
}

// durMust fails the test on err; for setup steps.
func durMust(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// durSeedUsers creates users u1..un.
func durSeedUsers(t *testing.T, s store.Durable, now time.Time, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("u%d", i)
		durMust(t, "create "+id, s.CreateUser(ctx, durUser(id, id+"@example.com", now)))
	}
}

func durPing(t *testing.T, open DurableOpener) {
	s, _ := durOpen(t, open)
	durIs(t, "Ping", s.Ping(context.Background()), nil)
}
