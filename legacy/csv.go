package legacy

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/customerhub/hubid/password"
	"github.com/customerhub/hubid/store"
)

// Columns of an import file; contact_email is optional.
var (
	requiredColumns = []string{"login_id", "org_code", "org_name", "password_hash"}
	optionalColumns = []string{"contact_email"}
)

// Field bounds.
const (
	maxLoginID = 128
	maxOrgCode = 64
	maxOrgName = 200
	maxEmail   = 254
	maxHash    = 512
)

// LineProblem is one refused line of an import file.
type LineProblem struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

func (p LineProblem) String() string { return fmt.Sprintf("line %d: %s", p.Line, p.Reason) }

// ErrBadFile is wrapped by errors about the file as a whole (encoding,
// header).
var ErrBadFile = errors.New("legacy: bad import file")

// parseCSV reads an import file: UTF-8 with or without a BOM, CRLF or LF
// line ends, a header row naming the columns (any order). It returns the
// valid rows and a problem per refused line; a file-level problem is an
// error wrapping ErrBadFile.
func parseCSV(r io.Reader) ([]store.LegacyImportRow, []LineProblem, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, fmt.Errorf("%w: the file is empty (want a header row: %s)", ErrBadFile, strings.Join(requiredColumns, ","))
		}
		return nil, nil, fmt.Errorf("%w: header: %w", ErrBadFile, err)
	}
	col := map[string]int{}
	var probs []string
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := col[h]; dup {
			probs = append(probs, fmt.Sprintf("column %q appears twice", h))
		}
		col[h] = i
		known := false
		for _, c := range append(append([]string{}, requiredColumns...), optionalColumns...) {
			known = known || c == h
		}
		if !known {
			probs = append(probs, fmt.Sprintf("unknown column %q", h))
		}
	}
	for _, c := range requiredColumns {
		if _, ok := col[c]; !ok {
			probs = append(probs, fmt.Sprintf("missing column %q", c))
		}
	}
	if len(probs) > 0 {
		return nil, nil, fmt.Errorf("%w: header: %s (want %s[,%s])", ErrBadFile, strings.Join(probs, "; "),
			strings.Join(requiredColumns, ","), strings.Join(optionalColumns, ","))
	}
	emailCol, hasEmail := col["contact_email"]
	var rows []store.LegacyImportRow
	var bad []LineProblem
	firstLine := map[string]int{}    // login ID -> line
	orgNames := map[string]orgSeen{} // org code -> name and line
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && !errors.Is(pe.Err, csv.ErrFieldCount) {
				bad = append(bad, LineProblem{Line: pe.Line, Reason: "not valid CSV: " + pe.Err.Error()})
				if pe.Err == csv.ErrQuote || pe.Err == csv.ErrBareQuote {
					continue
				}
				return rows, bad, nil // the reader cannot go on
			}
		}
		if len(rec) != len(header) {
			bad = append(bad, LineProblem{Line: line, Reason: fmt.Sprintf("%d fields, want %d", len(rec), len(header))})
			continue
		}
		row := store.LegacyImportRow{
			Line:         line,
			LoginID:      strings.TrimSpace(rec[col["login_id"]]),
			OrgCode:      strings.TrimSpace(rec[col["org_code"]]),
			OrgName:      strings.TrimSpace(rec[col["org_name"]]),
			PasswordHash: strings.TrimSpace(rec[col["password_hash"]]),
		}
		if hasEmail {
			row.ContactEmail = strings.TrimSpace(rec[emailCol])
		}
		if reason := checkRow(row); reason != "" {
			bad = append(bad, LineProblem{Line: line, Reason: reason})
			continue
		}
		if first, dup := firstLine[row.LoginID]; dup {
			bad = append(bad, LineProblem{Line: line, Reason: fmt.Sprintf("login ID %q appears again (first at line %d)", row.LoginID, first)})
			continue
		}
		if seen, ok := orgNames[row.OrgCode]; ok && seen.name != row.OrgName {
			bad = append(bad, LineProblem{Line: line, Reason: fmt.Sprintf("organization %q is named %q at line %d", row.OrgCode, seen.name, seen.line)})
			continue
		} else if !ok {
			orgNames[row.OrgCode] = orgSeen{row.OrgName, line}
		}
		firstLine[row.LoginID] = line
		rows = append(rows, row)
	}
	return rows, bad, nil
}

type orgSeen struct {
	name string
	line int
}

// checkRow returns why a row is refused, or "".
func checkRow(r store.LegacyImportRow) string {
	for _, f := range []struct{ name, v string }{{"login_id", r.LoginID}, {"org_code", r.OrgCode}, {"org_name", r.OrgName},
		{"password_hash", r.PasswordHash}, {"contact_email", r.ContactEmail}} {
		if !utf8.ValidString(f.v) {
			return f.name + ": not UTF-8"
		}
		if strings.ContainsFunc(f.v, unicode.IsControl) {
			return f.name + ": control characters"
		}
	}
	switch {
	case r.LoginID == "":
		return "login_id: empty"
	case len(r.LoginID) > maxLoginID:
		return fmt.Sprintf("login_id: longer than %d bytes", maxLoginID)
	case strings.ContainsFunc(r.LoginID, unicode.IsSpace):
		return "login_id: contains white space"
	case r.OrgCode == "":
		return "org_code: empty"
	case len(r.OrgCode) > maxOrgCode:
		return fmt.Sprintf("org_code: longer than %d bytes", maxOrgCode)
	case r.OrgName == "":
		return "org_name: empty"
	case len(r.OrgName) > maxOrgName:
		return fmt.Sprintf("org_name: longer than %d bytes", maxOrgName)
	case len(r.PasswordHash) > maxHash:
		return fmt.Sprintf("password_hash: longer than %d bytes", maxHash)
	}
	if r.PasswordHash != "" {
		if err := password.CheckHash(r.PasswordHash); err != nil {
			return "password_hash: " + strings.TrimPrefix(err.Error(), "password: ")
		}
	}
	if r.ContactEmail != "" {
		if a, err := mail.ParseAddress(r.ContactEmail); err != nil || a.Address != r.ContactEmail || len(r.ContactEmail) > maxEmail {
			return fmt.Sprintf("contact_email: %q is not an email address", r.ContactEmail)
		}
	}
	return ""
}
