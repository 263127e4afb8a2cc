// Command gen builds ../common.txt.gz, the list of common and breached
// passwords that package pwpolicy embeds, and ../LICENSE-common.txt, the
// licence of its source.
//
// The source is src/passwords.json of the npm package
// @zxcvbn-ts/language-common (MIT licence; the zxcvbn-ts project's list of
// the most frequent passwords of Mark Burnett's ten-million-password corpus,
// ranked by frequency). The version and the tarball's sha512 are pinned
// below; a tarball that does not match is refused.
//
// The output holds one password a line, NFC-normalized, lower-cased,
// deduplicated and sorted by byte order, keeping only entries of at least
// eight code points (pwpolicy refuses anything shorter before it looks at
// the list, so shorter entries would only make the file bigger), and
// gzip-compressed with no name or time in the header so that a run is
// reproducible.
//
// Run it from the package folder with `go generate` (it calls `npm pack`),
// or point -tgz at a tarball already downloaded.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The pinned source, as npm names it; integrity is the registry's
// dist.integrity of that version.
const (
	sourcePackage   = "@zxcvbn-ts/language-common@4.1.3"
	sourceIntegrity = "sha512-g2bg4skmlJG9aJqC/nWziZzgYpSe/f3rKeGobrkdFiOrfZVFqqzUgC6BUQWuX54Sua9j0Jxxt+1bf4f/Mal1Kg=="
	listPath        = "package/src/passwords.json"
	licensePath     = "package/LICENSE.txt"
)

// minLen is the shortest entry kept, in code points: pwpolicy's floor.
const minLen = 8

func main() {
	tgz := flag.String("tgz", "", "use this tarball instead of running npm pack")
	out := flag.String("o", "common.txt.gz", "output file")
	lic := flag.String("license", "LICENSE-common.txt", "where to copy the source's licence")
	flag.Parse()
	if err := run(*tgz, *out, *lic); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(tgzPath, out, lic string) error {
	var data []byte
	var err error
	if tgzPath == "" {
		data, err = npmPack(sourcePackage)
	} else {
		data, err = os.ReadFile(tgzPath)
	}
	if err != nil {
		return err
	}
	if got := integrity(data); got != sourceIntegrity {
		return fmt.Errorf("tarball integrity %s, want %s (%s)", got, sourceIntegrity, sourcePackage)
	}
	files, err := untar(data, listPath, licensePath)
	if err != nil {
		return err
	}
	var src []string
	if err := json.Unmarshal(files[listPath], &src); err != nil {
		return fmt.Errorf("%s: %w", listPath, err)
	}
	list := build(src)
	gz, err := compress(list)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, gz, 0o644); err != nil {
		return err
	}
	notice := "The embedded list common.txt.gz is derived from " + sourcePackage +
		" (" + listPath + "), distributed under this licence:\n\n" + string(files[licensePath])
	if err := os.WriteFile(lic, []byte(notice), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gen: %s: %d source entries, %d kept (>= %d code points), %d bytes compressed\n",
		sourcePackage, len(src), len(list), minLen, len(gz))
	return nil
}

// build turns the source entries into the embedded form: NFC, lower case,
// at least minLen code points, no line breaks, sorted and deduplicated.
// pwpolicy folds candidates the same way (see its fold function).
func build(src []string) []string {
	list := make([]string, 0, len(src))
	for _, s := range src {
		s = strings.ToLower(norm.NFC.String(s))
		if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n") || utf8.RuneCountInString(s) < minLen {
			continue
		}
		list = append(list, s)
	}
	slices.Sort(list)
	return slices.Compact(list)
}

// compress gzips the list, one entry a line, with an empty header so the
// output depends only on the list.
func compress(list []string) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	for _, s := range list {
		if _, err := io.WriteString(zw, s+"\n"); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// npmPack downloads the package's tarball with npm, which checks it
// against the registry's integrity, and returns its bytes.
func npmPack(pkg string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "pwpolicy-gen-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command("npm", "pack", "--silent", "--pack-destination", dir, pkg)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	name, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("npm pack %s: %w", pkg, err)
	}
	return os.ReadFile(filepath.Join(dir, filepath.Base(strings.TrimSpace(string(name)))))
}

// integrity is data's hash in npm's dist.integrity form.
func integrity(data []byte) string {
	sum := sha512.Sum512(data)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

// untar returns the named files of a gzipped tarball; each must be there.
func untar(tgz []byte, names ...string) (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return nil, fmt.Errorf("tarball: %w", err)
	}
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("tarball: %w", err)
		}
		if slices.Contains(names, h.Name) {
			if files[h.Name], err = io.ReadAll(io.LimitReader(tr, 16<<20)); err != nil {
				return nil, fmt.Errorf("tarball: %s: %w", h.Name, err)
			}
		}
	}
	for _, n := range names {
		if _, ok := files[n]; !ok {
			return nil, fmt.Errorf("tarball lacks %s", n)
		}
	}
	return files, nil
}
