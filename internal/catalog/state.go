package catalog

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// entry is a version's metadata and where it was written.
type entry struct {
	v      Version
	id     string // the publisher's ID in its keys
	offset int64  // of the metadata record
}

// modelState is what the topic says about one model.
type modelState struct {
	versions map[int]entry
	changes  []AliasChange // every alias, in log order
	current  map[string]int
}

// state is the catalog rebuilt from the topic. It is not synchronised: the
// Catalog guards it.
type state struct {
	logger *slog.Logger
	models map[string]*modelState
	// chunks maps a publish ("NAME/v/N/ID") to the offset of each chunk.
	chunks map[string]map[int]int64
	// next is the offset after the last record applied.
	next int64
	// changed is closed, and replaced, whenever records are applied.
	changed chan struct{}
}

func newState(logger *slog.Logger) *state {
	return &state{
		logger:  logger,
		models:  map[string]*modelState{},
		chunks:  map[string]map[int]int64{},
		changed: make(chan struct{}),
	}
}

var validID = regexp.MustCompile(`^[0-9a-f]{16}$`)

// key kinds.
const (
	keyUnknown = iota
	keyMeta
	keyChunk
	keyAlias
)

// parsedKey is a record key taken apart; see the layout in doc.go.
type parsedKey struct {
	kind    int
	name    string
	version int    // meta, chunk
	id      string // every kind
	index   int    // chunk
	alias   string // alias
}

// publish is the chunk map key of a meta or chunk key.
func (k parsedKey) publish() string {
	return fmt.Sprintf("%s/v/%d/%s", k.name, k.version, k.id)
}

func parseKey(key string) parsedKey {
	parts := strings.Split(key, "/")
	bad := parsedKey{kind: keyUnknown}
	if len(parts) < 4 || ValidName(parts[0]) != nil || !validID.MatchString(parts[3]) {
		return bad
	}
	k := parsedKey{name: parts[0], id: parts[3]}
	switch parts[1] {
	case "v":
		n, err := strconv.Atoi(parts[2])
		if err != nil || n < 1 || strconv.Itoa(n) != parts[2] {
			return bad
		}
		k.version = n
		switch {
		case len(parts) == 4:
			k.kind = keyMeta
		case len(parts) == 6 && parts[4] == "chunk":
			i, err := strconv.Atoi(parts[5])
			if err != nil || i < 0 || strconv.Itoa(i) != parts[5] {
				return bad
			}
			k.kind, k.index = keyChunk, i
		default:
			return bad
		}
	case "alias":
		if len(parts) != 4 || ValidAlias(parts[2]) != nil {
			return bad
		}
		k.kind, k.alias = keyAlias, parts[2]
	default:
		return bad
	}
	return k
}

func metaKey(name string, version int, id string) string {
	return fmt.Sprintf("%s/v/%d/%s", name, version, id)
}

func chunkKey(name string, version int, id string, i int) string {
	return fmt.Sprintf("%s/v/%d/%s/chunk/%d", name, version, id, i)
}

func aliasKey(name, alias, id string) string {
	return fmt.Sprintf("%s/alias/%s/%s", name, alias, id)
}

func (s *state) model(name string) *modelState {
	m := s.models[name]
	if m == nil {
		m = &modelState{versions: map[int]entry{}, current: map[string]int{}}
		s.models[name] = m
	}
	return m
}

// apply folds one record into the state. It never fails: a record it cannot
// use is logged and skipped.
func (s *state) apply(key string, value []byte, offset int64) {
	s.next = max(s.next, offset+1)
	k := parseKey(key)
	skip := func(why string, args ...any) {
		s.logger.Warn("skipping catalog record", append([]any{"key", key, "offset", offset, "why", why}, args...)...)
	}
	switch k.kind {
	case keyMeta:
		s.applyMeta(k, value, offset, skip)
	case keyChunk:
		p := k.publish()
		if value == nil {
			delete(s.chunks[p], k.index)
			return
		}
		if s.chunks[p] == nil {
			s.chunks[p] = map[int]int64{}
		}
		s.chunks[p][k.index] = offset
	case keyAlias:
		if value == nil {
			return // history is never withdrawn
		}
		var ch AliasChange
		if err := json.Unmarshal(value, &ch); err != nil {
			skip("malformed alias change", "err", err)
			return
		}
		if ch.Name != k.name || ch.Alias != k.alias || ch.Version < 1 || ch.Previous < 0 {
			skip("alias change does not match its key")
			return
		}
		m := s.model(k.name)
		m.changes = append(m.changes, ch)
		m.current[ch.Alias] = ch.Version
	default:
		s.logger.Debug("ignoring record with an unknown key", "key", key, "offset", offset)
	}
}

