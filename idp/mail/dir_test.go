package mail

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/customerhub/hubid/idp/outbox"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

func get(t *testing.T, srv *httptest.Server, path string) (int, http.Header, string) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

func TestDirSenderAndDevMailbox(t *testing.T) {
	clk := newClock()
	dir := filepath.Join(t.TempDir(), "mail")
	d, err := NewDirSender(dir, DirConfig{From: fromAddr, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	c := newComposer(t)
	first, err := c.Compose(KindPasswordReset, language.Japanese, "taro@example.com", LinkData{Name: "<Taro>", Link: link, ExpiresMinutes: 30})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Send(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	second := Message{To: "hanako@example.com", Subject: "Second <b>", Text: "See https://a.example/x?y=1&z=2. <script>alert(1)</script>"}
	if err := d.Send(context.Background(), second); err != nil {
		t.Fatal(err)
	}

	body, err := os.ReadFile(filepath.Join(dir, indexFile))
	if err != nil {
		t.Fatal(err)
	}
	var entries []DevEntry
	if err := json.Unmarshal(body, &entries); err != nil || len(entries) != 2 {
		t.Fatalf("index = %s, %v", body, err)
	}
	if e := entries[0]; !strings.HasPrefix(e.File, "20260301T090000.000000000Z-"+e.ID) || !strings.HasSuffix(e.File, ".eml") ||
		e.To != "taro@example.com" || e.Subject != first.Subject || !e.Time.Equal(newClock().Now()) {
		t.Errorf("first entry = %+v", e)
	}
	if _, err := os.Stat(filepath.Join(dir, entries[1].File)); err != nil {
		t.Errorf("second file: %v", err)
	}

	mux := http.NewServeMux()
	mux.Handle("/dev/mail/", DevMailbox(dir))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	status, h, list := get(t, srv, "/dev/mail") // redirected to /dev/mail/
	if status != http.StatusOK || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("list: %d %v", status, h)
	}
	i1, i2 := strings.Index(list, first.Subject), strings.Index(list, "Second &lt;b&gt;")
	if i1 < 0 || i2 < 0 || i2 > i1 {
		t.Errorf("list should show both, newest first:\n%s", list)
	}
	if !strings.Contains(list, `href="`+entries[0].ID+`"`) || !strings.Contains(list, "hanako@example.com") {
		t.Errorf("list lacks a link or a recipient:\n%s", list)
	}

	status, _, show := get(t, srv, "/dev/mail/"+entries[0].ID)
	if status != http.StatusOK {
		t.Fatalf("show: %d", status)
	}
	for _, want := range []string{
		first.Subject, "taro@example.com", "Customer Hub", // headers, decoded
		`<a href="` + strings.ReplaceAll(link, "&", "&amp;") + `">`, // the link, clickable
		"&lt;Taro&gt;", // the text, escaped
	} {
		if !strings.Contains(show, want) {
			t.Errorf("show lacks %q:\n%s", want, show)
		}
	}

	_, _, show2 := get(t, srv, "/dev/mail/"+entries[1].ID)
	if strings.Contains(show2, "<script>") || !strings.Contains(show2, `<a href="https://a.example/x?y=1&amp;z=2">`) ||
		!strings.Contains(show2, "</a>. &lt;script&gt;") {
		t.Errorf("show should link the URL without its full stop and escape the rest:\n%s", show2)
	}

	status, h, raw := get(t, srv, "/dev/mail/"+entries[1].ID+".eml")
	if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") || !strings.Contains(raw, "Message-ID: <") {
		t.Errorf("raw: %d %v\n%s", status, h, raw)
	}
	for _, path := range []string{"/dev/mail/0123456789abcdef", "/dev/mail/index.json", "/dev/mail/..%2findex.json", "/dev/mail/" + entries[0].File} {
		if status, _, _ := get(t, srv, path); status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, status)
		}
	}
	resp, err := srv.Client().Post(srv.URL+"/dev/mail/", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
}

