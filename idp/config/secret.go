package config

import (
	"fmt"
	"os"
	"strings"
)

// SecretRef names where a secret comes from: an environment variable or a
// file (e.g. a mounted Kubernetes secret). Secrets are never written in the
// YAML itself.
type SecretRef struct {
	Env  string `yaml:"env"`
	File string `yaml:"file"`
}

// IsSet reports whether the reference names a source.
func (s SecretRef) IsSet() bool { return s.Env != "" || s.File != "" }

func (s SecretRef) validate(path string, add func(string, ...any)) {
	if s.Env != "" && s.File != "" {
		add("%s: set env or file, not both", path)
	}
}

// Resolve reads the secret. An unset reference resolves to "".
func (s SecretRef) Resolve(getenv func(string) string) (string, error) {
	switch {
	case s.Env != "":
		v := getenv(s.Env)
		if v == "" {
			return "", fmt.Errorf("environment variable %s is empty or unset", s.Env)
		}
		return v, nil
	case s.File != "":
		b, err := os.ReadFile(s.File)
		if err != nil {
			return "", fmt.Errorf("read secret file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}
