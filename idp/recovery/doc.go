// Package recovery serves password recovery and email verification: the
// "forgot password" request, the emailed single-use link that sets a new
// password, and the link that verifies an account's email address or
// completes a change of it.
//
// # Links
//
// A link carries 32 random bytes (256 bits) in base64url; only the
// SHA-256 of those bytes is stored (store.OneTimeToken.Hash), so the
// token table yields no usable link (the queued mail holds it until it is
// sent; that is the outbox's retention to bound). A reset link works once for ResetTTL
// (30 minutes), a verification link once for VerifyTTL (24 hours); a new
// link of a kind deletes the person's older unused links of that kind, so
// only the most recent one works. Opening a reset link (GET) does not use
// it: mail scanners that follow links must not burn it. The store has no
// read method for tokens, so the page checks the link by consuming it in a
// transaction that is always rolled back; the POST consumes it for good in
// the transaction that sets the password.
//
// # No enumeration
//
// POST /forgot answers every well-formed address the same way, a 303 to
// /forgot/sent, before anything about the address is looked up: the
// handler only hands the address to a background job (a goroutine with a
// context detached from the request and bounded by forgotTimeout, at most
// maxPending at once; beyond that the request is dropped and logged) and
// answers. Known, unknown, disabled and throttled addresses therefore get
// byte-identical answers in the same time; only the job differs. The job
// is throttled per address and per client IP (the idp/throttle counters,
// under keys of their own) so that /forgot cannot flood an inbox. Wait
// blocks until the jobs have finished (graceful shutdown, tests).
//
// # Setting the new password
//
// One transaction consumes the link, sets the hash of
// pwpolicy.Normalize(password) after Policy.Check (the refusal shown
// translated), moves PasswordChangedAt (which makes every refresh token of
// the person fail), deletes the TOTP enrollment and the recovery codes,
// writes the audit events and queues the notice mail. After it commits,
// every browser session of the person is ended through Deps.EndSession
// (which also queues the back-channel logouts); sessions live in the
// ephemeral store and EndSession writes the outbox in a transaction of its
// own, so this cannot join the first transaction.
//
// After a reset the account has no second factor: "mfa.cleared" is
// recorded in the usage history, the person is mailed that two-step
// verification was removed, and the next sign-in offers setup again
// (forced where an organization requires it; see package mfa).
//
// # Unverified accounts
//
// An account whose address is not verified can sign in, and the home page
// shows a banner, which should offer a button posting to /verify/resend
// (a new link, throttled like /forgot).
// The rule for organizations, enforced by MayJoinOrganization wherever a
// membership is added (invitation acceptance, an administrator adding a
// user, legacy pre-registration): an unverified account belongs to at most
// ONE organization. Joining its first organization is allowed (the
// invitation that creates an account is that case), as is a change of
// account type within the organization it has; a membership in any other
// organization is refused with the message "recovery.join.unverified"
// until the address is verified. Invitations themselves can be sent to
// any address: refusing them would tell one organization's administrator
// about an account in another.
package recovery
