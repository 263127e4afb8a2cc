package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// indexFile is the JSON index a DirSender keeps beside the .eml files.
const indexFile = "index.json"

// DirConfig configures a DirSender. Zero fields take the defaults noted.
type DirConfig struct {
	From string           // the From header
	Now  func() time.Time // time.Now
	Rand io.Reader        // IDs (crypto/rand)
}

// DirSender is the Sender of `hubid dev`: it writes each message into a
// directory as <time>-<id>.eml and lists it in index.json, where
// DevMailbox shows it. One process writes a directory.
type DirSender struct {
	dir  string
	cfg  DirConfig
	from *mail.Address
	mu   sync.Mutex // serializes index updates
}

var _ Sender = (*DirSender)(nil)

// DevEntry is one message in a DirSender's index.
type DevEntry struct {
	ID      string    `json:"id"`
	File    string    `json:"file"` // name within the directory
	To      string    `json:"to"`
	Subject string    `json:"subject"`
	Time    time.Time `json:"time"`
}

// NewDirSender returns a sender writing into dir, which it creates.
func NewDirSender(dir string, cfg DirConfig) (*DirSender, error) {
	from, err := parseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: dir sender: from: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mail: dir sender: %w", err)
	}
	return &DirSender{dir: dir, cfg: cfg, from: from}, nil
}

// Send writes m and adds it to the index.
func (d *DirSender) Send(_ context.Context, m Message) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.cfg.Now().UTC()
	env, err := render(m, d.from, now, d.cfg.Rand)
	if err != nil {
		return fmt.Errorf("mail: dir sender: %w", err)
	}
	var raw [8]byte
	if _, err := io.ReadFull(d.cfg.Rand, raw[:]); err != nil {
		return fmt.Errorf("mail: dir sender: random: %w", err)
	}
	id := hex.EncodeToString(raw[:])
	name := now.Format("20060102T150405.000000000Z") + "-" + id + ".eml"
	if err := writeAtomic(filepath.Join(d.dir, name), env.Raw); err != nil {
		return fmt.Errorf("mail: dir sender: %w", err)
	}
	entries, err := readIndex(d.dir)
	if err != nil {
		return fmt.Errorf("mail: dir sender: %w", err)
	}
	entries = append(entries, DevEntry{ID: id, File: name, To: env.To, Subject: m.Subject, Time: now})
	body, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		return fmt.Errorf("mail: dir sender: %w", err)
	}
	if err := writeAtomic(filepath.Join(d.dir, indexFile), body); err != nil {
		return fmt.Errorf("mail: dir sender: %w", err)
	}
	return nil
}

// readIndex reads dir's index; a missing index is empty.
func readIndex(dir string) ([]DevEntry, error) {
	body, err := os.ReadFile(filepath.Join(dir, indexFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var entries []DevEntry
	if err := json.Unmarshal(body, &entries); err != nil {
		return nil, fmt.Errorf("%s: %w", indexFile, err)
	}
	return entries, nil
}

// writeAtomic writes a file through a temporary file and a rename, so a
// reader never sees half of it.
func writeAtomic(path string, body []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // fails harmlessly after the rename
	if _, err := f.Write(body); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// decodeHeader decodes RFC 2047 words; undecodable text is kept as is.
func decodeHeader(s string) string {
	dec, err := new(mime.WordDecoder).DecodeHeader(s)
	if err != nil {
		return s
	}
	return dec
}
