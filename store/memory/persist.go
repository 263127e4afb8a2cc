package memory

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"time"

	"github.com/customerhub/hubid/store"
)

// Saving and loading let `hubid dev` keep browser sessions, refresh tokens
// and the rest across a restart (its store is otherwise lost with the
// process). Production uses store/redis and never calls them.

// fileState is what Save writes: every map of the store, by value.
type fileState struct {
	Version  int
	Sessions map[string]store.Session
	AuthReqs map[string]store.AuthRequest
	Codes    map[string]store.AuthCode
	Tokens   map[string]store.RefreshToken
	Families map[string]fileFamily
	Revoked  map[string]time.Time
	Counters map[string]fileCounter
	TOTP     []fileTOTP
}

type fileFamily struct {
	Until   time.Time
	Revoked bool
}

type fileCounter struct {
	Count int64
	End   time.Time
}

type fileTOTP struct {
	User  string
	Step  int64
	Until time.Time
}

const fileVersion = 1

// Save writes the store's live records to path atomically (a temporary
// file in the same directory, then rename), readable by the owner only.
// Saving is no write: it does not start an autosave's timer.
func (s *Store) Save(path string) error {
	now := s.now()
	s.mu.Lock()
	st := fileState{Version: fileVersion,
		Sessions: map[string]store.Session{}, AuthReqs: map[string]store.AuthRequest{},
		Codes: map[string]store.AuthCode{}, Tokens: map[string]store.RefreshToken{},
		Families: map[string]fileFamily{}, Revoked: map[string]time.Time{},
		Counters: map[string]fileCounter{}}
	s.sweep(now)
	maps.Copy(st.Sessions, s.sessions)
	maps.Copy(st.AuthReqs, s.authReqs)
	maps.Copy(st.Codes, s.codes)
	maps.Copy(st.Tokens, s.tokens)
	for k, v := range s.families {
		st.Families[k] = fileFamily{Until: v.until, Revoked: v.revoked}
	}
	maps.Copy(st.Revoked, s.revoked)
	for k, v := range s.counters {
		st.Counters[k] = fileCounter{Count: v.count, End: v.end}
	}
	for k, v := range s.totp {
		st.TOTP = append(st.TOTP, fileTOTP{User: k, Step: v.step, Until: v.until})
	}
	var buf bytes.Buffer
	err := gob.NewEncoder(&buf).Encode(st) // under the lock: maps are shared
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("store/memory: save: %w", err)
	}
	return writeAtomic(path, buf.Bytes())
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("store/memory: save: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("store/memory: save: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("store/memory: save: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("store/memory: save: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("store/memory: save: %w", err)
	}
	return nil
}

// Load replaces the store's records with those saved at path, dropping
// the ones expired by now. A missing file is not an error (nothing was
// saved); an unreadable or corrupt one is, and leaves the store empty.
func (s *Store) Load(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store/memory: load: %w", err)
	}
	var st fileState
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&st); err != nil {
		return fmt.Errorf("store/memory: load %s: %w", path, err)
	}
	if st.Version != fileVersion {
		return fmt.Errorf("store/memory: load %s: unknown version %d", path, st.Version)
	}
	now := s.begin()
	defer s.mu.Unlock()
	for k, v := range st.Sessions {
		s.sessions[k] = v
		if s.byUser[v.UserID] == nil {
			s.byUser[v.UserID] = map[string]struct{}{}
		}
		s.byUser[v.UserID][k] = struct{}{}
	}
	maps.Copy(s.authReqs, st.AuthReqs)
	maps.Copy(s.codes, st.Codes)
	maps.Copy(s.tokens, st.Tokens)
	for k, v := range st.Families {
		s.families[k] = family{until: v.Until, revoked: v.Revoked}
	}
	maps.Copy(s.revoked, st.Revoked)
	for k, v := range st.Counters {
		s.counters[k] = counter{count: v.Count, end: v.End}
	}
	for _, v := range st.TOTP {
		s.totp[v.User] = lastStep{step: v.Step, until: v.Until}
	}
	s.sweep(now) // expired entries are dropped on load
	return nil
}
