package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"time"

	"github.com/customerhub/hubid/idp/outbox"
)

// TLSMode is how an SMTP connection is protected.
type TLSMode string

// TLS modes.
const (
	// TLSStartTLS upgrades a plain connection with STARTTLS, which the
	// server must offer: without it nothing is sent (port 587).
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte (port 465).
	TLSImplicit TLSMode = "implicit"
	// TLSNone sends in clear, for a relay on loopback; AUTH is refused.
	TLSNone TLSMode = "none"
)

// SMTPConfig configures an SMTPSender. Zero fields take the defaults noted.
type SMTPConfig struct {
	Host     string
	Port     int // 587
	Username string
	Password string
	From     string  // the From header and envelope sender
	TLS      TLSMode // starttls
	// RootCAs verifies the server's certificate (the system pool).
	RootCAs *x509.CertPool
	// LocalName is the name sent with EHLO ("localhost").
	LocalName string
	// Timeout bounds one whole SMTP session, from dial to QUIT (30 s).
	Timeout time.Duration
	Now     func() time.Time // Date header (time.Now)
	Rand    io.Reader        // Message-ID and MIME boundary (crypto/rand)
}

// SMTPSender sends each message in its own SMTP session.
//
// It uses net/smtp: frozen but complete for one relay with STARTTLS or
// implicit TLS and AUTH PLAIN, and it adds no dependency; the MIME body is
// built here with the standard library.
type SMTPSender struct {
	cfg  SMTPConfig
	from *mail.Address
	tls  *tls.Config
	addr string
}

var _ Sender = (*SMTPSender)(nil)

// NewSMTPSender checks cfg and returns a sender; every problem is reported
// at once.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	var problems []error
	if cfg.Host == "" {
		problems = append(problems, errors.New("no host"))
	}
	if cfg.Port == 0 {
		cfg.Port = 587
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		problems = append(problems, fmt.Errorf("port %d is not a port", cfg.Port))
	}
	from, err := parseAddress(cfg.From)
	if err != nil {
		problems = append(problems, fmt.Errorf("from: %w", err))
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	switch cfg.TLS {
	case TLSStartTLS, TLSImplicit:
	case TLSNone:
		if cfg.Username != "" {
			problems = append(problems, errors.New("a username with TLS none would send AUTH in clear"))
		}
	default:
		problems = append(problems, fmt.Errorf("TLS mode %q is not starttls, implicit or none", cfg.TLS))
	}
	if cfg.LocalName == "" {
		cfg.LocalName = "localhost"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Timeout < 0 {
		problems = append(problems, fmt.Errorf("timeout %v < 0", cfg.Timeout))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("mail: smtp: %w", errors.Join(problems...))
	}
	return &SMTPSender{
		cfg:  cfg,
		from: from,
		tls:  &tls.Config{ServerName: cfg.Host, RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
	}, nil
}

// Send delivers m in one SMTP session. A 5xx reply to RCPT TO or to the
// message itself is permanent (errors.Is(err, outbox.ErrPermanent)); every
// other failure, including 5xx replies to EHLO, STARTTLS, AUTH and MAIL
// FROM, which point at our configuration or the relay rather than at this
// message, is worth a retry.
func (s *SMTPSender) Send(ctx context.Context, m Message) (err error) {
	env, err := render(m, s.from, s.cfg.Now(), s.cfg.Rand)
	if err != nil {
		return outbox.Permanent(fmt.Errorf("mail: smtp: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	defer func() {
		if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
	}()
	conn, err := s.dial(ctx)
	if err != nil {
		return fmt.Errorf("mail: smtp: dial %s: %w", s.addr, err)
	}
	defer conn.Close()
	// Closing the connection when ctx ends (the timeout included) unblocks
	// any read or write; the deferred check above then reports ctx's error.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		return fmt.Errorf("mail: smtp: greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(s.cfg.LocalName); err != nil {
		return fmt.Errorf("mail: smtp: EHLO: %w", err)
	}
	if s.cfg.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("mail: smtp: the server does not offer STARTTLS; nothing sent")
		}
		if err := c.StartTLS(s.tls); err != nil {
			return fmt.Errorf("mail: smtp: STARTTLS: %w", err)
		}
	}
	if s.cfg.Username != "" {
		if _, ok := c.TLSConnectionState(); !ok {
			return errors.New("mail: smtp: refusing to send AUTH over an unencrypted connection")
		}
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return fmt.Errorf("mail: smtp: AUTH: %w", err)
		}
	}
	if err := c.Mail(env.From); err != nil {
		return fmt.Errorf("mail: smtp: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(env.To); err != nil {
		return permanentIf5xx(fmt.Errorf("mail: smtp: RCPT TO: %w", err))
	}
	w, err := c.Data()
	if err != nil {
		return permanentIf5xx(fmt.Errorf("mail: smtp: DATA: %w", err))
	}
	if _, err := w.Write(env.Raw); err != nil {
		return fmt.Errorf("mail: smtp: write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return permanentIf5xx(fmt.Errorf("mail: smtp: message: %w", err))
	}
	// The server has taken the message; a failed QUIT does not undo it.
	_ = c.Quit()
	return nil
}

// dial connects, in TLS from the start in implicit mode.
func (s *SMTPSender) dial(ctx context.Context) (net.Conn, error) {
	d := &net.Dialer{}
	if s.cfg.TLS == TLSImplicit {
		return (&tls.Dialer{NetDialer: d, Config: s.tls}).DialContext(ctx, "tcp", s.addr)
	}
	return d.DialContext(ctx, "tcp", s.addr)
}

// permanentIf5xx marks err permanent when it carries a 5xx SMTP reply.
func permanentIf5xx(err error) error {
	if tpErr, ok := errors.AsType[*textproto.Error](err); ok && tpErr.Code >= 500 && tpErr.Code < 600 {
		return outbox.Permanent(err)
	}
	return err
}
