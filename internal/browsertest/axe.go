package browsertest

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core 4.14.1 (testdata/axe-core, MPL-2.0).
//
//go:embed testdata/axe-core/axe.min.js
var axeSource string

// AxeVersion is the vendored axe-core's version.
const AxeVersion = "4.14.1"

// AxeViolation is one rule an axe-core run found broken.
type AxeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
		Fail   string `json:"failureSummary"`
	} `json:"nodes"`
}

func (v AxeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n      %v %s\n        %s", n.Target, n.HTML, strings.ReplaceAll(n.Fail, "\n", "\n        "))
	}
	return b.String()
}

// axeRun runs axe-core on the whole document for the WCAG 2.x A and AA
// rules and best practices and returns the violations.
const axeRun = `axe.run(document, {resultTypes: ["violations"], runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}})
  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help,
    nodes: v.nodes.map(n => ({target: n.target, html: n.html, failureSummary: n.failureSummary || ""}))})))`

// Axe runs axe-core on the page the browser shows now and returns its
// violations of any impact. The script is injected through the DevTools
// protocol, which the pages' CSP (no scripts) does not govern.
func Axe(ctx context.Context) ([]AxeViolation, error) {
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if err != nil {
		return nil, fmt.Errorf("axe-core: %w", err)
	}
	if !loaded {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[*runtime.RemoteObject](axeSource)); err != nil {
			return nil, fmt.Errorf("inject axe-core: %w", err)
		}
	}
	return chromedp.Run(ctx, chromedp.Evaluate[[]AxeViolation](axeRun, chromedp.EvalAwaitPromise))
}

// RequireAccessible fails the test when axe-core finds a serious or
// critical violation on the current page, named page in the message;
// minor and moderate ones are logged.
func RequireAccessible(t testing.TB, ctx context.Context, page string) {
	t.Helper()
	vs, err := Axe(ctx)
	if err != nil {
		t.Fatalf("%s: axe-core: %v", page, err)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		t.Logf("axe-core %s: %s (%s): %d violations", AxeVersion, page, loc, len(vs))
	}
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("%s: %s", page, v)
		} else {
			t.Logf("%s (not failing): %s", page, v)
		}
	}
}
