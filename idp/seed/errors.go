package seed

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Problem is one mistake in a seed file.
type Problem struct {
	File string // file name given to Parse
	Line int    // 1-based; 0 when unknown
	Path string // field path, e.g. "users[1].memberships[0].role"; "" for the whole file
	Msg  string
}

// String formats the problem as "file:line: path: message", leaving out
// what is unknown.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error lists every problem found in a seed file, in file order. Parse and
// Apply return it (as error) when the file is at fault; nothing has been
// written then.
type Error struct {
	Problems []Problem
}

// Error returns one problem per line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problems collects the problems of one file and knows its lines.
type problems struct {
	f    *File
	list []Problem
	bad  map[string]bool // paths that failed to decode: no further reports below them
}

func newProblems(f *File) *problems {
	return &problems{f: f, bad: map[string]bool{}}
}

// add reports a problem at path unless path (or a parent) failed to decode,
// which was reported already.
func (ps *problems) add(path, format string, args ...any) {
	for p := path; ; p = parent(p) {
		if ps.bad[p] {
			return
		}
		if p == "" {
			break
		}
	}
	ps.list = append(ps.list, Problem{File: ps.f.name, Line: ps.f.line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

// err returns the collected problems sorted by line (unknown lines last),
// or nil.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	sort.SliceStable(ps.list, func(i, j int) bool {
		a, b := ps.list[i].Line, ps.list[j].Line
		if a == 0 || b == 0 {
			return a != 0 && b == 0
		}
		return a < b
	})
	return &Error{Problems: ps.list}
}

// line returns the line of path, or of its nearest parent that has one.
func (f *File) line(path string) int {
	for p := path; ; p = parent(p) {
		if n, ok := f.lines[p]; ok {
			return n
		}
		if p == "" {
			return 0
		}
	}
}

// parent strips the last element of a field path: "a[1].b" -> "a[1]" ->
// "a" -> "".
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// join appends a field name to a path.
func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// index appends a list index to a path.
func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
