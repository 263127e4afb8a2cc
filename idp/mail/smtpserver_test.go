package mail

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCert returns a self-signed certificate for 127.0.0.1 and localhost
// and a pool that trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "hubid test smtp"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// received is one message the test server accepted.
type received struct {
	From   string
	To     []string
	Data   string
	TLS    bool
	AuthAs string
}

// smtpServer is a minimal SMTP server for tests: EHLO/HELO, STARTTLS,
// AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT. It can be stopped and
// started again on the same port.
type smtpServer struct {
	t        *testing.T
	cert     tls.Certificate
	addr     string // fixed after the first Start
	implicit bool   // TLS from the first byte
	// Behaviour, set before Start.
	noSTARTTLS     bool                     // do not offer STARTTLS
	refuseSTARTTLS bool                     // offer it, answer 454
	user, pass     string                   // AUTH PLAIN credentials; "" = no auth required
	rcpt           func(addr string) string // reply to RCPT TO ("" = 250)

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	wg    sync.WaitGroup
	got   []received
	auths []string // "user tls=true|false" per AUTH command seen
}

func newSMTPServer(t *testing.T, edit func(*smtpServer)) (*smtpServer, *x509.CertPool) {
	t.Helper()
	cert, pool := testCert(t)
	s := &smtpServer{t: t, cert: cert, addr: "127.0.0.1:0", conns: map[net.Conn]bool{}}
	if edit != nil {
		edit(s)
	}
	s.Start()
	t.Cleanup(s.Stop)
	return s, pool
}

func (s *smtpServer) tlsConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{s.cert}, MinVersion: tls.VersionTLS12}
}

// Start listens on the server's address (a free port the first time).
func (s *smtpServer) Start() {
	s.t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatalf("smtp server: listen: %v", err)
	}
	if s.implicit {
		ln = tls.NewListener(ln, s.tlsConfig())
	}
	s.mu.Lock()
	s.ln, s.addr = ln, ln.Addr().String()
	s.mu.Unlock()
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = true
			s.mu.Unlock()
			s.wg.Go(func() {
				defer func() {
					_ = c.Close()
					s.mu.Lock()
					delete(s.conns, c)
					s.mu.Unlock()
				}()
				s.session(c)
			})
		}
	})
}

// Stop closes the listener and every connection and waits for them.
func (s *smtpServer) Stop() {
	s.mu.Lock()
	if s.ln != nil {
		_ = s.ln.Close()
		s.ln = nil
	}
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *smtpServer) port() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ln.Addr().(*net.TCPAddr).Port
}

func (s *smtpServer) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

func (s *smtpServer) authCommands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auths...)
}

// session speaks SMTP on one connection until QUIT or an error.
func (s *smtpServer) session(c net.Conn) {
	_, isTLS := c.(*tls.Conn)
	tc := textproto.NewConn(c)
	reply := func(format string, args ...any) bool { return tc.PrintfLine(format, args...) == nil }
	if !reply("220 test.example ESMTP ready") {
		return
	}
	var (
		helo, authed bool
		authAs       string
		cur          *received
	)
	for {
		line, err := tc.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			helo, cur = true, nil
			// AUTH is offered in clear too, as a server behind a STARTTLS
			// stripper would: the client must refuse it on its own.
			lines := []string{"test.example", "8BITMIME", "AUTH PLAIN"}
			if !isTLS && !s.noSTARTTLS {
				lines = append(lines, "STARTTLS")
			}
			for i, l := range lines {
				sep := "-"
				if i == len(lines)-1 {
					sep = " "
				}
				if !reply("250%s%s", sep, l) {
					return
				}
			}
		case "STARTTLS":
			switch {
			case isTLS || s.noSTARTTLS:
				reply("502 5.5.1 not available")
			case s.refuseSTARTTLS:
				reply("454 4.7.0 TLS not available now")
			default:
				if !reply("220 2.0.0 go ahead") {
					return
				}
				tlsConn := tls.Server(c, s.tlsConfig())
				if err := tlsConn.Handshake(); err != nil {
					return
				}
				c, isTLS, helo, cur = tlsConn, true, false, nil
				tc = textproto.NewConn(c)
			}
		case "AUTH":
			mech, initial, _ := strings.Cut(arg, " ")
			if !strings.EqualFold(mech, "PLAIN") {
				reply("504 5.5.4 mechanism not supported")
				continue
			}
			if initial == "" {
				if !reply("334 ") {
					return
				}
				if initial, err = tc.ReadLine(); err != nil {
					return
				}
			}
			raw, _ := base64.StdEncoding.DecodeString(initial)
			parts := strings.Split(string(raw), "\x00")
			s.mu.Lock()
			if len(parts) == 3 {
				s.auths = append(s.auths, parts[1]+" tls="+map[bool]string{true: "true", false: "false"}[isTLS])
			}
			s.mu.Unlock()
			if len(parts) == 3 && parts[1] == s.user && parts[2] == s.pass {
				authed, authAs = true, parts[1]
				reply("235 2.7.0 authenticated")
			} else {
				reply("535 5.7.8 bad credentials")
			}
		case "MAIL":
			switch {
			case !helo:
				reply("503 5.5.1 EHLO first")
			case s.user != "" && !authed:
				reply("530 5.7.0 authentication required")
			default:
				cur = &received{From: addrArg(arg), TLS: isTLS, AuthAs: authAs}
				reply("250 2.1.0 ok")
			}
		case "RCPT":
			if cur == nil {
				reply("503 5.5.1 MAIL first")
				continue
			}
			to := addrArg(arg)
			if s.rcpt != nil {
				if r := s.rcpt(to); r != "" {
					reply("%s", r)
					continue
				}
			}
			cur.To = append(cur.To, to)
			reply("250 2.1.5 ok")
		case "DATA":
			if cur == nil || len(cur.To) == 0 {
				reply("503 5.5.1 RCPT first")
				continue
			}
			if !reply("354 end with <CRLF>.<CRLF>") {
				return
			}
			data, err := tc.ReadDotBytes()
			if err != nil {
				return
			}
			cur.Data = string(data)
			s.mu.Lock()
			s.got = append(s.got, *cur)
			s.mu.Unlock()
			cur = nil
			reply("250 2.0.0 queued")
		case "RSET":
			cur = nil
			reply("250 2.0.0 ok")
		case "NOOP":
			reply("250 2.0.0 ok")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("502 5.5.2 not implemented")
		}
	}
}

// addrArg extracts the address from "FROM:<a@b> BODY=8BITMIME".
func addrArg(arg string) string {
	_, rest, _ := strings.Cut(arg, ":")
	rest, _, _ = strings.Cut(strings.TrimSpace(rest), " ")
	return strings.Trim(rest, "<>")
}
