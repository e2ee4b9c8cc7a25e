package registry

import (
	"errors"
	"fmt"
	"slices"
)

// A change is one write to the registry, as it is appended to the log.
// Live writes and the replay at start apply changes with the same code
// (state.apply), so what a restarted registry rebuilds is what the running
// one held. A change states its outcome (version 3 of "s" holds id 7), not
// the request that led to it: replay re-runs no compatibility check and
// hands out no id.
type change struct {
	Op string `json:"op"`
	// Header fields; the header is the first line of every log.
	Format int `json:"format,omitempty"`
	NextID int `json:"next_id,omitempty"`
	// SnapshotSHA256 is set when the log was made from a registry.json
	// snapshot: the digest of that file, so a start that finds both knows
	// whether the snapshot is the one already migrated.
	SnapshotSHA256 string `json:"snapshot_sha256,omitempty"`

	Subject string `json:"subject,omitempty"`
	Version int    `json:"version,omitempty"`
	ID      int    `json:"id,omitempty"`
	// Schema is the text of a new id, given once, in the change that
	// first uses the id.
	Schema    string        `json:"schema,omitempty"`
	Deleted   bool          `json:"deleted,omitempty"`
	Permanent bool          `json:"permanent,omitempty"`
	Level     Compatibility `json:"level,omitempty"`

	// parsed is Schema already parsed by the request that brought it, so
	// a live write does not parse it twice.
	parsed *candidate
}

// Change ops.
const (
	opHeader = "header"
	// opSchema adds an id that no version uses (compaction writes these
	// for ids whose versions were all deleted for good).
	opSchema = "schema"
	// opVersion adds a version to a subject, and with Schema a new id.
	opVersion = "version"
	// opDeleteVersion soft-deletes a version, or with Permanent forgets it.
	opDeleteVersion = "delete_version"
	// opDeleteSubject soft-deletes every version of a subject and drops its
	// level, or with Permanent forgets the subject.
	opDeleteSubject = "delete_subject"
	// opLevel sets a subject's level; an empty Level removes it.
	opLevel = "level"
	// opGlobalLevel sets the registry-wide level; empty restores the
	// configured default.
	opGlobalLevel = "global_level"
)

// errBadChange marks a change that does not fit the state it is applied
// to: a corrupt or hand-edited log at start, a bug in a live write.
var errBadChange = errors.New("change does not apply")

// apply makes c on s, which must be a state no reader can see yet.
func (s *state) apply(c *change) error {
	switch c.Op {
	case opSchema:
		return s.addSchema(c)
	case opVersion:
		return s.addVersion(c)
	case opDeleteVersion:
		return s.deleteVersion(c)
	case opDeleteSubject:
		return s.deleteSubject(c)
	case opLevel:
		level, err := changeLevel(c)
		if err != nil {
			return err
		}
		s.editSubject(c.Subject).compatibility = level
		s.dropSubjectIfEmpty(c.Subject)
		return nil
	case opGlobalLevel:
		level, err := changeLevel(c)
		if err != nil {
			return err
		}
		s.global = level
		return nil
	default:
		return fmt.Errorf("%w: unknown op %q", errBadChange, c.Op)
	}
}

// addSchema adds the schema id c.ID with text c.Schema.
func (s *state) addSchema(c *change) error {
	if c.ID < 1 {
		return fmt.Errorf("%w: schema id %d is below 1", errBadChange, c.ID)
	}
	if _, dup := s.schemas[c.ID]; dup {
		return fmt.Errorf("%w: schema id %d is added twice", errBadChange, c.ID)
	}
	parsed := c.parsed
	if parsed == nil {
		schema, key, err := parseAvro(c.Schema)
		if err != nil {
			return fmt.Errorf("%w: schema id %d: %w", errBadChange, c.ID, err)
		}
		parsed = &candidate{text: c.Schema, key: key, schema: schema}
	}
	s.schemas[c.ID] = &storedSchema{id: c.ID, text: parsed.text, key: parsed.key, schema: parsed.schema}
	// Should two ids hold the same schema (an old snapshot may), keep
	// answering with the older one.
	if old, ok := s.byKey[parsed.key]; !ok || c.ID < old {
		s.byKey[parsed.key] = c.ID
	}
	s.nextID = max(s.nextID, c.ID+1)
	return nil
}

func (s *state) addVersion(c *change) error {
	if c.Schema != "" {
		if err := s.addSchema(c); err != nil {
			return err
		}
	} else if _, ok := s.schemas[c.ID]; !ok {
		return fmt.Errorf("%w: subject %q version %d: unknown schema id %d", errBadChange, c.Subject, c.Version, c.ID)
	}
	last := 0
	if sub := s.subjects[c.Subject]; sub != nil && len(sub.versions) > 0 {
		last = sub.versions[len(sub.versions)-1].version
	}
	if c.Version <= last {
		return fmt.Errorf("%w: subject %q: version %d does not follow version %d", errBadChange, c.Subject, c.Version, last)
	}
	sub := s.editSubject(c.Subject)
	sub.versions = append(sub.versions, versionState{version: c.Version, id: c.ID, deleted: c.Deleted})
	return nil
}

func (s *state) deleteVersion(c *change) error {
	sub := s.subjects[c.Subject]
	if sub == nil {
		return fmt.Errorf("%w: delete version %d of unknown subject %q", errBadChange, c.Version, c.Subject)
	}
	i := slices.IndexFunc(sub.versions, func(v versionState) bool { return v.version == c.Version })
	if i < 0 {
		return fmt.Errorf("%w: delete unknown version %d of subject %q", errBadChange, c.Version, c.Subject)
	}
	edit := s.editSubject(c.Subject)
	if c.Permanent {
		edit.versions = slices.Delete(edit.versions, i, i+1)
	} else {
		edit.versions[i].deleted = true
	}
	s.dropSubjectIfEmpty(c.Subject)
	return nil
}

func (s *state) deleteSubject(c *change) error {
	if sub := s.subjects[c.Subject]; sub == nil || len(sub.versions) == 0 {
		return fmt.Errorf("%w: delete unknown subject %q", errBadChange, c.Subject)
	}
	if c.Permanent {
		delete(s.subjects, c.Subject)
		return nil
	}
	edit := s.editSubject(c.Subject)
	for i := range edit.versions {
		edit.versions[i].deleted = true
	}
	edit.compatibility = ""
	return nil
}

// changeLevel is c's level, checked: a hand-edited log could hold any
// string.
func changeLevel(c *change) (Compatibility, error) {
	if c.Level == "" {
		return "", nil
	}
	level, err := ParseCompatibility(string(c.Level))
	if err != nil || level != c.Level {
		return "", fmt.Errorf("%w: level %q", errBadChange, c.Level)
	}
	return level, nil
}
