package seed

import (
	"errors"
	"os"
	"testing"
)

// FuzzParse checks that Parse never panics, and that it either returns a
// valid File or an *Error whose every problem has a message.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("../../deploy/dev/seed.yaml"); err == nil {
		f.Add(data)
	}
	for _, s := range []string{
		"", "{}", "- a", "users: [{email: a@example.com, name: A, password: p4ssword}]",
		"clients:\n  - id: c\n    name: C\n    public: true\n    grant_types: [authorization_code]\n    redirect_uris: [http://127.0.0.1/cb]\n",
		"organizations: &a [{code: A, name: A}]\nservices: *a\n",
		"users:\n  - email: x\n    memberships: [{org: A, role: admin}, {org: A}]\n",
		"legacy_login_ids: [{login_id: ' x', service: s, org: o, password_hash: '$argon2id$v=19$m=8,t=1,p=1$YWFhYWFhYWE$YWFhYWFhYWFhYWFhYWFhYQ'}]",
		"a: b\n---\nc: d\n", "users:\n  - {email: [, name}\n", "? [a]\n: b\n", "<<: {users: []}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data, "fuzz.yaml")
		if err == nil {
			if file == nil {
				t.Fatal("nil File without error")
			}
			ps := newProblems(file)
			file.validate(ps)
			if err := ps.err(); err != nil {
				t.Fatalf("parsed file fails validation: %v", err)
			}
			return
		}
		var se *Error
		if !errors.As(err, &se) || len(se.Problems) == 0 {
			t.Fatalf("want *Error with problems, got %T %v", err, err)
		}
		for _, p := range se.Problems {
			if p.Msg == "" || p.File != "fuzz.yaml" {
				t.Fatalf("bad problem %+v", p)
			}
		}
	})
}
