package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// benchDev runs the RS256 pass against `hubid dev` (SQLite and memory in
// the one process, a fresh data directory), seeded with the same
// organization, client and users as hubid serve, so that the ratios
// between scenarios can be compared with serve's.
func benchDev(ctx context.Context, o options, log io.Writer, r *report, bin, tmp string) (*report, error) {
	seedPath, err := writeSeed(tmp, o.users)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cfg := serverConfig{alg: "RS256", port: port, dataDir: filepath.Join(tmp, "dev-data"), cpus: o.cpus}
	env := os.Environ()
	out, err := runHubid(ctx, bin, env, "seed", "apply", "--data", cfg.dataDir, seedPath)
	if err != nil {
		return r, err
	}
	fmt.Fprint(log, "hubid-bench: ", out)
	ps := &pass{alg: cfg.alg}
	r.passes = append(r.passes, ps)
	if err := runPass(ctx, o, log, bin, env, cfg, ps, filepath.Join(tmp, "hubid-dev.log")); err != nil {
		r.problems = append(r.problems, fmt.Sprintf("hubid dev: %v", err))
		return r, fmt.Errorf("hubid dev: %w", err)
	}
	return r, nil
}
