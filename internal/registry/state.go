package registry

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/hamba/avro/v2"
)

// state is everything the registry knows. Writers never change a published
// state: they clone it, apply one change to the clone, persist the change
// and then swap the clone in (see Registry.update), so a failed write
// leaves nothing half-applied, and a published state may be read without a
// lock once it has been obtained.
type state struct {
	// nextID is the id the next new schema gets. It only grows, so an id is
	// never handed out twice, even after hard deletes.
	nextID int
	// global is the registry-wide level set with PUT /config; "" means the
	// configured default.
	global   Compatibility
	schemas  map[int]*storedSchema
	byKey    map[schemaKey]int
	subjects map[string]*subjectState
}

// storedSchema is one schema id. It is immutable once created and shared
// between state clones. Ids stay resolvable after every version using them
// is deleted: records already written with the id must stay decodable.
type storedSchema struct {
	id     int
	text   string
	key    schemaKey
	schema avro.Schema
}

// subjectState is a subject's version history and its own level.
type subjectState struct {
	// compatibility is the subject-level override; "" means inherit.
	compatibility Compatibility
	// versions is ordered by version number, soft-deleted ones included.
	versions []versionState
}

// versionState is one version of a subject and the schema id it holds.
type versionState struct {
	version int
	id      int
	deleted bool
}

func newState() *state {
	return &state{
		nextID:   1,
		schemas:  make(map[int]*storedSchema),
		byKey:    make(map[schemaKey]int),
		subjects: make(map[string]*subjectState),
	}
}

// clone returns a state that a write may change without touching s. The
// maps are copied; the values they point to are shared: storedSchema is
// immutable, and a subjectState is copied on its first change through
// editSubject, so a write costs O(number of subjects) map copying rather
// than a deep copy of every history.
func (s *state) clone() *state {
	return &state{
		nextID:   s.nextID,
		global:   s.global,
		schemas:  maps.Clone(s.schemas),
		byKey:    maps.Clone(s.byKey),
		subjects: maps.Clone(s.subjects),
	}
}

// editSubject returns a copy of subject's state that the caller may change,
// creating the subject if needed. Every change to a subject goes through
// it: the subjectState in a cloned map is still the published state's.
func (s *state) editSubject(subject string) *subjectState {
	edit := &subjectState{}
	if sub := s.subjects[subject]; sub != nil {
		edit.compatibility = sub.compatibility
		edit.versions = slices.Clone(sub.versions)
	}
	s.subjects[subject] = edit
	return edit
}

// visible returns a subject's versions, optionally with soft-deleted ones,
// oldest first. A nil result means the subject does not exist for the
// caller.
func (s *state) visible(subject string, includeDeleted bool) []versionState {
	sub := s.subjects[subject]
	if sub == nil {
		return nil
	}
	if includeDeleted {
		return sub.versions
	}
	var live []versionState
	for _, v := range sub.versions {
		if !v.deleted {
			live = append(live, v)
		}
	}
	return live
}

// subjectNames lists subjects with at least one visible version, sorted.
func (s *state) subjectNames(includeDeleted bool, prefix string) []string {
	names := []string{}
	for name := range s.subjects {
		if strings.HasPrefix(name, prefix) && len(s.visible(name, includeDeleted)) > 0 {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// resolve finds one version of a subject.
func (s *state) resolve(subject string, ref versionRef, includeDeleted bool) (versionState, error) {
	versions := s.visible(subject, includeDeleted)
	if len(versions) == 0 {
		return versionState{}, errSubjectNotFound(subject)
	}
	if ref.latest {
		return versions[len(versions)-1], nil
	}
	for _, v := range versions {
		if v.version == ref.number {
			return v, nil
		}
	}
	return versionState{}, errVersionNotFound(ref.number)
}

// history is the parsed schemas of a subject's live versions, oldest first,
// as compatibility checks want them.
func (s *state) history(subject string) []priorSchema {
	var out []priorSchema
	for _, v := range s.visible(subject, false) {
		out = append(out, priorSchema{version: v.version, schema: s.schemas[v.id].schema})
	}
	return out
}

// versionWithKey finds the newest version of subject holding the schema
// with identity key.
func (s *state) versionWithKey(subject string, key schemaKey, includeDeleted bool) (versionState, bool) {
	id, ok := s.byKey[key]
	if !ok {
		return versionState{}, false
	}
	versions := s.visible(subject, includeDeleted)
	for i := len(versions) - 1; i >= 0; i-- {
		if versions[i].id == id {
			return versions[i], true
		}
	}
	return versionState{}, false
}

// compatibilityFor is the level that governs subject.
func (s *state) compatibilityFor(subject string, def Compatibility) Compatibility {
	if sub := s.subjects[subject]; sub != nil && sub.compatibility != "" {
		return sub.compatibility
	}
	return s.globalCompatibility(def)
}

func (s *state) globalCompatibility(def Compatibility) Compatibility {
	if s.global != "" {
		return s.global
	}
	return def
}

// dropSubjectIfEmpty forgets a subject that has neither versions nor a
// subject-level setting.
func (s *state) dropSubjectIfEmpty(subject string) {
	if sub := s.subjects[subject]; sub != nil && len(sub.versions) == 0 && sub.compatibility == "" {
		delete(s.subjects, subject)
	}
}

// subjectVersionsOf lists where schema id is used, ordered by subject then
// version.
func (s *state) subjectVersionsOf(id int, includeDeleted bool) []subjectVersion {
	out := []subjectVersion{}
	for _, name := range s.subjectNames(includeDeleted, "") {
		for _, v := range s.visible(name, includeDeleted) {
			if v.id == id {
				out = append(out, subjectVersion{Subject: name, Version: v.version})
			}
		}
	}
	return out
}

// subjectVersion is one entry of GET /schemas/ids/{id}/versions.
type subjectVersion struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// versionRef is a {version} path segment: a number, or the latest live
// version ("latest" or -1).
type versionRef struct {
	latest bool
	number int
}

func parseVersionRef(raw string) (versionRef, error) {
	if raw == "latest" || raw == "-1" {
		return versionRef{latest: true}, nil
	}
	n, err := strconv.ParseInt(raw, 10, 32)
	if err != nil || n < 1 {
		return versionRef{}, errInvalidVersion(raw)
	}
	return versionRef{number: int(n)}, nil
}
