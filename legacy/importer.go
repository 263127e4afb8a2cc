package legacy

import (
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/store"
)

// ImportOptions modify Import.
type ImportOptions struct {
	DryRun  bool // report what would change, change nothing
	SkipBad bool // import the good lines of a file with bad ones
	ActorID string
}

// ImportReport is what an import did (or, on a dry run or a refused
// file, would do).
type ImportReport struct {
	Service     string                     `json:"service"`
	Applied     bool                       `json:"applied"`
	Created     int                        `json:"created"`
	Updated     int                        `json:"updated"`
	Unchanged   int                        `json:"unchanged"`
	Rejected    int                        `json:"rejected"`
	OrgsCreated []string                   `json:"orgs_created,omitempty"`
	Problems    []LineProblem              `json:"problems,omitempty"`
	Changes     []store.LegacyImportChange `json:"-"`
}

// ErrBadLines: the file has refused lines and SkipBad was not set, so
// nothing was imported; the report lists them.
var ErrBadLines = apperr.New(apperr.Invalid, "the file has bad lines; nothing was imported")

var errRollback = errors.New("legacy: roll back the dry run")

// Import reads a CSV file of legacy login IDs for a service and upserts
// them. A file with a bad line imports nothing (ErrBadLines, with the
// report) unless opt.SkipBad; a file-level problem is an apperr.Invalid
// wrapping ErrBadFile. The counts of a dry run are those of a real run.
func (s *Service) Import(ctx context.Context, serviceCode string, r io.Reader, opt ImportOptions) (ImportReport, error) {
	rep := ImportReport{Service: serviceCode}
	svc, err := s.service(ctx, serviceCode)
	if err != nil {
		return rep, err
	}
	rows, bad, err := parseCSV(r)
	if err != nil {
		return rep, apperr.Wrap(apperr.Invalid, err.Error(), err)
	}
	rep.Problems, rep.Rejected = bad, len(bad)
	if len(bad) > 0 && !opt.SkipBad {
		opt.DryRun = true
	}
	if err := s.assignOrgIDs(rows); err != nil {
		return rep, err
	}
	var res store.LegacyImportResult
	err = s.d.Store.InTx(ctx, func(tx store.Durable) error {
		var err error
		if res, err = tx.ImportLegacyLoginIDs(ctx, svc.ID, rows); err != nil {
			return err
		}
		if opt.DryRun {
			return errRollback
		}
		created, updated := count(res)
		return s.audit(ctx, tx, store.AuditEvent{Kind: AuditImport, ActorID: opt.ActorID, Detail: map[string]string{
			"service": svc.Code, "created": strconv.Itoa(created), "updated": strconv.Itoa(updated),
			"unchanged": strconv.Itoa(res.Unchanged), "rejected": strconv.Itoa(len(bad)),
			"organizations_created": strconv.Itoa(len(res.OrgsCreated)),
		}})
	})
	if err != nil && !errors.Is(err, errRollback) {
		return rep, storeErr("import", err)
	}
	rep.Applied = err == nil
	rep.Changes, rep.Unchanged, rep.OrgsCreated = res.Changes, res.Unchanged, res.OrgsCreated
	rep.Created, rep.Updated = count(res)
	if len(bad) > 0 && !opt.SkipBad {
		return rep, ErrBadLines
	}
	return rep, nil
}

func count(res store.LegacyImportResult) (created, updated int) {
	for _, c := range res.Changes {
		if c.Created {
			created++
		} else {
			updated++
		}
	}
	return created, updated
}

// idEncoding is lower-case unpadded base32 (as idp/seed's record IDs).
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns a random opaque record ID.
func (s *Service) newID() (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(s.d.Rand, b); err != nil {
		return "", apperr.Wrap(apperr.Internal, "random ID", err)
	}
	return idEncoding.EncodeToString(b), nil
}

// assignOrgIDs gives each organization code of the file one fresh ID, used
// if the import creates it.
func (s *Service) assignOrgIDs(rows []store.LegacyImportRow) error {
	ids := map[string]string{}
	for i := range rows {
		id, ok := ids[rows[i].OrgCode]
		if !ok {
			var err error
			if id, err = s.newID(); err != nil {
				return err
			}
			ids[rows[i].OrgCode] = id
		}
		rows[i].NewOrgID = id
	}
	return nil
}

// ChangeText describes one change for people.
func ChangeText(c store.LegacyImportChange) string {
	if c.Created {
		return fmt.Sprintf("line %d: %s created (organization %s)", c.Line, c.LoginID, c.OrgCode)
	}
	var what []string
	if c.PasswordChanged {
		what = append(what, "password hash")
	}
	if c.OrgChanged {
		what = append(what, "organization → "+c.OrgCode)
	}
	if c.ContactChanged {
		what = append(what, "contact email")
	}
	sort.Strings(what)
	return fmt.Sprintf("line %d: %s updated: %s", c.Line, c.LoginID, strings.Join(what, ", "))
}
