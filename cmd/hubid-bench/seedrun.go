package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/store/postgres"
	redisstore "github.com/customerhub/hubid/store/redis"
)

// runSeed opens the stores, seeds them and prints what it cost: time per
// phase, PostgreSQL bytes per user, Redis bytes per session and per
// refresh family.
func runSeed(ctx context.Context, o seedOptions, out, log io.Writer) error {
	dsn := o.dsn
	if o.schema != "" {
		be := &backends{baseDSN: o.dsn, schema: o.schema}
		if !o.redisOnly {
			if err := execSQL(ctx, o.dsn, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{o.schema}.Sanitize()); err != nil {
				return err
			}
		}
		dsn = be.dsn()
	}
	// With -redis-only PostgreSQL is only read: the organizations'
	// IDs, which the seeded sessions remember.
	d, err := postgres.Open(ctx, dsn, postgres.Options{Migrate: o.migrate && !o.redisOnly})
	if err != nil {
		return err
	}
	defer d.Close()
	rc := redisstore.NewClient(redisstore.ClientConfig{Addrs: []string{o.redis}, DB: o.redisDB, Timeout: 30 * time.Second})
	rs := redisstore.New(rc, redisstore.Options{Prefix: o.prefix})
	defer rs.Close()

	fmt.Fprintln(log, "hubid-bench seed: hashing the password once (argon2id, hubid's defaults)")
	hash, err := defaultPasswordHash()
	if err != nil {
		return err
	}
	mem := map[string]int64{}
	mem["start"], err = usedMemory(ctx, rc)
	if err != nil {
		return err
	}
	p := seedPlan{users: o.users, orgs: o.orgs, sessions: o.sessions, families: o.families, batch: o.batch,
		keys: seedKeys{[]byte(o.key)}, passwordHash: hash, now: time.Now().UTC().Truncate(time.Microsecond),
		cfg: config.Defaults(), redisOnly: o.redisOnly,
		mark: func(phase string) {
			if m, err := usedMemory(ctx, rc); err == nil {
				mem[phase] = m
			}
		}}
	start := time.Now()
	tm, err := populate(ctx, d, rs, p, log)
	if err != nil {
		return err
	}
	total := time.Since(start)

	var usersBytes, membersBytes int64
	if !o.redisOnly {
		if err := queryRow(ctx, dsn, `SELECT pg_total_relation_size('users'), pg_total_relation_size('memberships')`,
			&usersBytes, &membersBytes); err != nil {
			return err
		}
	}
	sess := keySample(ctx, rc, o.prefix+"session:*", o.prefix+"user_sessions:*")
	fam := keySample(ctx, rc, o.prefix+"refresh:*", o.prefix+"family:*")

	fmt.Fprintf(out, "seeded %d users in %d organizations, %d sessions, %d refresh families in %.1f s\n",
		o.users, o.orgs, o.sessions, o.families, total.Seconds())
	fmt.Fprintf(out, "  organizations, service, client: %.1f s\n", tm.orgs.Seconds())
	fmt.Fprintf(out, "  users + memberships (COPY):     %.1f s  (%s/s)\n", tm.users.Seconds(), num(perSec(o.users, tm.users)))
	fmt.Fprintf(out, "  sessions (Redis pipelines):     %.1f s  (%s/s)\n", tm.sessions.Seconds(), num(perSec(o.sessions, tm.sessions)))
	fmt.Fprintf(out, "  refresh families (pipelines):   %.1f s  (%s/s)\n", tm.families.Seconds(), num(perSec(o.families, tm.families)))
	if !o.redisOnly {
		fmt.Fprintf(out, "PostgreSQL: users %s, memberships %s (tables with indexes): %d bytes per user\n",
			mb(usersBytes), mb(membersBytes), (usersBytes+membersBytes)/int64(o.users))
	}
	if o.sessions > 0 {
		fmt.Fprintf(out, "Redis per session: %d bytes (INFO used_memory delta / count); MEMORY USAGE sample: %s\n",
			(mem["sessions"]-mem["users"])/int64(o.sessions), sess)
	}
	if o.families > 0 {
		fmt.Fprintf(out, "Redis per refresh family: %d bytes (INFO used_memory delta / count); MEMORY USAGE sample: %s\n",
			(mem["families"]-mem["sessions"])/int64(o.families), fam)
	}
	return nil
}

func perSec(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func execSQL(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

func queryRow(ctx context.Context, dsn, sql string, dest ...any) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.QueryRow(ctx, sql).Scan(dest...)
}

// usedMemory is INFO memory's used_memory: the whole server's, so other
// clients' writes during a phase count too.
func usedMemory(ctx context.Context, rc goredis.UniversalClient) (int64, error) {
	info, err := rc.Info(ctx, "memory").Result()
	if err != nil {
		return 0, fmt.Errorf("redis: %w", err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, errors.New("redis: no used_memory in INFO memory")
}

// keySample averages MEMORY USAGE over up to 200 keys of each pattern and
// describes the result, e.g. "session 412 B + user_sessions 120 B".
func keySample(ctx context.Context, rc goredis.UniversalClient, patterns ...string) string {
	var parts []string
	var sum int64
	for _, pat := range patterns {
		keys, _, err := rc.Scan(ctx, 0, pat, 2000).Result()
		if err != nil || len(keys) == 0 {
			continue
		}
		keys = keys[:min(len(keys), 200)]
		var total int64
		for _, k := range keys {
			n, err := rc.MemoryUsage(ctx, k).Result()
			if err != nil {
				return "unavailable: " + err.Error()
			}
			total += n
		}
		avg := total / int64(len(keys))
		sum += avg
		name := strings.TrimSuffix(pat[strings.LastIndexByte(pat[:len(pat)-2], ':')+1:], ":*")
		parts = append(parts, fmt.Sprintf("%s %d B", name, avg))
	}
	return fmt.Sprintf("%d B (%s)", sum, strings.Join(parts, " + "))
}
