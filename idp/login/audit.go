package login

// Audit kinds the sign-in pages write besides signin.success,
// signin.failure and signin.denied: each is in the person's history.
const (
	// KindSignInSSO: a service was signed in to with the browser's
	// existing session, without a password (single sign-on).
	KindSignInSSO = "signin.sso"
	// KindSignOutHub: signed out on the hub (its menu, home page or
	// /logout page).
	KindSignOutHub = "signout.hub"
	// KindSignOutService: signed out at a service's request
	// (RP-initiated logout, with or without the confirmation page).
	KindSignOutService = "signout.service"
)
