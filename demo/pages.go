package demo

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"
)

//go:embed assets/*.html assets/style.css
var assets embed.FS

// pages holds the parsed templates and the stylesheet.
type pages struct {
	tmpl  map[string]*template.Template
	style []byte
}

func loadPages() (*pages, error) {
	p := &pages{tmpl: make(map[string]*template.Template)}
	for _, name := range []string{"home", "error"} {
		t, err := template.ParseFS(assets, "assets/layout.html", "assets/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("demo: parse %s page: %w", name, err)
		}
		p.tmpl[name] = t
	}
	style, err := assets.ReadFile("assets/style.css")
	if err != nil {
		return nil, fmt.Errorf("demo: read stylesheet: %w", err)
	}
	p.style = style
	return p, nil
}

// render executes a page into a buffer first, so that a template error
// never leaves half a page behind.
func (p *pages) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := p.tmpl[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (p *pages) serveStyle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeContent(w, r, "style.css", time.Time{}, bytes.NewReader(p.style))
}

type errorData struct {
	App     string
	Message string
}

type claimRow struct{ Name, Value string }

type homeData struct {
	App      string
	OtherURL string
	SignedIn bool
	Name     string
	Email    string
	Claims   []claimRow
	Org      *orgClaim  // the `org` claim: the organization of this sign-in
	Orgs     []orgClaim // the `orgs` claim
}

// orgClaim is one organization of the `orgs` and `org` claims.
type orgClaim struct {
	ID   string `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// orgClaims reads the organization claims (scope roles); a claim that is
// absent or malformed shows nothing.
func orgClaims(claims map[string]json.RawMessage) (*orgClaim, []orgClaim) {
	var org *orgClaim
	if raw, ok := claims["org"]; ok {
		var o orgClaim
		if json.Unmarshal(raw, &o) == nil && o.Code != "" {
			org = &o
		}
	}
	var list []orgClaim
	if raw, ok := claims["orgs"]; ok && json.Unmarshal(raw, &list) != nil {
		list = nil
	}
	return org, list
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	d := homeData{App: a.cfg.Name, OtherURL: a.cfg.OtherURL}
	if s, _ := a.current(r); s != nil {
		d.SignedIn, d.Name, d.Email = true, s.Name, s.Email
		if d.Name == "" {
			d.Name = s.Subject
		}
		d.Claims = claimRows(s.Claims)
		d.Org, d.Orgs = orgClaims(s.Claims)
	}
	a.pages.render(w, http.StatusOK, "home", d)
}

// claimRows lists the claims sorted by name, each value pretty-printed
// JSON (escaping is left to html/template).
func claimRows(claims map[string]json.RawMessage) []claimRow {
	rows := make([]claimRow, 0, len(claims))
	for k, v := range claims {
		rows = append(rows, claimRow{Name: k, Value: prettyJSON(v)})
	}
	slices.SortFunc(rows, func(x, y claimRow) int { return strings.Compare(x.Name, y.Name) })
	return rows
}

// prettyJSON indents v and undoes encoding/json's \u003c-style escapes
// (the page escapes for HTML); numbers are kept as written.
func prettyJSON(v json.RawMessage) string {
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return string(v)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(x); err != nil {
		return string(v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}
