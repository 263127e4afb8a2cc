// Package ociimage assembles hubid's container image without a container
// engine: one layer holding the static binary, the CA certificates and an
// /etc/passwd entry for a numeric non-root user (no shell, no package
// manager: the equivalent of distroless/static), written as an OCI image
// layout in a tar file that `docker load` and `podman load` accept.
//
// It uses go-containerregistry (the library under ko, crane and kaniko)
// for the manifest, config and digests, so the image is built the same
// way on a laptop and in CI, from `make image`, with no daemon and no
// privileges.
package ociimage

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's fixed layout.
const (
	BinaryPath = "/usr/local/bin/hubid"
	ConfigPath = "/etc/hubid/hubid.yaml"
	UID        = 65532 // distroless's "nonroot"
	UserName   = "hubid"
	HomeDir    = "/home/hubid"
	CACertPath = "/etc/ssl/certs/ca-certificates.crt"
)

// Options describe one image.
type Options struct {
	Binary  string // the static linux hubid binary (CGO_ENABLED=0)
	CACerts string // a PEM bundle, e.g. Debian's /etc/ssl/certs/ca-certificates.crt
	Arch    string // GOARCH of Binary: amd64, arm64
	Name    string // repository name, e.g. "hubid" or "ghcr.io/customerhub/hubid"
	Version string // the tag and org.opencontainers.image.version
	Commit  string // org.opencontainers.image.revision
	Source  string // org.opencontainers.image.source (optional)
	// Created is the image's creation time; the zero value gives the Unix
	// epoch, so that the same inputs give the same digest.
	Created time.Time
}

var badTagChars = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// Tag is the image tag for a version: characters a tag may not hold
// become '-', and it is at most 128 characters.
func Tag(version string) string {
	t := badTagChars.ReplaceAllString(version, "-")
	if t == "" || t[0] == '.' || t[0] == '-' {
		t = "v" + t
	}
	return t[:min(len(t), 128)]
}

// Image builds the image in memory.
func Image(o Options) (v1.Image, error) {
	var missing []string
	for name, v := range map[string]string{"binary": o.Binary, "CA certificates": o.CACerts, "arch": o.Arch, "version": o.Version, "commit": o.Commit} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("ociimage: missing %s", strings.Join(missing, ", "))
	}
	created := o.Created
	if created.IsZero() {
		created = time.Unix(0, 0)
	}
	created = created.UTC()
	files, err := rootFS(o, created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(files)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("ociimage: layer: %w", err)
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: created}, CreatedBy: "hubid-image (go-containerregistry)", Comment: "hubid " + o.Version,
	}})
	if err != nil {
		return nil, fmt.Errorf("ociimage: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("ociimage: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", o.Arch, v1.Time{Time: created}
	labels := map[string]string{
		"org.opencontainers.image.title":       "hubid",
		"org.opencontainers.image.description": "hubid OpenID Connect provider",
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.revision":    o.Commit,
	}
	if o.Source != "" {
		labels["org.opencontainers.image.source"] = o.Source
	}
	cf.Config = v1.Config{
		Entrypoint:   []string{BinaryPath},
		Cmd:          []string{"serve", "--config", ConfigPath},
		User:         fmt.Sprintf("%d:%d", UID, UID),
		WorkingDir:   HomeDir,
		Env:          []string{"PATH=/usr/local/bin", "SSL_CERT_FILE=" + CACertPath},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}, "9090/tcp": {}},
		Labels:       labels,
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("ociimage: %w", err)
	}
	return img, nil
}

// rootFS is the layer's tar: directories, /etc/passwd and /etc/group,
// the CA bundle and the binary, in a fixed order with fixed times.
func rootFS(o Options, mtime time.Time) ([]byte, error) {
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, fmt.Errorf("ociimage: binary: %w", err)
	}
	ca, err := os.ReadFile(o.CACerts)
	if err != nil {
		return nil, fmt.Errorf("ociimage: CA certificates: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(name string, mode int64, uid int) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, Uid: uid, Gid: uid, ModTime: mtime, Format: tar.FormatPAX})
	}
	file := func(name string, mode int64, body []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(body)), ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:%s:/sbin/nologin\n", UserName, UID, UID, UserName, HomeDir)
	group := fmt.Sprintf("root:x:0:\n%s:x:%d:\n", UserName, UID)
	steps := []error{
		dir("etc", 0o755, 0), file("etc/passwd", 0o644, []byte(passwd)), file("etc/group", 0o644, []byte(group)),
		dir("etc/hubid", 0o755, 0),
		dir("etc/ssl", 0o755, 0), dir("etc/ssl/certs", 0o755, 0), file(strings.TrimPrefix(CACertPath, "/"), 0o644, ca),
		dir("home", 0o755, 0), dir(strings.TrimPrefix(HomeDir, "/"), 0o700, UID),
		dir("tmp", 0o1777, 0),
		dir("usr", 0o755, 0), dir("usr/local", 0o755, 0), dir("usr/local/bin", 0o755, 0),
		file(strings.TrimPrefix(BinaryPath, "/"), 0o755, bin),
		tw.Close(),
	}
	if err := errors.Join(steps...); err != nil {
		return nil, fmt.Errorf("ociimage: layer tar: %w", err)
	}
	return buf.Bytes(), nil
}

// WriteTar writes img as an OCI image layout in a tar file at out, named
// name:tag. Beside the OCI layout (oci-layout, index.json, blobs/) it
// holds the manifest.json that `docker load` reads (as `docker save`
// writes since Docker 25), so both Docker, with or without the
// containerd image store, and Podman load it.
func WriteTar(out string, img v1.Image, name, tag string) error {
	dir, err := os.MkdirTemp("", "hubid-image-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	ref := name + ":" + tag
	full := ref
	if !strings.Contains(strings.Split(name, "/")[0], ".") {
		// containerd wants a fully qualified name; Docker's short form
		// "hubid" is docker.io/library/hubid.
		full = "docker.io/library/" + ref
		if strings.Contains(name, "/") {
			full = "docker.io/" + ref
		}
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), mutate.IndexAddendum{
		Add: img,
		Descriptor: v1.Descriptor{Annotations: map[string]string{
			"org.opencontainers.image.ref.name": tag,
			"io.containerd.image.name":          full,
		}},
	})
	if _, err := layout.Write(dir, idx); err != nil {
		return fmt.Errorf("ociimage: write layout: %w", err)
	}
	cfg, err := img.ConfigName()
	if err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	dm := []map[string]any{{"Config": blobPath(cfg), "RepoTags": []string{ref}, "Layers": []string{}}}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return err
		}
		dm[0]["Layers"] = append(dm[0]["Layers"].([]string), blobPath(d))
	}
	manifest, err := json.Marshal(dm)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), manifest, 0o644); err != nil {
		return err
	}
	return tarDir(dir, out)
}

func blobPath(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

// tarDir writes the files under dir into a tar at out, sorted, with fixed
// times, through a temporary file renamed into place.
func tarDir(dir, out string) (err error) {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(out), ".hubid-image-*.tar")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	var names []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && p != dir {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		return err
	}
	slices.Sort(names)
	tw := tar.NewWriter(f)
	for _, p := range names {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(p, dir+string(filepath.Separator)))
		h := &tar.Header{Name: rel, Mode: 0o644, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		if st.IsDir() {
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, rel+"/", 0o755
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			continue
		}
		h.Typeflag, h.Size = tar.TypeReg, st.Size()
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, src)
		_ = src.Close()
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), out)
}
