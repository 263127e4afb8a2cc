package redis

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/customerhub/hubid/internal/testenv"
)

func TestSlogLogger(t *testing.T) {
	var buf testenv.Buffer
	slogLogger{slog.New(slog.NewJSONHandler(&buf, nil))}.Printf(context.Background(), "redis: reconnect %d", 3)
	if got := buf.String(); !strings.Contains(got, `"msg":"redis: reconnect 3"`) || !strings.Contains(got, `"component":"go-redis"`) || !strings.Contains(got, `"level":"WARN"`) {
		t.Fatalf("log line %s", got)
	}
}
