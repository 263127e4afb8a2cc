package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/customerhub/hubid/idp/clients"
	"github.com/customerhub/hubid/idp/oidcstore"
	"github.com/customerhub/hubid/store"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

type clientJSON struct {
	ID                     string                `json:"id"`
	Name                   string                `json:"name"`
	Service                string                `json:"service,omitempty"`
	HomeURL                string                `json:"home_url,omitempty"`
	RedirectURIs           []string              `json:"redirect_uris"`
	PostLogoutRedirectURIs []string              `json:"post_logout_redirect_uris,omitempty"`
	BackchannelLogoutURI   string                `json:"backchannel_logout_uri,omitempty"`
	GrantTypes             []string              `json:"grant_types"`
	Public                 bool                  `json:"public"`
	FirstParty             bool                  `json:"first_party"`
	AccessTokenType        store.AccessTokenType `json:"access_token_type"`
	// RefreshIDToken false: refresh answers carry no ID token.
	RefreshIDToken              bool      `json:"refresh_id_token"`
	AccessTokenSigningAlgorithm string    `json:"access_token_signing_algorithm"`
	CreatedAt                   time.Time `json:"created_at"`
	UpdatedAt                   time.Time `json:"updated_at"`
	Secret                      string    `json:"secret,omitempty"` // create and rotate-secret only
}

func (c *opCmd) clientOut(cl store.Client, secret string) clientJSON {
	svc := cl.ServiceID
	if v, err := c.env.durable.GetService(c.ctx, cl.ServiceID); err == nil {
		svc = v.Code
	}
	return clientJSON{ID: cl.ID, Name: cl.Name, Service: svc, HomeURL: cl.HomeURL, RedirectURIs: cl.RedirectURIs,
		PostLogoutRedirectURIs: cl.PostLogoutRedirectURIs, BackchannelLogoutURI: cl.BackchannelLogoutURI,
		GrantTypes: cl.GrantTypes, Public: cl.Public, FirstParty: cl.FirstParty, AccessTokenType: cl.AccessTokenType,
		RefreshIDToken: !cl.OmitRefreshIDToken, AccessTokenSigningAlgorithm: oidcstore.AccessAlgorithm(cl),
		CreatedAt: cl.CreatedAt, UpdatedAt: cl.UpdatedAt, Secret: secret}
}

// clientSpec are the flags of clients create and update.
type clientSpec struct {
	id, name, service, home, backchannel, tokenType, tokenAlg *string
	redirects, logouts, grants                                listFlag
	public, firstParty                                        *bool
	refreshIDToken                                            optionalBool
}

// optionalBool is a boolean flag that remembers whether it was given
// (update changes only what was given).
type optionalBool struct{ set, v bool }

func (b *optionalBool) String() string   { return fmt.Sprint(b.v) }
func (b *optionalBool) IsBoolFlag() bool { return true }
func (b *optionalBool) Set(v string) error {
	x, err := strconv.ParseBool(v)
	if err != nil {
		return err
	}
	b.set, b.v = true, x
	return nil
}

func (s *clientSpec) flags(fs *flag.FlagSet, create bool) {
	if create {
		s.id = fs.String("id", "", "client ID (default: generated)")
		s.public = fs.Bool("public", false, "a public client (no secret; PKCE)")
		s.firstParty = fs.Bool("first-party", true, "a service of the hub (no consent screen)")
	}
	s.name = fs.String("name", "", "display name")
	s.service = fs.String("service", "", "the service (code or ID) the client signs people in to")
	s.home = fs.String("home-url", "", "the service's home page")
	s.backchannel = fs.String("backchannel-logout-uri", "", "back-channel logout endpoint")
	s.tokenType = fs.String("access-token-type", "", "jwt (default) or opaque")
	s.tokenAlg = fs.String("access-token-signing-algorithm", "", "RS256 (default) or ES256: the algorithm of JWT access tokens")
	fs.Var(&s.refreshIDToken, "refresh-id-token", "false: refresh answers carry no ID token (default true)")
	fs.Var(&s.redirects, "redirect-uri", "redirect URI (repeatable)")
	fs.Var(&s.logouts, "post-logout-redirect-uri", "post-logout redirect URI (repeatable)")
	fs.Var(&s.grants, "grant-type", "authorization_code, refresh_token, client_credentials (repeatable; default the first two)")
}

