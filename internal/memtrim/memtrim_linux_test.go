//go:build linux

package memtrim

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

const sample = `00400000-01712000 r-xp 00000000 fe:00 1 /srv/hub id
Size:              19528 kB
Rss:               13528 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me
01712000-02aa6000 r--p 01312000 fe:00 1 /srv/hub id
Size:              20048 kB
Anonymous:             0 kB
02aa6000-02b83000 rw-p 026a6000 fe:00 1 /srv/hub id
Anonymous:           704 kB
02b83000-02c00000 r--p 02783000 fe:00 1 /srv/hub id
Anonymous:             8 kB
7f0000000000-7f0000001000 r--p 00000000 fe:00 2 /usr/lib/libc.so.6
Anonymous:             0 kB
7f0000002000-7f0000003000 rw-p 00000000 00:00 0
Anonymous:             4 kB
7f0000004000-7f0000005000 r--s 00000000 fe:00 1 /srv/hub id
Anonymous:             0 kB
7ffc00000000-7ffc00001000 r--p 00000000 00:00 0 [vvar]
`

func TestCleanMappings(t *testing.T) {
	got := cleanMappings([]byte(sample), "/srv/hub id")
	want := []mapping{{0x400000, 0x1712000}, {0x1712000, 0x2aa6000}}
	if len(got) != len(want) {
		t.Fatalf("got %x, want %x (text and rodata only: not the writable, copy-on-write, shared or other files' mappings)", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("mapping %d: got %x, want %x", i, got[i], want[i])
		}
	}
	if got := cleanMappings([]byte(sample), "/srv/hub"); len(got) != 0 {
		t.Fatalf("a path that is a prefix of the mapped one matched: %x", got)
	}
}

// rssFile is RssFile of this process in kB.
func rssFile(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

func TestTrimDropsTheExecutablesPages(t *testing.T) {
	before := rssFile(t)
	r := Trim()
	after := rssFile(t)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if r.Executable <= 0 {
		t.Fatalf("trimmed %d bytes of the executable", r.Executable)
	}
	// The test binary's package initializers mapped a good part of its
	// text; after the trim only what ran since is mapped again.
	if after >= before {
		t.Fatalf("RssFile %d kB before the trim, %d kB after", before, after)
	}
	t.Logf("RssFile %d kB → %d kB (%d kB of mappings trimmed)", before, after, r.Executable>>10)
	// The process goes on: code and read-only data come back on demand.
	if got := strings.Repeat("ok", 2); got != "okok" {
		t.Fatal(got)
	}
}
