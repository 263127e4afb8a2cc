package adminapi

import (
	"net/http"
	"testing"
)

// TestClientTokenOptions: refresh_id_token and
// access_token_signing_algorithm are created, shown with their defaults,
// patched, and checked by the rules of idp/clients.
func TestClientTokenOptions(t *testing.T) {
	e := newSQLiteEnv(t)
	var c ClientWithSecret
	e.do("POST", Prefix+"/clients", `{"name":"Plain","grant_types":["client_credentials"]}`).want(t, 201).json(t, &c)
	if !c.RefreshIDToken || c.AccessTokenSigningAlgorithm != "RS256" {
		t.Fatalf("defaults: %+v", c.Client)
	}
	e.do("POST", Prefix+"/clients", `{"name":"Lean","grant_types":["client_credentials"],"refresh_id_token":false,"access_token_signing_algorithm":"ES256"}`).
		want(t, 201).json(t, &c)
	if c.RefreshIDToken || c.AccessTokenSigningAlgorithm != "ES256" {
		t.Fatalf("created with options: %+v", c.Client)
	}
	var got Client
	e.do("PATCH", Prefix+"/clients/"+c.ID, `{"refresh_id_token":true}`, "If-Match", "*").want(t, 200).json(t, &got)
	if !got.RefreshIDToken || got.AccessTokenSigningAlgorithm != "ES256" {
		t.Fatalf("patched refresh_id_token only: %+v", got)
	}
	e.do("PATCH", Prefix+"/clients/"+c.ID, `{"access_token_signing_algorithm":"HS256"}`, "If-Match", "*").
		problem(t, http.StatusBadRequest, "invalid")
	e.do("GET", Prefix+"/clients/"+c.ID, nil).want(t, 200).json(t, &got)
	if got.AccessTokenSigningAlgorithm != "ES256" {
		t.Fatalf("a refused patch changed the client: %+v", got)
	}
}
