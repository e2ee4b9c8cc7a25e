package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
)

// The snapshot format that versions before the log kept: the whole state
// as one JSON file, registry.json, rewritten on every change. A registry
// that finds one and no log migrates it once (see openLog); nothing writes
// it any more.

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

// loadSnapshot reads a snapshot file into a state and returns the hex
// SHA-256 of the file, which the log made from it records.
func loadSnapshot(path string) (*state, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("read snapshot: %w", err)
	}
	sum := sha256.Sum256(data)
	var snap snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return nil, "", fmt.Errorf("decode snapshot %s: %w", path, err)
	}
	st, err := snap.toState()
	if err != nil {
		return nil, "", fmt.Errorf("snapshot %s: %w", path, err)
	}
	return st, hex.EncodeToString(sum[:]), nil
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
