package adminapi

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/legacy"
	"github.com/customerhub/hubid/store"
)

// The legacy login-ID import and the pre-registration progress report,
// through package legacy: the same rules and summary as `hubid legacy
// import` and `hubid legacy report`.

// ImportChange is one login ID an import created or updated.
type ImportChange struct {
	Line            int    `json:"line"`
	LoginID         string `json:"login_id"`
	OrgCode         string `json:"org_code"`
	Created         bool   `json:"created"`
	PasswordChanged bool   `json:"password_changed"`
	OrgChanged      bool   `json:"org_changed"`
	ContactChanged  bool   `json:"contact_changed"`
}

// ImportResult is what an import did or, on a dry run or a refused file,
// would do: the summary of `hubid legacy import` (applied is false
// unless it changed the store; problems are the refused lines, with
// their number and reason) and each login ID created or updated.
type ImportResult struct {
	legacy.ImportReport
	Changes []ImportChange `json:"changes"`
}

func importView(rep legacy.ImportReport) ImportResult {
	out := ImportResult{ImportReport: rep, Changes: []ImportChange{}}
	for _, c := range rep.Changes {
		out.Changes = append(out.Changes, ImportChange{Line: c.Line, LoginID: c.LoginID, OrgCode: c.OrgCode, Created: c.Created,
			PasswordChanged: c.PasswordChanged, OrgChanged: c.OrgChanged, ContactChanged: c.ContactChanged})
	}
	return out
}

// importFailed is a refused file: the problem carries the summary and
// the bad lines as extension members.
type importFailed struct {
	err    error
	result ImportResult
}

func (e *importFailed) Error() string { return e.err.Error() }
func (e *importFailed) Unwrap() error { return e.err }

func (a *API) legacyService() (*legacy.Service, error) {
	if a.cfg.Legacy == nil {
		return nil, apperr.New(apperr.Unavailable, "the legacy migration service is not configured")
	}
	return a.cfg.Legacy, nil
}

// legacyImport imports a CSV file of legacy login IDs for ?service=CODE:
// the body is the file (Content-Type text/csv) or a multipart/form-data
// form with the file in the part "file". ?dry_run=true changes nothing;
// a file with a bad line imports nothing (400, with the lines) unless
// ?skip_bad=true.
func (a *API) legacyImport(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.legacyService()
	if err != nil {
		return err
	}
	code := r.URL.Query().Get("service")
	if code == "" {
		return errInvalid("service: the service code is required")
	}
	dry, err := boolParam(r, "dry_run")
	if err != nil {
		return err
	}
	skip, err := boolParam(r, "skip_bad")
	if err != nil {
		return err
	}
	file, err := a.importFile(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	rep, err := svc.Import(ctx, code, bytes.NewReader(file), legacy.ImportOptions{DryRun: dry, SkipBad: skip, ActorID: ActorOf(ctx).AuditID()})
	if errors.Is(err, legacy.ErrBadLines) {
		return &importFailed{err: err, result: importView(rep)}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, importView(rep), "")
	return nil
}

// importFile reads the uploaded file, at most MaxImport bytes.
func (a *API) importFile(r *http.Request) ([]byte, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, errUpload()
	}
	body := http.MaxBytesReader(nil, r.Body, a.cfg.MaxImport)
	var src io.Reader
	switch mt {
	case "text/csv":
		src = body
	case "multipart/form-data":
		mr := multipart.NewReader(body, params["boundary"])
		if params["boundary"] == "" {
			return nil, errInvalid("the multipart body has no boundary")
		}
		for src == nil {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil, errInvalid(`the form has no part named "file"`)
			}
			if err != nil {
				return nil, readErr(err, a.cfg.MaxImport)
			}
			if part.FormName() == "file" {
				src = part
			}
		}
	default:
		return nil, errUpload()
	}
	b, err := io.ReadAll(src)
	if err != nil {
		return nil, readErr(err, a.cfg.MaxImport)
	}
	return b, nil
}

func readErr(err error, limit int64) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return errTooLarge(limit)
	}
	return errInvalid("the file could not be read")
}

// ReportRow is the pre-registration progress of one organization's login
// IDs of one service.
type ReportRow struct {
	Service       string `json:"service"`
	OrgCode       string `json:"org_code"`
	OrgName       string `json:"org_name"`
	Total         int    `json:"total"`
	Preregistered int    `json:"preregistered"` // login IDs linked to at least one person
	People        int    `json:"people"`        // distinct people linked to them
	NotYet        int    `json:"not_yet"`
}

func reportView(r store.LegacyReportRow) ReportRow {
	return ReportRow{Service: r.ServiceCode, OrgCode: r.OrgCode, OrgName: r.OrgName, Total: r.Total,
		Preregistered: r.Registered, People: r.People, NotYet: r.Total - r.Registered}
}

// legacyReport pages the progress by service and organization code
// (filter: service).
func (a *API) legacyReport(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	svc, err := a.legacyService()
	if err != nil {
		return err
	}
	rows, err := svc.Report(r.Context(), r.URL.Query().Get("service"))
	if err != nil {
		return err
	}
	key := func(x store.LegacyReportRow) string { return x.ServiceCode + "\x00" + x.OrgCode }
	writeJSON(w, http.StatusOK, paginate(rows, p, key, reportView), "")
	return nil
}
