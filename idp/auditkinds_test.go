package idp_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/language"

	"github.com/customerhub/hubid/idp"
	"github.com/customerhub/hubid/idp/account"
	"github.com/customerhub/hubid/idp/keys"
	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

// kindRe is the shape of an audit event kind: dotted lower-case words.
var kindRe = regexp.MustCompile(`^[a-z_]+(\.[a-z_]+)+$`)

// auditKinds finds every audit event kind the code of the module can
// write, by reading its source: the string constants named Audit… or
// Kind… with a dotted value, every string literal given as the Kind of a
// store.AuditEvent, and every dotted literal passed to a function named
// audit, auditNow or event (the packages' audit helpers).
func auditKinds(t *testing.T) map[string]string {
	t.Helper()
	kinds := map[string]string{} // kind → where
	root := ".."
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "storetest", "testdata", "node_modules", ".git", "docs":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		add := func(e ast.Expr) {
			lit, ok := e.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return
			}
			if v, err := strconv.Unquote(lit.Value); err == nil && kindRe.MatchString(v) {
				kinds[v] = fset.Position(lit.Pos()).String()
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, name := range n.Names {
					if i < len(n.Values) && (strings.HasPrefix(name.Name, "Audit") || strings.HasPrefix(name.Name, "Kind")) {
						add(n.Values[i])
					}
				}
			case *ast.CompositeLit:
				if sel, ok := n.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "AuditEvent" {
					for _, el := range n.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok {
							if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Kind" {
								add(kv.Value)
							}
						}
					}
				}
			case *ast.CallExpr:
				name := ""
				switch fn := n.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					name = fn.Sel.Name
				}
				if name == "audit" || name == "auditNow" || name == "event" {
					for _, a := range n.Args {
						add(a)
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Kinds made at run time: the signing key states.
	for _, st := range []store.KeyState{store.KeyNext, store.KeyActive, store.KeyRetired, ""} {
		kinds[keys.AuditKind(keys.Event{To: string(st)})] = "keys.AuditKind"
	}
	return kinds
}

// TestEveryAuditKindHasASentence: usage history and the console show a
// translated sentence for every kind of event, never "Other event (…)".
func TestEveryAuditKindHasASentence(t *testing.T) {
	kinds := auditKinds(t)
	// The search must find what we know is there.
	for _, k := range []string{"signin.success", "signin.failure", "signin.denied", "signin.sso", "signout.hub",
		"signout.service", "signout.backchannel", "session.ended", "consent.granted", "consent.denied",
		"token.refresh.started", "token.refresh.revoked", "org.member.added", "legacy.linked", "mfa.enabled",
		"password.reset", "client.created", "key.active", "user.created"} {
		if _, ok := kinds[k]; !ok {
			t.Errorf("the search missed the kind %s", k)
		}
	}
	env := hubtest.New(t, hubtest.Options{})
	b := idp.BundleOf(env.Server)
	en, ja := b.Printer(language.English), b.Printer(language.Japanese)
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		key := "history.kind." + k
		if !b.Has(key) {
			t.Errorf("%s (%s) has no sentence: add %q", k, kinds[k], key)
			continue
		}
		e, j := account.EventName(b, en, k), account.EventName(b, ja, k)
		if e == j || strings.Contains(e, k) || strings.Contains(j, k) {
			t.Errorf("%s: EN %q, JA %q", k, e, j)
		}
	}
	t.Logf("%d kinds", len(names))
}
