package mail

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// devMailboxCSP allows nothing but the page's inline style.
const devMailboxCSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// The dev mailbox is a developer tool of `hubid dev`, so its few words
// are English and written here rather than in the i18n tables.
var devPages = template.Must(template.New("list").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Dev mailbox</title>` + devStyle + `</head><body>
<h1>Dev mailbox</h1>
{{if .}}<table><tr><th>Time (UTC)</th><th>To</th><th>Subject</th></tr>
{{range .}}<tr><td>{{.Time.Format "2006-01-02 15:04:05"}}</td><td>{{.To}}</td><td><a href="{{.ID}}">{{.Subject}}</a></td></tr>
{{end}}</table>{{else}}<p>No mail yet.</p>{{end}}
</body></html>`))

var devMessage = template.Must(template.New("show").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Subject}}</title>` + devStyle + `</head><body>
<p><a href="./">&larr; All mail</a> &middot; <a href="{{.ID}}.eml">Raw</a></p>
<table>
<tr><th>From</th><td>{{.From}}</td></tr>
<tr><th>To</th><td>{{.To}}</td></tr>
<tr><th>Date</th><td>{{.Date}}</td></tr>
<tr><th>Subject</th><td>{{.Subject}}</td></tr>
</table>
<pre>{{range .Body}}{{if .URL}}<a href="{{.URL}}">{{.Text}}</a>{{else}}{{.Text}}{{end}}{{end}}</pre>
</body></html>`))

const devStyle = `<style>body{font-family:sans-serif;margin:2em;color:#1f2328}table{border-collapse:collapse}` +
	`th,td{text-align:left;padding:.3em .8em;border-bottom:1px solid #ddd;vertical-align:top}` +
	`pre{white-space:pre-wrap;background:#f6f8fa;padding:1em;border-radius:6px;max-width:60em}</style>`

// devID is what an entry ID looks like (hex), so a path never reaches the
// file system unchecked.
var devID = regexp.MustCompile(`^[0-9a-f]{1,64}$`)

// DevMailbox serves the mail a DirSender wrote into dir: the list, newest
// first, at the mount point (mux.Handle("/dev/mail/", ...)); one message,
// its text with links made clickable, at <mount>/<id>; the raw message at
// <mount>/<id>.eml. Mount it only under `hubid dev`.
func DevMailbox(dir string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", devMailboxCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		entries, err := readIndex(dir)
		if err != nil {
			http.Error(w, "cannot read the mailbox: "+err.Error(), http.StatusInternalServerError)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/") {
			slices.SortStableFunc(entries, func(a, b DevEntry) int { return b.Time.Compare(a.Time) })
			serveHTML(w, devPages, entries)
			return
		}
		base := path.Base(r.URL.Path)
		id, raw := strings.CutSuffix(base, ".eml")
		i := slices.IndexFunc(entries, func(e DevEntry) bool { return e.ID == id })
		if !devID.MatchString(id) || i < 0 {
			http.NotFound(w, r)
			return
		}
		body, err := os.ReadFile(filepath.Join(dir, filepath.Base(entries[i].File)))
		if err != nil {
			http.Error(w, "cannot read the message: "+err.Error(), http.StatusInternalServerError)
			return
		}
		if raw {
			h.Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write(body)
			return
		}
		v, err := parseDevMessage(body)
		if err != nil {
			http.Error(w, "cannot parse the message: "+err.Error(), http.StatusInternalServerError)
			return
		}
		v.ID = id
		serveHTML(w, devMessage, v)
	})
}

func serveHTML(w http.ResponseWriter, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		http.Error(w, "cannot render: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// devView is one message as the dev mailbox shows it.
type devView struct {
	ID, From, To, Date, Subject string
	Body                        []segment
}

// segment is a run of text, a link when URL is set.
type segment struct{ Text, URL string }

// urlRe finds http(s) URLs in a text body.
var urlRe = regexp.MustCompile(`https?://[^\s<>"]+`)

// linkify splits text into plain runs and links; trailing punctuation is
// not part of a link.
func linkify(text string) []segment {
	var out []segment
	last := 0
	for _, loc := range urlRe.FindAllStringIndex(text, -1) {
		u := strings.TrimRight(text[loc[0]:loc[1]], ".,;:!?)]'")
		end := loc[0] + len(u)
		if loc[0] > last {
			out = append(out, segment{Text: text[last:loc[0]]})
		}
		out = append(out, segment{Text: u, URL: u})
		last = end
	}
	if last < len(text) {
		out = append(out, segment{Text: text[last:]})
	}
	return out
}

// parseDevMessage reads the headers and the text part of a message.
func parseDevMessage(raw []byte) (devView, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return devView{}, err
	}
	v := devView{
		From: decodeHeader(msg.Header.Get("From")), To: decodeHeader(msg.Header.Get("To")),
		Date: msg.Header.Get("Date"), Subject: decodeHeader(msg.Header.Get("Subject")),
	}
	if d, err := msg.Header.Date(); err == nil {
		v.Date = d.UTC().Format(time.RFC1123)
	}
	text, err := textPart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	if err != nil {
		return devView{}, err
	}
	v.Body = linkify(text)
	return v, nil
}

// textPart returns the text/plain body of a single-part or multipart
// message.
func textPart(ctype, encoding string, body io.Reader) (string, error) {
	media, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return "", fmt.Errorf("content type: %w", err)
	}
	switch {
	case media == "text/plain":
		if strings.EqualFold(encoding, "quoted-printable") {
			body = quotedprintable.NewReader(body)
		}
		b, err := io.ReadAll(body)
		return strings.ReplaceAll(string(b), "\r\n", "\n"), err
	case strings.HasPrefix(media, "multipart/"):
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart() // decodes quoted-printable
			if err != nil {
				return "", fmt.Errorf("no text part: %w", err)
			}
			if t, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); t == "text/plain" {
				b, err := io.ReadAll(p)
				return strings.ReplaceAll(string(b), "\r\n", "\n"), err
			}
		}
	}
	return "", errors.New("no text part")
}
