package idp_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/internal/testenv"
)

const shipsSecret = "ships-secret-0123456789-0123456789-abcd"

// basic is an Authorization header with HTTP Basic client credentials
// (each part form-urlencoded, RFC 6749 §2.3.1).
func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// raw is a hand-made request: what a library client would never send.
type raw struct {
	method, path, query, ctype, body, auth string
}

func (q raw) do(t testing.TB, env *hubtest.Env) (*http.Response, string) {
	t.Helper()
	u := env.URL + q.path
	if q.query != "" {
		u += "?" + q.query
	}
	req, err := http.NewRequest(q.method, u, strings.NewReader(q.body))
	if err != nil {
		t.Fatal(err)
	}
	if q.ctype != "" {
		req.Header.Set("Content-Type", q.ctype)
	}
	if q.auth != "" {
		req.Header.Set("Authorization", q.auth)
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // no redirects followed
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

const form = "application/x-www-form-urlencoded"

// authorizeQuery is a valid authorization request for ships with extra
// raw query text appended (to repeat a parameter or send bad bytes).
func authorizeQuery(extra string) string {
	q := "client_id=ships&response_type=code&scope=openid&code_challenge=" + strings.Repeat("a", 43) +
		"&code_challenge_method=S256&redirect_uri=" + url.QueryEscape("https://ships.example/callback")
	if !strings.Contains(extra, "state=") {
		q += "&state=s"
	}
	return q + extra
}

// TestStrictEndpoints is the table over the OAuth endpoints and the
// sign-in forms: each row is a request a strict server must refuse, with
// the status, OAuth error and header it must answer. No row may answer
// 500 or log an ERROR line, on either backend (PostgreSQL refuses NUL and
// invalid UTF-8 in text, so they must be stopped before storage).
func TestStrictEndpoints(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		var logs testenv.Buffer
		env, _, _, _ := setup(t, backend, func(o *hubtest.Options) { o.Log = &logs })
		ships := basic("ships", shipsSecret)
		wrong := basic("ships", "not-the-secret-0123456789-0123456789")
		code := "grant_type=authorization_code&code=bogus&redirect_uri=" + url.QueryEscape("https://ships.example/callback")
		big := "grant_type=client_credentials&pad=" + strings.Repeat("x", 64<<10)
		verifier := "&code_verifier=" + strings.Repeat("v", 43)
		const page = "page" // an HTML error page, no OAuth error
		for _, tc := range []struct {
			name   string
			req    raw
			status int
			err    string    // OAuth error in the JSON body, or page
			header [2]string // a header and a substring of its value
		}{
			// Token endpoint: client authentication first (1).
			{"token: wrong secret, bogus code", raw{"POST", "/oauth/token", "", form, code + verifier, wrong}, 401, "invalid_client", [2]string{"WWW-Authenticate", "Basic"}},
			{"token: unknown client (Basic)", raw{"POST", "/oauth/token", "", form, code + verifier, basic("nobody", "x")}, 401, "invalid_client", [2]string{"WWW-Authenticate", "Basic"}},
			{"token: unknown client (body)", raw{"POST", "/oauth/token", "", form, code + verifier + "&client_id=nobody&client_secret=x", ""}, 401, "invalid_client", [2]string{}},
			{"token: no client authentication", raw{"POST", "/oauth/token", "", form, code + verifier, ""}, 401, "invalid_client", [2]string{}},
			{"token: unreadable Basic header", raw{"POST", "/oauth/token", "", form, code, "Basic %%%"}, 401, "invalid_client", [2]string{"WWW-Authenticate", "Basic"}},
			// One way to authenticate, one value per parameter (2).
			{"token: repeated grant_type", raw{"POST", "/oauth/token", "", form, "grant_type=client_credentials&grant_type=client_credentials", ships}, 400, "invalid_request", [2]string{}},
			{"token: repeated code", raw{"POST", "/oauth/token", "", form, code + "&code=other", ships}, 400, "invalid_request", [2]string{}},
			{"token: repeated redirect_uri", raw{"POST", "/oauth/token", "", form, code + "&redirect_uri=https%3A%2F%2Fevil.example%2F", ships}, 400, "invalid_request", [2]string{}},
			{"token: repeated client_id", raw{"POST", "/oauth/token", "", form, code + "&client_id=pass&client_id=pass", ""}, 400, "invalid_request", [2]string{}},
			{"token: body client_id differs from Basic", raw{"POST", "/oauth/token", "", form, "grant_type=client_credentials&client_id=pass", ships}, 400, "invalid_request", [2]string{}},
			{"token: Basic and body secret", raw{"POST", "/oauth/token", "", form, "grant_type=client_credentials&client_secret=" + shipsSecret, ships}, 400, "invalid_request", [2]string{}},
			// POST only, body only, forms only, bounded (3).
			{"token: GET", raw{"GET", "/oauth/token", "grant_type=client_credentials", "", "", ships}, 405, "invalid_request", [2]string{"Allow", "POST"}},
			{"token: query parameters", raw{"POST", "/oauth/token", "grant_type=client_credentials", form, "", ships}, 400, "invalid_request", [2]string{}},
			{"token: multipart", raw{"POST", "/oauth/token", "", "multipart/form-data; boundary=x",
				"--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--x--\r\n", ships}, 400, "invalid_request", [2]string{}},
			{"token: JSON body", raw{"POST", "/oauth/token", "", "application/json", `{"grant_type":"client_credentials"}`, ships}, 400, "invalid_request", [2]string{}},
			{"token: 64 KiB body", raw{"POST", "/oauth/token", "", form, big, ships}, 413, "invalid_request", [2]string{}},
			// PKCE verifier syntax before anything is looked up (4).
			{"token: short verifier", raw{"POST", "/oauth/token", "", form, code + "&code_verifier=short", ships}, 400, "invalid_grant", [2]string{}},
			// Bad text in identifiers (7).
			{"token: NUL in client_id", raw{"POST", "/oauth/token", "", form, code + verifier + "&client_id=pa%00ss", ""}, 400, "invalid_request", [2]string{}},
			{"token: invalid UTF-8 in client_id", raw{"POST", "/oauth/token", "", form, code + verifier + "&client_id=%ff%fe", ""}, 400, "invalid_request", [2]string{}},
			{"token: NUL in Basic client_id", raw{"POST", "/oauth/token", "", form, code + verifier, basic("shi\x00ps", "x")}, 401, "invalid_client", [2]string{"WWW-Authenticate", "Basic"}},
			// Introspection and revocation (2, 3).
			{"introspect: GET", raw{"GET", "/oauth/introspect", "token=x", "", "", ships}, 405, "invalid_request", [2]string{"Allow", "POST"}},
			{"introspect: query parameters", raw{"POST", "/oauth/introspect", "token=x", form, "", ships}, 400, "invalid_request", [2]string{}},
			{"introspect: repeated token", raw{"POST", "/oauth/introspect", "", form, "token=x&token=y", ships}, 400, "invalid_request", [2]string{}},
			{"introspect: wrong secret", raw{"POST", "/oauth/introspect", "", form, "token=x", wrong}, 401, "invalid_client", [2]string{"WWW-Authenticate", "Basic"}},
			{"introspect: 64 KiB body", raw{"POST", "/oauth/introspect", "", form, "token=" + strings.Repeat("x", 64<<10), ships}, 413, "invalid_request", [2]string{}},
			{"introspect: multipart", raw{"POST", "/oauth/introspect", "", "multipart/form-data; boundary=x", "--x--\r\n", ships}, 400, "invalid_request", [2]string{}},
			{"revoke: GET", raw{"GET", "/revoke", "token=x", "", "", ships}, 405, "invalid_request", [2]string{"Allow", "POST"}},
			{"revoke: query parameters", raw{"POST", "/revoke", "token=x", form, "", ships}, 400, "invalid_request", [2]string{}},
			{"revoke: repeated token", raw{"POST", "/revoke", "", form, "token=x&token=y", ships}, 400, "invalid_request", [2]string{}},
			{"revoke: wrong secret", raw{"POST", "/revoke", "", form, "token=x", wrong}, 401, "invalid_client", [2]string{"WWW-Authenticate", "Basic"}},
			{"revoke: NUL in client_id", raw{"POST", "/revoke", "", form, "token=x&client_id=pa%00ss", ""}, 400, "invalid_request", [2]string{}},
			// Userinfo: RFC 6750 errors (5).
			{"userinfo: no token", raw{"GET", "/userinfo", "", "", "", ""}, 401, "", [2]string{"WWW-Authenticate", "Bearer"}},
			{"userinfo: forged token", raw{"GET", "/userinfo", "", "", "", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.x"}, 401, "invalid_token", [2]string{"WWW-Authenticate", `error="invalid_token"`}},
			{"userinfo: 64 KiB body", raw{"POST", "/userinfo", "", form, "access_token=" + strings.Repeat("x", 64<<10), ""}, 413, "invalid_request", [2]string{}},
			// /authorize: repeated parameters and bad text get the error
			// page, never a redirect (2, 7).
			{"authorize: repeated redirect_uri", raw{"GET", "/authorize", authorizeQuery("&redirect_uri=" + url.QueryEscape("https://evil.example/cb")), "", "", ""}, 400, page, [2]string{}},
			{"authorize: repeated client_id", raw{"GET", "/authorize", authorizeQuery("&client_id=pass"), "", "", ""}, 400, page, [2]string{}},
			{"authorize: repeated state", raw{"GET", "/authorize", authorizeQuery("&state=a&state=b"), "", "", ""}, 400, page, [2]string{}},
			{"authorize: NUL in client_id", raw{"GET", "/authorize", strings.Replace(authorizeQuery(""), "client_id=ships", "client_id=sh%00ips", 1), "", "", ""}, 400, page, [2]string{}},
			{"authorize: invalid UTF-8 in client_id", raw{"GET", "/authorize", strings.Replace(authorizeQuery(""), "client_id=ships", "client_id=%c3%28", 1), "", "", ""}, 400, page, [2]string{}},
			{"authorize: NUL in state", raw{"GET", "/authorize", authorizeQuery("&state=a%00b"), "", "", ""}, 400, page, [2]string{}},
			{"authorize: NUL in nonce", raw{"GET", "/authorize", authorizeQuery("&nonce=a%00b"), "", "", ""}, 400, page, [2]string{}},
			{"authorize: invalid UTF-8 in login_hint", raw{"GET", "/authorize", authorizeQuery("&login_hint=%ff%40example.com"), "", "", ""}, 400, page, [2]string{}},
			{"authorize: NUL in login_hint", raw{"GET", "/authorize", authorizeQuery("&login_hint=a%00%40example.com"), "", "", ""}, 400, page, [2]string{}},
			// Sign-in and account forms (3, 7).
			{"login: NUL in email", raw{"POST", "/login/email", "", form, "authRequestID=x&email=aiko%00%40example.com", ""}, 400, page, [2]string{}},
			{"login: invalid UTF-8 in email", raw{"POST", "/login/email", "", form, "authRequestID=x&email=%ff%40example.com", ""}, 400, page, [2]string{}},
			{"login: 64 KiB body", raw{"POST", "/login/email", "", form, "email=" + strings.Repeat("x", 64<<10), ""}, 413, page, [2]string{}},
			{"forgot: multipart", raw{"POST", "/forgot", "", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@example.com\r\n--x--\r\n", ""}, 400, page, [2]string{}},
			{"forgot: NUL in email", raw{"POST", "/forgot", "", form, "email=a%00%40example.com", ""}, 400, page, [2]string{}},
			{"signin: NUL in login_hint", raw{"GET", "/signin", "login_hint=a%00b", "", "", ""}, 400, page, [2]string{}},
		} {
			resp, body := tc.req.do(t, env)
			if resp.StatusCode != tc.status {
				t.Errorf("%s: status %d, want %d (%.200s)", tc.name, resp.StatusCode, tc.status, body)
				continue
			}
			if loc := resp.Header.Get("Location"); loc != "" {
				t.Errorf("%s: redirects to %s", tc.name, loc)
			}
			switch tc.err {
			case page:
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
					t.Errorf("%s: Content-Type %q, want the HTML error page", tc.name, ct)
				}
			case "":
			default:
				var out struct{ Error string }
				if err := json.Unmarshal([]byte(body), &out); err != nil || out.Error != tc.err {
					t.Errorf("%s: body %q, want OAuth error %s", tc.name, body, tc.err)
				}
			}
			if h := tc.header; h[0] != "" && !strings.Contains(resp.Header.Get(h[0]), h[1]) {
				t.Errorf("%s: %s %q, want it to contain %q", tc.name, h[0], resp.Header.Get(h[0]), h[1])
			}
		}
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, "level=ERROR") {
				t.Errorf("ERROR logged for a client's bad request: %s", line)
			}
		}
	})
}