func (s *state) applyMeta(k parsedKey, value []byte, offset int64, skip func(string, ...any)) {
	m := s.models[k.name]
	if value == nil {
		// A tombstone withdraws the version only if it names the record
		// that holds the number.
		if m != nil && m.versions[k.version].id == k.id {
			delete(m.versions, k.version)
		}
		return
	}
	var v Version
	if err := json.Unmarshal(value, &v); err != nil {
		skip("malformed version metadata", "err", err)
		return
	}
	if v.Name != k.name || v.Version != k.version || v.Chunks < 1 || v.Size < 1 || v.SHA256 == "" {
		skip("version metadata does not match its key")
		return
	}
	m = s.model(k.name)
	if prev, ok := m.versions[k.version]; ok {
		if prev.id != k.id {
			s.logger.Warn("version published twice; keeping the first", "name", k.name, "version", k.version,
				"first_offset", prev.offset, "offset", offset)
		}
		return
	}
	m.versions[k.version] = entry{v: v, id: k.id, offset: offset}
}

// notify wakes everyone waiting on a change.
func (s *state) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *state) modelNames() []string {
	names := slices.Collect(maps.Keys(s.models))
	slices.Sort(names)
	return names
}

func (s *state) versions(name string) []Version {
	m := s.models[name]
	if m == nil || len(m.versions) == 0 {
		return nil
	}
	nums := slices.Sorted(maps.Keys(m.versions))
	out := make([]Version, len(nums))
	for i, n := range nums {
		out[i] = m.versions[n].v
	}
	return out
}

func (s *state) latest(name string) int {
	m := s.models[name]
	if m == nil || len(m.versions) == 0 {
		return 0
	}
	return slices.Max(slices.Collect(maps.Keys(m.versions)))
}

func (s *state) entry(name string, version int) (entry, error) {
	m := s.models[name]
	if m == nil {
		return entry{}, fmt.Errorf("model %q: %w", name, ErrNotFound)
	}
	e, ok := m.versions[version]
	if !ok {
		return entry{}, fmt.Errorf("model %q version %d: %w", name, version, ErrNotFound)
	}
	return e, nil
}

func (s *state) aliases(name string) map[string]int {
	m := s.models[name]
	if m == nil {
		return map[string]int{}
	}
	return maps.Clone(m.current)
}

func (s *state) resolve(name, alias string) (Version, error) {
	m := s.models[name]
	if m == nil {
		return Version{}, fmt.Errorf("model %q: %w", name, ErrNotFound)
	}
	n, ok := m.current[alias]
	if !ok {
		return Version{}, fmt.Errorf("model %q alias %q: %w", name, alias, ErrNotFound)
	}
	e, ok := m.versions[n]
	if !ok {
		return Version{}, fmt.Errorf("model %q alias %q points at version %d: %w", name, alias, n, ErrNotFound)
	}
	return e.v, nil
}

func (s *state) history(name string) []AliasChange {
	m := s.models[name]
	if m == nil {
		return nil
	}
	return slices.Clone(m.changes)
}

// undoable returns the change a Rollback of alias would undo: the latest
// change not already undone. Each rollback cancels the change before it.
func (s *state) undoable(name, alias string) (AliasChange, bool) {
	m := s.models[name]
	if m == nil {
		return AliasChange{}, false
	}
	var stack []AliasChange
	for _, ch := range m.changes {
		if ch.Alias != alias {
			continue
		}
		if ch.Rollback {
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		stack = append(stack, ch)
	}
	if len(stack) == 0 {
		return AliasChange{}, false
	}
	return stack[len(stack)-1], true
}
