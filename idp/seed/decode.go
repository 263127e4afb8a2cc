package seed

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxFileSize bounds the size of a seed file Parse accepts.
const MaxFileSize = 16 << 20

// Parse decodes and validates a seed file; filename is used in messages
// only. Every problem is reported at once in an *Error: unknown or
// duplicate keys, values of the wrong type, and every rule that needs no
// store (Apply checks references to records not in the file).
func Parse(data []byte, filename string) (*File, error) {
	f := &File{name: filename, lines: map[string]int{}}
	ps := newProblems(f)
	if len(data) > MaxFileSize {
		ps.add("", "file is larger than %d bytes", MaxFileSize)
		return nil, ps.err()
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	err := dec.Decode(&doc)
	switch {
	case errors.Is(err, io.EOF):
		return f, nil // an empty file seeds nothing
	case err != nil:
		yamlProblem(ps, err)
		return nil, ps.err()
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			yamlProblem(ps, err)
		} else {
			ps.list = append(ps.list, Problem{File: filename, Line: extra.Line, Msg: "a seed file holds one YAML document"})
		}
		return nil, ps.err()
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	d := decoder{f: f, ps: ps}
	d.decode(root, reflect.ValueOf(f).Elem(), "")
	f.validate(ps)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return f, nil
}

// yamlLine matches the line that yaml.v3 puts in its syntax errors.
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlProblem reports a YAML syntax error with its line when it has one.
func yamlProblem(ps *problems, err error) {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for _, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			n, _ := strconv.Atoi(sm[1])
			ps.list = append(ps.list, Problem{File: ps.f.name, Line: n, Msg: sm[2]})
			continue
		}
		ps.list = append(ps.list, Problem{File: ps.f.name, Msg: m})
	}
}

// decoder fills a File from a yaml.Node tree by reflection over the yaml
// struct tags, recording the line of every field path and reporting every
// mismatch instead of stopping at the first.
type decoder struct {
	f  *File
	ps *problems
}

// fail reports a decoding problem at path and hides later reports below it.
func (d *decoder) fail(path, format string, args ...any) {
	d.ps.add(path, format, args...)
	d.ps.bad[path] = true
}

// kindName names a node kind for messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar"
	}
	return "something else"
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if _, ok := d.f.lines[path]; !ok { // a field has its key's line already
		d.f.lines[path] = n.Line
	}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		d.fail(path, "anchors and aliases are not supported")
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty value is the zero value
	}
	if n.Kind == yaml.DocumentNode { // a document holding only a comment
		return
	}
	switch v.Kind() {
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.fail(path, "want a string, got %s", kindName(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
			d.fail(path, "want true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(path, "want a list, got %s", kindName(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, e := range n.Content {
			d.decode(e, s.Index(i), index(path, i))
		}
		v.Set(s)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Pointer: // an optional value whose absence means its default
		p := reflect.New(v.Type().Elem())
		d.decode(n, p.Elem(), path)
		v.Set(p)
	default:
		panic("seed: cannot decode into " + v.Type().String())
	}
}

// describe shows a scalar's value, or the kind of any other node.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return strconv.Quote(n.Value)
	}
	return kindName(n)
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, "want a mapping, got %s", kindName(n))
		return
	}
	fields := map[string]int{}
	var names []string
	for i := 0; i < v.NumField(); i++ {
		if tag := v.Type().Field(i).Tag.Get("yaml"); tag != "" {
			fields[tag] = i
			names = append(names, tag)
		}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Anchor != "" {
			p := join(path, "?")
			d.f.lines[p] = k.Line
			d.fail(p, "a key must be a plain string")
			continue
		}
		p := join(path, k.Value)
		d.f.lines[p] = k.Line
		fi, ok := fields[k.Value]
		switch {
		case !ok:
			d.fail(p, "unknown field (want one of %s)", strings.Join(names, ", "))
			continue
		case seen[k.Value]:
			d.fail(p, "duplicate field")
			continue
		}
		seen[k.Value] = true
		d.decode(val, v.Field(fi), p)
	}
}
