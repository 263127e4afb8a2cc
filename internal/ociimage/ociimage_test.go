package ociimage

import (
	"archive/tar"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// buildHubid builds the real binary once, stamped like `make image` does.
func buildHubid(t *testing.T, version, commit string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hubid")
	cmd := exec.Command("go", "build", "-trimpath",
		"-ldflags", "-s -w -X main.version="+version+" -X main.commit="+commit,
		"-o", bin, "../../cmd/hubid")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func caBundle(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(p, []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// untar extracts a tar file into dir and returns the regular files' names.
func untar(t *testing.T, r io.Reader, dir string) map[string]*tar.Header {
	t.Helper()
	seen := map[string]*tar.Header{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return seen
		}
		if err != nil {
			t.Fatal(err)
		}
		seen[strings.TrimSuffix(h.Name, "/")] = h
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// TestImage builds the image from the real binary and checks it the way
// a runtime would read it: the OCI layout and Docker's manifest.json, the
// entrypoint, a non-root numeric user present in /etc/passwd, no shell,
// and the binary inside printing its stamped version and commit.
func TestImage(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the image's binary runs on linux only")
	}
	const version, commit = "v9.8.7-test", "0123456789ab"
	img, err := Image(Options{Binary: buildHubid(t, version, commit), CACerts: caBundle(t), Arch: runtime.GOARCH,
		Name: "hubid", Version: version, Commit: commit})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out", "hubid-image.tar")
	if err := WriteTar(out, img, "hubid", Tag(version)); err != nil {
		t.Fatal(err)
	}

	// The tar is an OCI layout whose digests all check out.
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	dir := t.TempDir()
	outer := untar(t, f, dir)
	for _, want := range []string{"oci-layout", "index.json", "manifest.json", "blobs/sha256"} {
		if outer[want] == nil {
			t.Errorf("image tar lacks %s", want)
		}
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil || len(im.Manifests) != 1 {
		t.Fatalf("index: %v %+v", err, im)
	}
	if got := im.Manifests[0].Annotations["io.containerd.image.name"]; got != "docker.io/library/hubid:"+version {
		t.Errorf("image name %q", got)
	}
	loaded, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(loaded); err != nil {
		t.Fatalf("validate: %v", err)
	}

	// manifest.json (docker load) names the same config and layer blobs.
	var dm []struct {
		Config           string
		RepoTags, Layers []string
	}
	b, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err := json.Unmarshal(b, &dm); err != nil || len(dm) != 1 || len(dm[0].Layers) != 1 || dm[0].RepoTags[0] != "hubid:"+version {
		t.Fatalf("manifest.json: %v %s", err, b)
	}
	for _, p := range append([]string{dm[0].Config}, dm[0].Layers...) {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("manifest.json names a missing blob: %v", err)
		}
	}

	cf, err := loaded.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s", cf.OS, cf.Architecture)
	}
	if len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != "/usr/local/bin/hubid" {
		t.Errorf("entrypoint %q", cf.Config.Entrypoint)
	}
	uid, _, _ := strings.Cut(cf.Config.User, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("user %q: want a numeric non-root uid", cf.Config.User)
	}
	if cf.Config.Labels["org.opencontainers.image.revision"] != commit || cf.Config.Labels["org.opencontainers.image.version"] != version {
		t.Errorf("labels %v", cf.Config.Labels)
	}

	// The one layer: the files, and nothing to run but hubid.
	layers, err := loaded.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %v %d", err, len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()
	root := t.TempDir()
	files := untar(t, rc, root)
	for _, want := range []string{"etc/passwd", "etc/group", "etc/ssl/certs/ca-certificates.crt", "usr/local/bin/hubid", "tmp"} {
		if files[want] == nil {
			t.Errorf("layer lacks /%s", want)
		}
	}
	for name, h := range files {
		if strings.HasSuffix(name, "/sh") || strings.HasSuffix(name, "/bash") || (h.Typeflag == tar.TypeReg && h.Mode&0o111 != 0 && name != "usr/local/bin/hubid") {
			t.Errorf("layer holds another executable: /%s", name)
		}
	}
	passwd, _ := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if !strings.Contains(string(passwd), ":"+uid+":"+uid+":") {
		t.Errorf("/etc/passwd has no entry for uid %s:\n%s", uid, passwd)
	}
	if files["usr/local/bin/hubid"].Mode&0o111 == 0 {
		t.Error("the binary is not executable")
	}
	got, err := exec.Command(filepath.Join(root, "usr/local/bin/hubid"), "version").CombinedOutput()
	if err != nil {
		t.Fatalf("hubid version: %v %s", err, got)
	}
	if !strings.HasPrefix(string(got), "hubid "+version+" commit "+commit+" ") {
		t.Errorf("hubid version printed %q, want version %s and commit %s", got, version, commit)
	}
}

func TestImageNeedsEveryInput(t *testing.T) {
	_, err := Image(Options{Arch: "amd64"})
	if err == nil || !strings.Contains(err.Error(), "CA certificates, binary, commit, version") {
		t.Errorf("got %v", err)
	}
}

func TestTag(t *testing.T) {
	for in, want := range map[string]string{"v1.2.3": "v1.2.3", "9412e51-dirty": "9412e51-dirty", "feat/x+y": "feat-x-y", "-x": "v-x"} {
		if got := Tag(in); got != want {
			t.Errorf("Tag(%q) = %q, want %q", in, got, want)
		}
	}
}
