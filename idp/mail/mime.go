package mail

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"time"
)

// envelope is a rendered message with its SMTP envelope.
type envelope struct {
	From, To  string // bare addresses for MAIL FROM and RCPT TO
	MessageID string // with angle brackets
	Raw       []byte // RFC 5322 message, CRLF line endings
}

// idRe is what a Message-ID left part may hold.
var idRe = regexp.MustCompile(`^[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]{1,128}$`)

// render writes m from `from` at date as a MIME message: multipart/
// alternative with a text and an HTML part (text/plain alone without
// HTML), quoted-printable UTF-8, the subject as RFC 2047 Q-encoded words.
// rnd supplies the boundary and, when m.ID is "", the Message-ID.
func render(m Message, from *mail.Address, date time.Time, rnd io.Reader) (envelope, error) {
	if err := m.validate(); err != nil {
		return envelope{}, err
	}
	to, _ := parseAddress(m.To)
	var nonce [16]byte
	if _, err := io.ReadFull(rnd, nonce[:]); err != nil {
		return envelope{}, fmt.Errorf("random: %w", err)
	}
	local := m.ID
	if local == "" {
		local = hex.EncodeToString(nonce[:])
	}
	if !idRe.MatchString(local) {
		return envelope{}, fmt.Errorf("message ID %q has characters a Message-ID cannot", local)
	}
	_, domain, _ := strings.Cut(from.Address, "@")
	msgID := "<" + local + "@" + domain + ">"
	subject := strings.Join(strings.Fields(m.Subject), " ") // no line breaks in a header

	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", subject))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", msgID)
	header("MIME-Version", "1.0")
	header("Auto-Submitted", "auto-generated")
	if m.HTML == "" {
		header("Content-Type", "text/plain; charset=utf-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQP(&b, m.Text); err != nil {
			return envelope{}, err
		}
		return envelope{From: from.Address, To: to.Address, MessageID: msgID, Raw: b.Bytes()}, nil
	}
	mw := multipart.NewWriter(&b)
	if err := mw.SetBoundary("hubid-" + hex.EncodeToString(nonce[8:]) + "-" + hex.EncodeToString(nonce[:8])); err != nil {
		return envelope{}, err
	}
	header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	for _, part := range []struct{ ctype, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.ctype + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return envelope{}, err
		}
		if err := writeQP(w, part.body); err != nil {
			return envelope{}, err
		}
	}
	if err := mw.Close(); err != nil {
		return envelope{}, err
	}
	b.WriteString("\r\n")
	return envelope{From: from.Address, To: to.Address, MessageID: msgID, Raw: b.Bytes()}, nil
}

// writeQP writes s quoted-printable with CRLF line endings.
func writeQP(w io.Writer, s string) error {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	qp := quotedprintable.NewWriter(w)
	if _, err := io.WriteString(qp, s); err != nil {
		return err
	}
	return qp.Close()
}
