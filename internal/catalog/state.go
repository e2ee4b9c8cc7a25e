package catalog

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
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
	// highest is the highest number ever accepted, withdrawn or not: the
	// base of the next number and of MaxVersionStep.
	highest int
	changes []AliasChange // every alias, in log order
	current map[string]int
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
	// skipped counts the records skipped, by reason; onSkip, if set, is
	// told of each.
	skipped map[string]int64
	onSkip  func(reason string)
}

func newState(logger *slog.Logger, onSkip func(string)) *state {
	return &state{
		logger:  logger,
		models:  map[string]*modelState{},
		chunks:  map[string]map[int]int64{},
		changed: make(chan struct{}),
		skipped: map[string]int64{},
		onSkip:  onSkip,
	}
}

var (
	validID     = regexp.MustCompile(`^[0-9a-f]{16}$`)
	validSHA256 = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
)

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

// parseKey takes a key apart, or says why it cannot be used (one of
// SkipReasons).
func parseKey(key string) (parsedKey, string) {
	if len(key) > maxKeyBytes {
		return parsedKey{}, SkipBadKey
	}
	parts := strings.Split(key, "/")
	if len(parts) < 4 || ValidName(parts[0]) != nil || !validID.MatchString(parts[3]) {
		return parsedKey{}, SkipBadKey
	}
	k := parsedKey{name: parts[0], id: parts[3]}
	switch parts[1] {
	case "v":
		n, ok, inRange := parseNumber(parts[2], 1, MaxVersion)
		switch {
		case !ok:
			return parsedKey{}, SkipBadKey
		case !inRange:
			return parsedKey{}, SkipVersionRange
		}
		k.version = n
		switch {
		case len(parts) == 4:
			k.kind = keyMeta
		case len(parts) == 6 && parts[4] == "chunk":
			i, ok, inRange := parseNumber(parts[5], 0, MaxChunks-1)
			switch {
			case !ok:
				return parsedKey{}, SkipBadKey
			case !inRange:
				return parsedKey{}, SkipChunksRange
			}
			k.kind, k.index = keyChunk, i
		default:
			return parsedKey{}, SkipBadKey
		}
	case "alias":
		if len(parts) != 4 || ValidAlias(parts[2]) != nil {
			return parsedKey{}, SkipBadKey
		}
		k.kind, k.alias = keyAlias, parts[2]
	default:
		return parsedKey{}, SkipBadKey
	}
	return k, ""
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
// use is logged, counted by reason and skipped. Every limit is checked
// before anything is kept or allocated by what the record claims.
func (s *state) apply(key string, value []byte, offset int64) {
	s.next = max(s.next, offset+1)
	skip := func(reason, why string, args ...any) {
		s.skipped[reason]++
		if s.onSkip != nil {
			s.onSkip(reason)
		}
		s.logger.Warn("skipping catalog record", append([]any{"key", clip(key), "offset", offset,
			"reason", reason, "why", why}, args...)...)
	}
	k, reason := parseKey(key)
	switch reason {
	case "":
	case SkipVersionRange:
		skip(reason, "version number in the key out of range", "most", MaxVersion)
		return
	case SkipChunksRange:
		skip(reason, "chunk index in the key out of range", "most", MaxChunks-1)
		return
	default:
		skip(reason, "not a key the catalog writes (see doc.go)", "bytes", len(key))
		return
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
		if len(value) > MaxChunkSize {
			skip(SkipTooLarge, "chunk over the limit", "bytes", len(value), "limit", MaxChunkSize)
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
		s.applyAlias(k, value, skip)
	}
}

// skipFunc logs and counts a skipped record.
type skipFunc func(reason, why string, args ...any)

func (s *state) applyMeta(k parsedKey, value []byte, offset int64, skip skipFunc) {
	m := s.models[k.name]
	if value == nil {
		// A tombstone withdraws the version only if it names the record
		// that holds the number.
		if m != nil && m.versions[k.version].id == k.id {
			delete(m.versions, k.version)
		}
		return
	}
	if len(value) > MaxMetadataBytes {
		skip(SkipTooLarge, "metadata over the limit", "bytes", len(value), "limit", MaxMetadataBytes)
		return
	}
	var v Version
	if err := json.Unmarshal(value, &v); err != nil {
		skip(SkipBadJSON, "malformed version metadata", "err", clip(err.Error()))
		return
	}
	highest := 0
	if m != nil {
		highest = m.highest
	}
	least, most := chunkRange(v.Size)
	switch {
	case v.Name != k.name || v.Version != k.version:
		skip(SkipKeyMismatch, "version metadata does not match its key",
			"metadata_name", clip(v.Name), "metadata_version", v.Version)
	case k.version > highest+MaxVersionStep:
		skip(SkipVersionJump, "version number too far above the model's highest",
			"highest", highest, "most_allowed", highest+MaxVersionStep)
	case v.Size < 1 || v.Size > MaxArtifactSize:
		skip(SkipSizeRange, "artifact size out of range", "size", v.Size, "limit", MaxArtifactSize)
	case v.Chunks < least || v.Chunks > most:
		skip(SkipChunksRange, "chunk count does not fit the size", "chunks", v.Chunks, "size", v.Size,
			"least", least, "most", most)
	case !validSHA256.MatchString(v.SHA256):
		skip(SkipBadMetadata, "sha256 is not 64 hex digits", "sha256", clip(v.SHA256))
	case v.Parent < 0 || v.Parent >= v.Version:
		skip(SkipBadMetadata, "parent is not an earlier version", "parent", v.Parent)
	default:
		m = s.model(k.name)
		if prev, ok := m.versions[k.version]; ok {
			skip(SkipDuplicate, "version published twice; keeping the first", "first_offset", prev.offset,
				"same_publish", prev.id == k.id)
			return
		}
		m.versions[k.version] = entry{v: v, id: k.id, offset: offset}
		m.highest = max(m.highest, k.version)
	}
}

func (s *state) applyAlias(k parsedKey, value []byte, skip skipFunc) {
	if len(value) > MaxMetadataBytes {
		skip(SkipTooLarge, "alias change over the limit", "bytes", len(value), "limit", MaxMetadataBytes)
		return
	}
	var ch AliasChange
	if err := json.Unmarshal(value, &ch); err != nil {
		skip(SkipBadJSON, "malformed alias change", "err", clip(err.Error()))
		return
	}
	m := s.models[k.name]
	switch {
	case ch.Name != k.name || ch.Alias != k.alias:
		skip(SkipKeyMismatch, "alias change does not match its key",
			"change_name", clip(ch.Name), "change_alias", clip(ch.Alias))
	case ch.Version < 1 || ch.Version > MaxVersion || ch.Previous < 0 || ch.Previous > MaxVersion:
		skip(SkipVersionRange, "alias change names a version out of range",
			"version", ch.Version, "previous", ch.Previous)
	case ch.Evidence != nil && ch.Evidence.Validate() != nil:
		skip(SkipBadEvidence, "alias change with evidence out of bounds", "err", clip(ch.Evidence.Validate().Error()))
	case m == nil || !hasVersion(m, ch.Version):
		// Following it would serve whatever version later takes the
		// number, promoted by nobody.
		skip(SkipAliasTarget, "alias change names a version the model does not have", "version", ch.Version)
	default:
		m.changes = append(m.changes, ch)
		m.current[ch.Alias] = ch.Version
	}
}

func hasVersion(m *modelState, version int) bool {
	_, ok := m.versions[version]
	return ok
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

// nextVersion is the number Publish gives name's next version: one above
// the highest ever accepted, so a withdrawn number is not given again.
func (s *state) nextVersion(name string) (int, error) {
	highest := 0
	if m := s.models[name]; m != nil {
		highest = m.highest
	}
	if highest >= MaxVersion {
		return 0, fmt.Errorf("%w: model %q has used every version number up to %d", ErrInvalid, name, MaxVersion)
	}
	return highest + 1, nil
}

// skips is a copy of the counts of skipped records, by reason.
func (s *state) skips() map[string]int64 {
	return maps.Clone(s.skipped)
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
