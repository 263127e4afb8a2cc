package clustertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// UpstreamHeader is the response header in which the test's nginx names
// the replica (host:port) that answered: nginx's $upstream_addr, whose
// last entry is the replica that gave the answer when nginx tried several.
const UpstreamHeader = "X-Upstream"

// Nginx is a running nginx started by StartNginx.
type Nginx struct {
	*Proc
	dir, conf string
	port      int
	upstreams []string
}

// StartNginx runs Debian's nginx in the foreground as a child of the test
// on 127.0.0.1:port, load balancing round robin (no stickiness) over
// upstreams, with a generated configuration in dir. Like a production
// setup it passes a request to the next replica when a replica refuses the
// connection (or, for idempotent requests, fails before answering).
func StartNginx(tb testing.TB, dir string, port int, upstreams []string) *Nginx {
	tb.Helper()
	bin := Need(tb, "nginx", "apt-get install -y nginx")
	ndir := filepath.Join(dir, "nginx")
	for _, sub := range []string{"", "body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		if err := os.MkdirAll(filepath.Join(ndir, sub), 0o700); err != nil {
			tb.Fatal(err)
		}
	}
	n := &Nginx{dir: ndir, conf: filepath.Join(ndir, "nginx.conf"), port: port, upstreams: upstreams}
	n.write(tb, nil)
	n.Proc = Start(tb, dir, "nginx", os.Environ(), bin, "-p", ndir, "-c", n.conf, "-e", filepath.Join(ndir, "error.log"))
	WaitFor(tb, n.Proc, 10*time.Second, "nginx", func(ctx context.Context) error { return Dial(ctx, Addr(port)) })
	return n
}

// Drain takes the upstream addr out of rotation (marks it down) or puts
// it back, as an orchestrator does before it stops a replica, and waits
// until nginx's new worker runs and the old one has finished the requests
// it had (some of them on addr) and exited.
func (n *Nginx) Drain(tb testing.TB, addr string, drain bool) {
	tb.Helper()
	down := map[string]bool{}
	if drain {
		down[addr] = true
	}
	started, exited := n.logCount("start worker process"), n.logCount("exited with code")
	n.write(tb, down)
	n.Signal(syscall.SIGHUP)
	WaitFor(tb, n.Proc, 10*time.Second, "nginx reload", func(context.Context) error {
		if n.logCount("start worker process") > started && n.logCount("exited with code") > exited {
			return nil
		}
		return errNotYet
	})
}

// logCount counts the lines of nginx's log (notice level) containing s.
func (n *Nginx) logCount(s string) int {
	b, _ := os.ReadFile(filepath.Join(n.dir, "error.log"))
	return strings.Count(string(b), s)
}

func (n *Nginx) write(tb testing.TB, down map[string]bool) {
	tb.Helper()
	dir, port := n.dir, n.port
	var servers strings.Builder
	for _, u := range n.upstreams {
		mark := ""
		if down[u] {
			mark = " down"
		}
		fmt.Fprintf(&servers, "    server %s max_fails=1 fail_timeout=2s%s;\n", u, mark)
	}
	user := ""
	if os.Geteuid() == 0 { // workers would drop to nobody, who cannot use the temp directories
		user = "user root;"
	}
	conf := fmt.Sprintf(`# written by internal/clustertest
daemon off;
master_process on;
worker_processes 1;
%[1]s
pid %[2]s/nginx.pid;
error_log %[2]s/error.log notice;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path %[2]s/body;
  proxy_temp_path %[2]s/proxy;
  fastcgi_temp_path %[2]s/fastcgi;
  uwsgi_temp_path %[2]s/uwsgi;
  scgi_temp_path %[2]s/scgi;
  upstream hubid {
%[3]s  }
  server {
    listen 127.0.0.1:%[4]d;
    location / {
      proxy_pass http://hubid;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_connect_timeout 2s;
      proxy_read_timeout 30s;
      proxy_next_upstream error timeout;
      add_header %[5]s $upstream_addr always;
    }
  }
}
`, user, dir, servers.String(), port, UpstreamHeader)
	if err := os.WriteFile(n.conf, []byte(conf), 0o600); err != nil {
		tb.Fatal(err)
	}
}
