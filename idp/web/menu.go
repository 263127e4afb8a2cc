package web

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Menu is the signed-in person's avatar menu, shown by the layout on
// every page of a request that carries one (the hub's guard puts it in
// the request context, WithMenu).
type Menu struct {
	Name, Email string
	// Console: the person administers an organization (link /console/).
	Console bool
}

// Initial is the letter in the avatar: the name's first letter, else the
// email's.
func (m Menu) Initial() string {
	for _, s := range []string{m.Name, m.Email} {
		s = strings.TrimSpace(s)
		if r, _ := utf8.DecodeRuneInString(s); unicode.IsLetter(r) || unicode.IsDigit(r) {
			return strings.ToUpper(string(r))
		}
	}
	return "?"
}

// Label is the name the menu shows beside the avatar: the name, else the
// email.
func (m Menu) Label() string {
	if strings.TrimSpace(m.Name) != "" {
		return m.Name
	}
	return m.Email
}

type menuKey struct{}

// WithMenu returns ctx carrying the avatar menu of its request.
func WithMenu(ctx context.Context, m Menu) context.Context {
	return context.WithValue(ctx, menuKey{}, &m)
}

// MenuFrom returns the menu WithMenu put in ctx, or nil.
func MenuFrom(ctx context.Context) *Menu {
	m, _ := ctx.Value(menuKey{}).(*Menu)
	return m
}
