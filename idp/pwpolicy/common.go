package pwpolicy

import (
	"bytes"
	"compress/gzip"
	_ "embed" // the common list
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

// The common-password list: the passwords of at least 8 code points among
// the 49,233 most frequent of Mark Burnett's ten-million-password corpus,
// as shipped in src/passwords.json of the npm package
// @zxcvbn-ts/language-common 4.1.3 (MIT licence, see LICENSE-common.txt).
// Shorter entries are left out because Check refuses them by length first.
// One entry a line, NFC, lower case, sorted, deduplicated, gzipped;
// regenerate with `go generate` (see gen/main.go).
//
//go:generate go run ./gen
//go:embed common.txt.gz
var commonGz []byte

// loadCommon decodes the list once, on first use.
var loadCommon = sync.OnceValues(func() ([]string, error) { return decodeList(commonGz) })

// commonList is the decoded list. A list that does not decode is a broken
// build, which the package's tests catch; it panics rather than let every
// password through.
func commonList() []string {
	list, err := loadCommon()
	if err != nil {
		panic(err)
	}
	return list
}

// CommonCount is the number of passwords in the embedded list.
func CommonCount() int { return len(commonList()) }

// IsCommon reports whether password, normalized and ignoring case, is in
// the embedded list of common and breached passwords.
func IsCommon(password string) bool { return isCommonFolded(fold(Normalize(password))) }

func isCommonFolded(f string) bool {
	_, found := slices.BinarySearch(commonList(), f)
	return found
}

// decodeList gunzips a list written by gen into one string sliced into
// its lines, and checks that it is sorted with no duplicates, since the
// binary search would silently miss entries otherwise.
func decodeList(gz []byte) ([]string, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("pwpolicy: common list: %w", err)
	}
	var b strings.Builder
	if len(gz) >= 4 {
		// The gzip trailer holds the uncompressed size (mod 2^32).
		b.Grow(int(binary.LittleEndian.Uint32(gz[len(gz)-4:])))
	}
	if _, err := io.Copy(&b, zr); err != nil {
		return nil, fmt.Errorf("pwpolicy: common list: %w", err)
	}
	s := b.String()
	if s == "" || !strings.HasSuffix(s, "\n") {
		return nil, errors.New("pwpolicy: common list: empty or not newline-terminated")
	}
	s = s[:len(s)-1]
	list := make([]string, 0, strings.Count(s, "\n")+1)
	for line := range strings.SplitSeq(s, "\n") {
		if n := len(list); n > 0 && list[n-1] >= line {
			return nil, fmt.Errorf("pwpolicy: common list: entry %d is out of order or repeated", n)
		}
		list = append(list, line)
	}
	return list, nil
}
