package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// Persistence: the whole state is one JSON snapshot, registry.json in
// Config.Dir, rewritten on every change as temp file + fsync + rename +
// fsync of the directory. A reader of the directory therefore only ever
// sees a complete old or a complete new snapshot.
//
// Why a snapshot rather than an append-only log: a registry's state is tiny
// (a handful of schemas of a few KiB) and it changes at human pace, so
// rewriting all of it costs well under a millisecond plus the fsyncs a log
// pays too. In exchange there is a single code path for state (no replay of
// events that must agree with the live handlers), no torn-record recovery,
// no compaction after hard deletes, and a file a person can read. Past tens
// of thousands of schemas a log would win; this registry is not meant for
// that.
//
// One Registry may use a Dir at a time; nothing stops a second process from
// overwriting the first one's snapshot.

const (
	snapshotName   = "registry.json"
	snapshotFormat = 1
)

// snapshot is the on-disk form of state. It is separate from state so the
// file format stays stable while the in-memory indexes change.
type snapshot struct {
	Format        int               `json:"format"`
	NextID        int               `json:"next_id"`
	Compatibility Compatibility     `json:"compatibility,omitempty"`
	Schemas       []snapshotSchema  `json:"schemas"`
	Subjects      []snapshotSubject `json:"subjects"`
}

type snapshotSchema struct {
	ID     int    `json:"id"`
	Schema string `json:"schema"`
}

type snapshotSubject struct {
	Name          string            `json:"name"`
	Compatibility Compatibility     `json:"compatibility,omitempty"`
	Versions      []snapshotVersion `json:"versions"`
}

type snapshotVersion struct {
	Version int  `json:"version"`
	ID      int  `json:"id"`
	Deleted bool `json:"deleted,omitempty"`
}

// snapshotStore reads and writes the snapshot in one directory.
type snapshotStore struct {
	dir string
}

func (s *snapshotStore) path() string { return filepath.Join(s.dir, snapshotName) }

// load reads the snapshot, or returns an empty state when there is none
// yet. It also removes temp files left by a write that crashed before its
// rename.
func (s *snapshotStore) load() (*state, error) {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", s.dir, err)
	}
	stale, err := filepath.Glob(filepath.Join(s.dir, snapshotName+".*.tmp"))
	if err != nil {
		return nil, fmt.Errorf("list temp files: %w", err)
	}
	for _, name := range stale {
		if err := os.Remove(name); err != nil {
			return nil, fmt.Errorf("remove stale temp file: %w", err)
		}
	}
	data, err := os.ReadFile(s.path())
	if errors.Is(err, fs.ErrNotExist) {
		return newState(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	var snap snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return nil, fmt.Errorf("decode snapshot %s: %w", s.path(), err)
	}
	st, err := snap.toState()
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", s.path(), err)
	}
	return st, nil
}

// save makes st the durable state.
func (s *snapshotStore) save(st *state) error {
	data, err := json.MarshalIndent(snapshotOf(st), "", "  ")
	if err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}
	tmp, err := os.CreateTemp(s.dir, snapshotName+".*.tmp")
	if err != nil {
		return fmt.Errorf("create temp snapshot: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write temp snapshot: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync temp snapshot: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close temp snapshot: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path()); err != nil {
		return fmt.Errorf("replace snapshot: %w", err)
	}
	committed = true
	return syncDir(s.dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

func snapshotOf(st *state) snapshot {
	snap := snapshot{
		Format:        snapshotFormat,
		NextID:        st.nextID,
		Compatibility: st.global,
		Schemas:       make([]snapshotSchema, 0, len(st.schemas)),
		Subjects:      make([]snapshotSubject, 0, len(st.subjects)),
	}
	for _, id := range slices.Sorted(maps.Keys(st.schemas)) {
		snap.Schemas = append(snap.Schemas, snapshotSchema{ID: id, Schema: st.schemas[id].text})
	}
	for _, name := range slices.Sorted(maps.Keys(st.subjects)) {
		sub := st.subjects[name]
		out := snapshotSubject{Name: name, Compatibility: sub.compatibility, Versions: []snapshotVersion{}}
		for _, v := range sub.versions {
			out.Versions = append(out.Versions, snapshotVersion{Version: v.version, ID: v.id, Deleted: v.deleted})
		}
		snap.Subjects = append(snap.Subjects, out)
	}
	return snap
}

// toState rebuilds the in-memory state, checking every invariant the
// handlers rely on so a hand-edited or foreign file fails loudly at start
// rather than as a wrong answer later.
func (snap snapshot) toState() (*state, error) {
	if snap.Format != snapshotFormat {
		return nil, fmt.Errorf("unsupported format %d (want %d)", snap.Format, snapshotFormat)
	}
	if snap.NextID < 1 {
		return nil, fmt.Errorf("next_id %d is below 1", snap.NextID)
	}
	st := newState()
	st.nextID = snap.NextID
	if snap.Compatibility != "" {
		level, err := ParseCompatibility(string(snap.Compatibility))
		if err != nil {
			return nil, fmt.Errorf("global level: %w", err)
		}
		st.global = level
	}
	for _, s := range snap.Schemas {
		if s.ID < 1 || s.ID >= snap.NextID {
			return nil, fmt.Errorf("schema id %d outside [1, next_id %d)", s.ID, snap.NextID)
		}
		if _, dup := st.schemas[s.ID]; dup {
			return nil, fmt.Errorf("schema id %d appears twice", s.ID)
		}
		schema, key, err := parseAvro(s.Schema)
		if err != nil {
			return nil, fmt.Errorf("schema id %d: %w", s.ID, err)
		}
		st.schemas[s.ID] = &storedSchema{id: s.ID, text: s.Schema, key: key, schema: schema}
		// Should two ids hold the same schema, keep answering with the
		// older one.
		if old, ok := st.byKey[key]; !ok || s.ID < old {
			st.byKey[key] = s.ID
		}
	}
	for _, sub := range snap.Subjects {
		if _, dup := st.subjects[sub.Name]; dup {
			return nil, fmt.Errorf("subject %q appears twice", sub.Name)
		}
		out := &subjectState{}
		if sub.Compatibility != "" {
			level, err := ParseCompatibility(string(sub.Compatibility))
			if err != nil {
				return nil, fmt.Errorf("subject %q level: %w", sub.Name, err)
			}
			out.compatibility = level
		}
		last := 0
		for _, v := range sub.Versions {
			if v.Version <= last {
				return nil, fmt.Errorf("subject %q: version %d out of order", sub.Name, v.Version)
			}
			if _, ok := st.schemas[v.ID]; !ok {
				return nil, fmt.Errorf("subject %q version %d: unknown schema id %d", sub.Name, v.Version, v.ID)
			}
			last = v.Version
			out.versions = append(out.versions, versionState{version: v.Version, id: v.ID, deleted: v.Deleted})
		}
		st.subjects[sub.Name] = out
	}
	return st, nil
}
