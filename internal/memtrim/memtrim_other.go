//go:build !linux

package memtrim

import "errors"

func dropExecutablePages() (int64, error) {
	return 0, errors.New("memtrim: the executable's pages are trimmed on Linux only")
}
