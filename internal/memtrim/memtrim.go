// Package memtrim gives back, once start-up is over, the memory that only
// start-up needed: the garbage of initialization, and the pages of the
// executable that package initialization touched but serving never will.
//
// A Go binary's package initializers are spread over its whole text and
// read-only data (each package's init sits with the package's code), and
// the kernel maps file pages in 64 KiB runs around each fault, so by the
// time hubid serves, two thirds of its 59 MB executable is mapped into its
// resident set although requests touch a fraction of it. Those pages are
// clean copies of the file: dropping the mapping (madvise MADV_DONTNEED)
// costs nothing, the page cache keeps them, and a page a request needs
// again is mapped back on its first touch (a minor fault, no disk read).
package memtrim

import (
	"runtime"
	"runtime/debug"
)

// Result says what Trim gave back.
type Result struct {
	// Executable is how many bytes of the executable's read-only mappings
	// were unmapped (their size, whether resident or not).
	Executable int64
	// Err is why the executable's pages were not trimmed (not Linux, or
	// /proc/self/maps unreadable); the heap is trimmed regardless.
	Err error
}

// Trim collects garbage, returns free heap pages to the operating system
// and unmaps the executable's read-only pages (Linux). Call it once, after
// start-up: it costs one full collection (a few milliseconds for hubid's
// heap) and the minor faults that map back the pages requests use.
func Trim() Result {
	runtime.GC()
	debug.FreeOSMemory()
	n, err := dropExecutablePages()
	return Result{Executable: n, Err: err}
}
