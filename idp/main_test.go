package idp_test

import (
	"log/slog"
	"os"
	"testing"
)

// zitadel/oidc logs expected request errors through the process-wide slog
// default; keep test output to real problems.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	os.Exit(m.Run())
}
