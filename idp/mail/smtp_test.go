package mail

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/customerhub/hubid/idp/outbox"
	"github.com/customerhub/hubid/store/storetest"
)

const (
	smtpUser = "hubid"
	smtpPass = "s3cret"
	fromAddr = "Customer Hub <noreply@hub.example>"
)

func newSender(t *testing.T, srv *smtpServer, pool *x509.CertPool, clk *storetest.Clock, edit func(*SMTPConfig)) *SMTPSender {
	t.Helper()
	cfg := SMTPConfig{
		Host: "127.0.0.1", Port: srv.port(), Username: smtpUser, Password: smtpPass,
		From: fromAddr, TLS: TLSStartTLS, RootCAs: pool, Timeout: 5 * time.Second, Now: clk.Now,
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := NewSMTPSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func withAuth(s *smtpServer) { s.user, s.pass = smtpUser, smtpPass }

// messageIDs counts the Message-ID headers of what the server received.
func messageIDs(t *testing.T, got []received) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for _, r := range got {
		m, err := mail.ReadMessage(strings.NewReader(r.Data))
		if err != nil {
			t.Fatalf("received an unparsable message: %v", err)
		}
		ids[m.Header.Get("Message-ID")]++
	}
	return ids
}

func TestStopQueueRestartDeliversEveryMessageExactlyOnce(t *testing.T) {
	clk := newClock()
	st := storetest.OpenSQLite(t, clk.Now)
	srv, pool := newSMTPServer(t, withAuth)
	w := newMailWorker(t, st, newSender(t, srv, pool, clk, nil), clk)
	c := newComposer(t)

	srv.Stop()
	var ids []int64
	for i, kind := range Kinds {
		data := map[string]any{"Name": fmt.Sprintf("User %d", i), "Link": link, "ExpiresMinutes": 30, "NewEmail": "new@example.com",
			"OrgName": "Alpha", "InviterName": "", "RoleKey": RoleKey("normal"), "ExpiresDays": 7, "ServiceName": "NK-PASS", "Reason": "r", "LoginID": "NKS-1", "Service": "NK-SHIPS", "Org": "Alpha", "Ends": "14 September 2026"}
		lang := []language.Tag{language.English, language.Japanese}[i%2]
		m, err := c.Compose(kind, lang, fmt.Sprintf("user%d@example.com", i), data)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, enqueueTx(t, st, m))
	}

	runOnce(t, w, 0, len(ids)) // the server is down: every attempt fails
	for _, id := range ids {
		if m := getOutbox(t, st, id); m.Attempts != 1 || !m.NextAttempt.Equal(clk.Now().Add(time.Minute)) || !strings.Contains(m.LastError, "dial") {
			t.Fatalf("message %d = %+v, want a retry in 1 min after a dial error", id, m)
		}
	}
	clk.Advance(30 * time.Second)
	runOnce(t, w, 0, 0) // not due yet

	srv.Start() // the same port
	clk.Advance(30 * time.Second)
	runOnce(t, w, len(ids), 0)
	clk.Advance(24 * time.Hour)
	runOnce(t, w, 0, 0)

	got := srv.messages()
	if len(got) != len(ids) {
		t.Errorf("the server got %d messages, want %d", len(got), len(ids))
	}
	count := messageIDs(t, got)
	for i, id := range ids {
		om := getOutbox(t, st, id)
		if om.SentAt.IsZero() || om.Attempts != 1 {
			t.Errorf("message %d = %+v, want sent at the second attempt", id, om)
		}
		mid := fmt.Sprintf("<hubid.%d.%d@hub.example>", id, om.CreatedAt.UnixMicro())
		if count[mid] != 1 {
			t.Errorf("message %d (%s) arrived %d times, want once; got %v", id, mid, count[mid], count)
		}
		if to := fmt.Sprintf("user%d@example.com", i); !slicesHasTo(got, to) {
			t.Errorf("nothing arrived for %s", to)
		}
	}
	for _, r := range got {
		if !r.TLS || r.AuthAs != smtpUser || r.From != "noreply@hub.example" || len(r.To) != 1 {
			t.Errorf("received %+v, want one recipient, over TLS, authenticated", r)
		}
	}
	for _, a := range srv.authCommands() {
		if a != smtpUser+" tls=true" {
			t.Errorf("AUTH seen as %q, want only over TLS", a)
		}
	}
}

func slicesHasTo(got []received, to string) bool {
	return slices.ContainsFunc(got, func(r received) bool { return slices.Contains(r.To, to) })
}

