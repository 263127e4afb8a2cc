package redis

import (
	"context"
	"fmt"
	"log/slog"

	goredis "github.com/redis/go-redis/v9"
)

// slogLogger sends go-redis's own log lines (reconnects, pool and push
// notices) to slog as warnings, so that logs stay structured.
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Printf(ctx context.Context, format string, v ...any) {
	s.l.LogAttrs(ctx, slog.LevelWarn, fmt.Sprintf(format, v...), slog.String("component", "go-redis"))
}

// SetLogger routes go-redis's log lines to l. go-redis's logger is
// process-global (redis.SetLogger), so only a program's main calls this,
// once, like slog.SetDefault.
func SetLogger(l *slog.Logger) { goredis.SetLogger(slogLogger{l}) }