func TestDevMailboxEmpty(t *testing.T) {
	rec := httptest.NewRecorder()
	DevMailbox(t.TempDir()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/dev/mail/", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "No mail yet") {
		t.Errorf("empty mailbox: %d %s", rec.Code, rec.Body)
	}
}

func TestDirSenderThroughTheWorker(t *testing.T) {
	clk := newClock()
	st := storetest.OpenSQLite(t, clk.Now)
	dir := t.TempDir()
	d, err := NewDirSender(dir, DirConfig{From: fromAddr, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	w := newMailWorker(t, st, d, clk)
	for range 6 {
		enqueueTx(t, st, Message{To: "a@example.com", Subject: "s", Text: "t", HTML: "<p>t</p>"})
	}
	runOnce(t, w, 6, 0)
	entries, err := readIndex(dir)
	if err != nil || len(entries) != 6 {
		t.Fatalf("index: %d entries, %v", len(entries), err)
	}
}

func TestLinkify(t *testing.T) {
	got := linkify("Open (https://a.example/p?q=1) or http://b.example/x.\nDone")
	want := []segment{
		{Text: "Open ("}, {Text: "https://a.example/p?q=1", URL: "https://a.example/p?q=1"},
		{Text: ") or "}, {Text: "http://b.example/x", URL: "http://b.example/x"}, {Text: ".\nDone"},
	}
	if len(got) != len(want) {
		t.Fatalf("linkify = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("segment %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestEnqueueWritesOneMailMessageInTheCallersTransaction(t *testing.T) {
	clk := newClock()
	st := storetest.OpenSQLite(t, clk.Now)
	ctx := context.Background()
	m := Message{To: "a@example.com", Subject: "件名", Text: "本文", HTML: "<p>本文</p>"}

	rollback := errors.New("rollback")
	err := st.InTx(ctx, func(tx store.Durable) error {
		if err := Enqueue(ctx, tx, m); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	if msgs, _ := st.ClaimOutbox(ctx, OutboxKind, clk.Now(), time.Minute, 10); len(msgs) != 0 {
		t.Fatalf("a rolled-back mail was queued: %+v", msgs)
	}

	id := enqueueTx(t, st, m)
	om := getOutbox(t, st, id)
	var got Message
	if err := json.Unmarshal(om.Payload, &got); err != nil || got != m || om.Kind != "mail" || !om.NextAttempt.Equal(clk.Now()) {
		t.Errorf("queued %+v (%v), payload %s", om, err, om.Payload)
	}

	for _, bad := range []Message{{To: "a@example.com", Subject: "s"}, {To: "x", Subject: "s", Text: "t"}, {To: "a@example.com", Text: "t"}} {
		if err := Enqueue(ctx, st, bad); err == nil {
			t.Errorf("Enqueue accepted %+v", bad)
		}
	}
}

func TestWorkerGivesUpABadPayload(t *testing.T) {
	clk := newClock()
	st := storetest.OpenSQLite(t, clk.Now)
	ctx := context.Background()
	ids := []int64{}
	for _, p := range []string{"{", `{"to":"nobody","subject":"s","text":"t"}`} {
		id, err := st.EnqueueOutbox(ctx, store.OutboxMessage{Kind: OutboxKind, Payload: []byte(p)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	d, err := NewDirSender(t.TempDir(), DirConfig{From: fromAddr, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	runOnce(t, newMailWorker(t, st, d, clk), 0, 2)
	for _, id := range ids {
		if m := getOutbox(t, st, id); m.Attempts != 1 || !m.NextAttempt.IsZero() || !strings.Contains(m.LastError, "bad") {
			t.Errorf("message %d = %+v, want given up", id, m)
		}
	}
	if _, err := NewWorker(st, nil, outbox.Config{}); err == nil {
		t.Error("NewWorker accepted no sender")
	}
}