func TestWithoutSTARTTLSNothingIsSentAndTheMessageIsRetried(t *testing.T) {
	for name, edit := range map[string]func(*smtpServer){
		"not offered": func(s *smtpServer) { withAuth(s); s.noSTARTTLS = true },
		"refused":     func(s *smtpServer) { withAuth(s); s.refuseSTARTTLS = true },
	} {
		t.Run(name, func(t *testing.T) {
			clk := newClock()
			st := storetest.OpenSQLite(t, clk.Now)
			srv, pool := newSMTPServer(t, edit)
			w := newMailWorker(t, st, newSender(t, srv, pool, clk, nil), clk)
			id := enqueueTx(t, st, Message{To: "a@example.com", Subject: "s", Text: "t"})

			runOnce(t, w, 0, 1)
			if a := srv.authCommands(); len(a) != 0 {
				t.Errorf("AUTH was sent without TLS: %v", a)
			}
			if got := srv.messages(); len(got) != 0 {
				t.Errorf("a message was sent without TLS: %+v", got)
			}
			m := getOutbox(t, st, id)
			if m.Attempts != 1 || m.NextAttempt.IsZero() || !strings.Contains(m.LastError, "STARTTLS") {
				t.Errorf("message = %+v, want a retry after a STARTTLS error", m)
			}
		})
	}
}

func TestRecipientRepliesDecideBetweenRetryAndGivingUp(t *testing.T) {
	clk := newClock()
	st := storetest.OpenSQLite(t, clk.Now)
	srv, pool := newSMTPServer(t, func(s *smtpServer) {
		withAuth(s)
		s.rcpt = func(to string) string {
			switch {
			case strings.HasPrefix(to, "nobody@"):
				return "550 5.1.1 no such user"
			case strings.HasPrefix(to, "busy@"):
				return "451 4.3.0 try again later"
			}
			return ""
		}
	})
	w := newMailWorker(t, st, newSender(t, srv, pool, clk, nil), clk)
	nobody := enqueueTx(t, st, Message{To: "nobody@example.com", Subject: "s", Text: "t"})
	busy := enqueueTx(t, st, Message{To: "busy@example.com", Subject: "s", Text: "t"})
	ok := enqueueTx(t, st, Message{To: "ok@example.com", Subject: "s", Text: "t"})

	runOnce(t, w, 1, 2)
	if m := getOutbox(t, st, nobody); m.Attempts != 1 || !m.NextAttempt.IsZero() || !strings.Contains(m.LastError, "550") {
		t.Errorf("550: %+v, want given up", m)
	}
	if m := getOutbox(t, st, busy); m.Attempts != 1 || m.NextAttempt.IsZero() || !strings.Contains(m.LastError, "451") {
		t.Errorf("451: %+v, want a retry", m)
	}
	if m := getOutbox(t, st, ok); m.SentAt.IsZero() {
		t.Errorf("ok: %+v, want sent", m)
	}
}