// apply sets what the flags give on cl (for update: only flags given).
func (s *clientSpec) apply(c *opCmd, cl *store.Client) error {
	if *s.service != "" {
		v, err := c.svc.Service(c.ctx, *s.service)
		if err != nil {
			return err
		}
		cl.ServiceID = v.ID
	}
	for _, f := range []struct {
		v   string
		dst *string
	}{{*s.name, &cl.Name}, {*s.home, &cl.HomeURL}, {*s.backchannel, &cl.BackchannelLogoutURI}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	if *s.tokenType != "" {
		cl.AccessTokenType = store.AccessTokenType(*s.tokenType)
	}
	if *s.tokenAlg != "" {
		cl.AccessTokenSigningAlgorithm = strings.ToUpper(*s.tokenAlg)
	}
	if s.refreshIDToken.set {
		cl.OmitRefreshIDToken = !s.refreshIDToken.v
	}
	if len(s.redirects) > 0 {
		cl.RedirectURIs = s.redirects
	}
	if len(s.logouts) > 0 {
		cl.PostLogoutRedirectURIs = s.logouts
	}
	if len(s.grants) > 0 {
		cl.GrantTypes = s.grants
	}
	return nil
}

var clientsOrder = []string{"list", "show", "create", "update", "rotate-secret", "delete"}

// cmdClients is `hubid clients ...`: registration by the rules of
// idp/clients; a generated secret is printed once.
func cmdClients(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	spec := &clientSpec{}
	actor := cliActor.AuditID()
	show := func(c *opCmd, cl store.Client, secret string) error {
		out := c.clientOut(cl, secret)
		return c.emit(out, func(w io.Writer) {
			fmt.Fprintf(w, "id\t%s\nname\t%s\nservice\t%s\nredirect_uris\t%s\ngrant_types\t%s\npublic\t%v\nfirst_party\t%v\naccess_token_type\t%s\nrefresh_id_token\t%v\naccess_token_signing_algorithm\t%s\n",
				out.ID, out.Name, out.Service, strings.Join(out.RedirectURIs, " "), strings.Join(out.GrantTypes, " "),
				out.Public, out.FirstParty, out.AccessTokenType, out.RefreshIDToken, out.AccessTokenSigningAlgorithm)
			if secret != "" {
				fmt.Fprintf(w, "secret\t%s\t(shown once: store it now)\n", secret)
			}
		})
	}
	ops := map[string]operation{
		"list": {run: func(c *opCmd) error {
			cs, err := c.env.durable.ListClients(c.ctx)
			if err != nil {
				return err
			}
			out := make([]clientJSON, 0, len(cs))
			for _, cl := range cs {
				out = append(out, c.clientOut(cl, ""))
			}
			return c.emit(out, func(w io.Writer) {
				fmt.Fprintln(w, "ID\tNAME\tSERVICE\tPUBLIC")
				for _, cl := range out {
					fmt.Fprintf(w, "%s\t%s\t%s\t%v\n", cl.ID, cl.Name, cl.Service, cl.Public)
				}
			})
		}},
		"show": {args: []string{"ID"}, run: func(c *opCmd) error {
			cl, err := c.env.durable.GetClient(c.ctx, c.args[0])
			if err != nil {
				return err
			}
			return show(c, cl, "")
		}},
		"create": {flags: func(fs *flag.FlagSet) { spec.flags(fs, true) }, run: func(c *opCmd) error {
			if *spec.service == "" {
				return badInput("clients create: --service is required")
			}
			cl := store.Client{ID: *spec.id, Public: *spec.public, FirstParty: *spec.firstParty,
				GrantTypes: []string{"authorization_code", "refresh_token"}}
			if err := spec.apply(c, &cl); err != nil {
				return err
			}
			cl, secret, err := clients.Register(c.ctx, c.env.durable, cl, actor, c.now(), c.random)
			if err != nil {
				return err
			}
			return show(c, cl, secret)
		}},
		"update": {args: []string{"ID"}, flags: func(fs *flag.FlagSet) { spec.flags(fs, false) }, run: func(c *opCmd) error {
			cl, err := clients.Update(c.ctx, c.env.durable, c.args[0], func(cl *store.Client) error { return spec.apply(c, cl) }, actor, c.now())
			if err != nil {
				return err
			}
			return show(c, cl, "")
		}},
		"rotate-secret": {args: []string{"ID"}, run: func(c *opCmd) error {
			secret, err := clients.RotateSecret(c.ctx, c.env.durable, c.args[0], actor, c.now(), c.random)
			if err != nil {
				return err
			}
			return c.emit(map[string]string{"id": c.args[0], "secret": secret}, func(w io.Writer) {
				fmt.Fprintf(w, "secret\t%s\t(shown once: store it now; the old one no longer works)\n", secret)
			})
		}},
		"delete": {args: []string{"ID"}, run: func(c *opCmd) error {
			if err := clients.Delete(c.ctx, c.env.durable, c.args[0], actor, c.now()); err != nil {
				return err
			}
			return c.done("deleted client " + c.args[0])
		}},
	}
	return runOperations(ctx, "clients", ops, clientsOrder, args, stdout, stderr)
}
