//go:build linux

package memtrim

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// dropExecutablePages unmaps the read-only, private, file-backed mappings
// of the running executable (text, rodata, pclntab) that hold no page of
// their own: MADV_DONTNEED then only drops page-table entries, and the
// next touch maps the page cache's copy again. A mapping that holds
// anonymous pages (copy-on-write: relocations applied by the dynamic
// loader before it made the segment read-only, as in a PIE's RELRO) would
// lose them, so it is left alone, as are writable mappings (data, bss).
func dropExecutablePages() (int64, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, fmt.Errorf("memtrim: %w", err)
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, fmt.Errorf("memtrim: %w", err)
	}
	var total int64
	for _, m := range cleanMappings(smaps, exe) {
		if err := madviseDontNeed(m.start, m.end); err != nil {
			return total, fmt.Errorf("memtrim: madvise %#x-%#x: %w", m.start, m.end, err)
		}
		total += int64(m.end - m.start)
	}
	return total, nil
}

type mapping struct{ start, end uintptr }

// cleanMappings returns, from a /proc/PID/smaps listing, the mappings of
// path that are read-only, private and without anonymous pages.
func cleanMappings(smaps []byte, path string) []mapping {
	var out []mapping
	var cur *mapping // the current mapping while it is a candidate
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	for sc.Scan() {
		line := sc.Text()
		if m, ok := header(line, path); ok {
			if cur != nil {
				out = append(out, *cur)
			}
			cur = m
			continue
		}
		if cur == nil {
			continue
		}
		if v, ok := strings.CutPrefix(line, "Anonymous:"); ok && strings.TrimSpace(v) != "0 kB" {
			cur = nil // holds pages of its own
		}
	}
	if cur != nil {
		out = append(out, *cur)
	}
	return out
}

// header parses a mapping's first line in smaps. ok reports whether the
// line starts a mapping; m is non-nil when that mapping is a candidate
// (path's read-only private mapping).
func header(line, path string) (m *mapping, ok bool) {
	f := strings.Fields(line)
	if len(f) < 5 || !strings.Contains(f[0], "-") || strings.HasSuffix(f[0], ":") {
		return nil, false
	}
	lo, hi, _ := strings.Cut(f[0], "-")
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	if err1 != nil || err2 != nil {
		return nil, false
	}
	perms := f[1]
	if len(f) < 6 || strings.Join(f[5:], " ") != path || len(perms) != 4 ||
		perms[0] != 'r' || perms[1] != '-' || perms[3] != 'p' || end <= start {
		return nil, true
	}
	return &mapping{uintptr(start), uintptr(end)}, true
}

// madviseDontNeed is madvise(2) on an address range taken from smaps (not
// a Go pointer, hence the raw system call).
func madviseDontNeed(start, end uintptr) error {
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_DONTNEED); errno != 0 {
		return errno
	}
	return nil
}