func TestSendWritesMultipartMIME(t *testing.T) {
	clk := newClock()
	srv, pool := newSMTPServer(t, withAuth)
	s := newSender(t, srv, pool, clk, nil)
	m, err := newComposer(t).Compose(KindPasswordReset, language.Japanese, "Taro Yamada <taro@example.com>",
		LinkData{Name: "山田 太郎", Link: link, ExpiresMinutes: 30})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.messages()
	if len(got) != 1 || got[0].To[0] != "taro@example.com" {
		t.Fatalf("received %+v", got)
	}
	msg, err := mail.ReadMessage(strings.NewReader(got[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	dec := new(mime.WordDecoder)
	if subj, err := dec.DecodeHeader(h.Get("Subject")); err != nil || subj != m.Subject || !strings.HasPrefix(h.Get("Subject"), "=?utf-8?q?") {
		t.Errorf("Subject %q decodes to %q, %v; want Q-encoded %q", h.Get("Subject"), subj, err, m.Subject)
	}
	if d, err := h.Date(); err != nil || !d.Equal(clk.Now()) {
		t.Errorf("Date %q = %v, %v; want %v", h.Get("Date"), d, err, clk.Now())
	}
	if id := h.Get("Message-ID"); !regexp.MustCompile(`^<[0-9a-f]{32}@hub\.example>$`).MatchString(id) {
		t.Errorf("Message-ID = %q", id)
	}
	if from, err := h.AddressList("From"); err != nil || from[0].Name != "Customer Hub" || from[0].Address != "noreply@hub.example" {
		t.Errorf("From = %q", h.Get("From"))
	}
	if h.Get("MIME-Version") != "1.0" || h.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("headers = %v", h)
	}
	media, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || media != "multipart/alternative" {
		t.Fatalf("Content-Type = %q", h.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var parts []string
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		body = []byte(strings.ReplaceAll(string(body), "\r\n", "\n"))
		switch ct := p.Header.Get("Content-Type"); ct {
		case "text/plain; charset=utf-8":
			if string(body) != m.Text {
				t.Errorf("text part = %q, want %q", body, m.Text)
			}
		case "text/html; charset=utf-8":
			if string(body) != m.HTML+"\n" && string(body) != m.HTML {
				t.Errorf("HTML part = %q, want %q", body, m.HTML)
			}
		default:
			t.Errorf("unexpected part %q", ct)
		}
		parts = append(parts, p.Header.Get("Content-Type"))
	}
	if len(parts) != 2 {
		t.Errorf("parts = %v, want text and HTML", parts)
	}
	for _, line := range strings.Split(got[0].Data, "\n") {
		if len(line) > 998 {
			t.Errorf("line of %d bytes", len(line))
		}
	}
}

func TestImplicitTLSAndPlainLoopback(t *testing.T) {
	clk := newClock()
	msg := Message{To: "a@example.com", Subject: "Hello", Text: "Plain text only."}

	srv, pool := newSMTPServer(t, func(s *smtpServer) { withAuth(s); s.implicit = true })
	if err := newSender(t, srv, pool, clk, func(c *SMTPConfig) { c.TLS = TLSImplicit }).Send(context.Background(), msg); err != nil {
		t.Fatalf("implicit TLS: %v", err)
	}
	if got := srv.messages(); len(got) != 1 || !got[0].TLS || got[0].AuthAs != smtpUser {
		t.Errorf("implicit TLS: received %+v", got)
	}

	plain, _ := newSMTPServer(t, nil)
	s := newSender(t, plain, nil, clk, func(c *SMTPConfig) { c.TLS, c.Username, c.Password = TLSNone, "", "" })
	if err := s.Send(context.Background(), msg); err != nil {
		t.Fatalf("TLS none: %v", err)
	}
	got := plain.messages()
	if len(got) != 1 || got[0].TLS {
		t.Fatalf("TLS none: received %+v", got)
	}
	if !strings.Contains(got[0].Data, "Content-Type: text/plain; charset=utf-8") || strings.Contains(got[0].Data, "multipart") {
		t.Errorf("a text-only message should be single-part:\n%s", got[0].Data)
	}
}

func TestSMTPFailuresThatAreNotPermanent(t *testing.T) {
	clk := newClock()
	srv, pool := newSMTPServer(t, withAuth)
	msg := Message{To: "a@example.com", Subject: "s", Text: "t"}

	err := newSender(t, srv, pool, clk, func(c *SMTPConfig) { c.Password = "wrong" }).Send(context.Background(), msg)
	if err == nil || errors.Is(err, outbox.ErrPermanent) || !strings.Contains(err.Error(), "535") {
		t.Errorf("bad password: %v, want a retryable AUTH error", err)
	}
	err = newSender(t, srv, x509.NewCertPool(), clk, nil).Send(context.Background(), msg)
	if err == nil || errors.Is(err, outbox.ErrPermanent) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted certificate: %v, want a retryable TLS error", err)
	}
	if a := srv.authCommands(); len(a) != 1 {
		t.Errorf("AUTH commands %v, want only the one with the wrong password", a)
	}

	// A server that accepts and never greets: the session timeout ends it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			_, _ = io.Copy(io.Discard, c)
		}
	}()
	silent, err := NewSMTPSender(SMTPConfig{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, From: fromAddr, TLS: TLSNone, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = silent.Send(context.Background(), msg)
	if err == nil || errors.Is(err, outbox.ErrPermanent) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("silent server: %v, want a deadline error", err)
	}
}

func TestNewSMTPSenderReportsEveryProblem(t *testing.T) {
	_, err := NewSMTPSender(SMTPConfig{Port: 70000, From: "nobody", TLS: "ssl"})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"host", "port", "from", "TLS mode"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	_, err = NewSMTPSender(SMTPConfig{Host: "localhost", From: fromAddr, TLS: TLSNone, Username: "u"})
	if err == nil || !strings.Contains(err.Error(), "in clear") {
		t.Errorf("AUTH without TLS: %v", err)
	}
}
