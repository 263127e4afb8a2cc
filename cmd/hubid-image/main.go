// Command hubid-image builds hubid's container image without a container
// engine (internal/ociimage) and writes it as an OCI layout tar that
// `docker load` and `podman load` accept. `make image` runs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/customerhub/hubid/internal/ociimage"
)

func main() {
	var o ociimage.Options
	out := flag.String("out", "bin/hubid-image.tar", "the image tar to write")
	flag.StringVar(&o.Binary, "binary", "bin/hubid-linux", "the static linux hubid binary")
	flag.StringVar(&o.CACerts, "ca-certs", "/etc/ssl/certs/ca-certificates.crt", "the CA bundle to include")
	flag.StringVar(&o.Arch, "arch", runtime.GOARCH, "GOARCH of the binary")
	flag.StringVar(&o.Name, "name", "hubid", "the image name")
	flag.StringVar(&o.Version, "version", "", "the version (the tag)")
	flag.StringVar(&o.Commit, "commit", "", "the commit")
	flag.StringVar(&o.Source, "source", "", "org.opencontainers.image.source")
	flag.Parse()
	// SOURCE_DATE_EPOCH (reproducible-builds.org) sets the creation time.
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			fail(fmt.Errorf("SOURCE_DATE_EPOCH: %w", err))
		}
		o.Created = time.Unix(sec, 0)
	}
	img, err := ociimage.Image(o)
	if err != nil {
		fail(err)
	}
	tag := ociimage.Tag(o.Version)
	if err := ociimage.WriteTar(*out, img, o.Name, tag); err != nil {
		fail(err)
	}
	d, err := img.Digest()
	if err != nil {
		fail(err)
	}
	fmt.Printf("%s: %s:%s %s (load: docker load -i %[1]s, or podman load -i %[1]s)\n", *out, o.Name, tag, d)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "hubid-image:", err)
	os.Exit(1)
}
