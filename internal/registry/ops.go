package registry

import (
	"errors"
	"strconv"
)

// The operations behind the routes. Each takes what the request carried,
// reads or updates the state, and returns either a result or an *apiError
// the handler answers with.

// registered is one subject version as GET /subjects/{s}/versions/{v} and
// POST /subjects/{s} return it. Confluent omits schemaType for Avro, and so
// do we; both clients default a missing one to AVRO.
type registered struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
	ID      int    `json:"id"`
	Schema  string `json:"schema"`
}

// register adds c to subject unless it is there already, enforcing the
// subject's compatibility level, and returns the schema id.
//
// The compatibility check, the slow part (it grows with the schema's
// breadth), runs on a published state without holding the registry's
// lock, so it delays no reader and no other subject's writes. The write
// then goes ahead only if the subject and its level are still what the
// check saw; otherwise the check runs again on the newer state.
func (r *Registry) register(subject string, c *candidate) (int, error) {
	for {
		seen := r.current()
		// Most calls re-register a schema the subject already has
		// (producers do at every start): nothing to write.
		if v, ok := seen.versionWithKey(subject, c.key, false); ok {
			return v.id, nil
		}
		level := seen.compatibilityFor(subject, r.defaultLevel)
		if reasons := level.check(c.schema, seen.history(subject)); len(reasons) > 0 {
			return 0, errIncompatible(subject, level, reasons)
		}
		if err := admit(c); err != nil {
			return 0, err
		}
		var done *change
		err := r.update(func(st *state) (*change, error) {
			if st.subjects[subject] != seen.subjects[subject] || st.compatibilityFor(subject, r.defaultLevel) != level {
				return nil, errStale
			}
			ch := &change{Op: opVersion, Subject: subject, Version: 1, parsed: c}
			if versions := st.visible(subject, true); len(versions) > 0 {
				ch.Version = versions[len(versions)-1].version + 1
			}
			if id, ok := st.byKey[c.key]; ok {
				ch.ID = id
			} else {
				ch.ID, ch.Schema = st.nextID, c.text
			}
			done = ch
			return ch, nil
		})
		if errors.Is(err, errStale) {
			continue
		}
		if err != nil {
			return 0, err
		}
		r.log.Info("schema registered", "subject", subject, "version", done.Version, "id", done.ID)
		return done.ID, nil
	}
}

// errStale sends register back to check again: the subject changed while
// it checked.
var errStale = errors.New("registry: state changed during the check")

// lookup finds the version of subject that holds c.
func (r *Registry) lookup(subject string, c *candidate, includeDeleted bool) (registered, error) {
	var out registered
	err := r.view(func(st *state) error {
		if len(st.visible(subject, includeDeleted)) == 0 {
			return errSubjectNotFound(subject)
		}
		v, ok := st.versionWithKey(subject, c.key, includeDeleted)
		if !ok {
			return errSchemaNotUnderSubject(subject)
		}
		out = registered{Subject: subject, Version: v.version, ID: v.id, Schema: st.schemas[v.id].text}
		return nil
	})
	return out, err
}

// schemaByID returns the text of schema id, given as the raw path segment.
func (r *Registry) schemaByID(rawID string) (string, error) {
	var text string
	err := r.view(func(st *state) error {
		s, err := st.schemaByRawID(rawID)
		if err != nil {
			return err
		}
		text = s.text
		return nil
	})
	return text, err
}

// usesOfID lists the subject versions that use schema id.
func (r *Registry) usesOfID(rawID string, includeDeleted bool) ([]subjectVersion, error) {
	var out []subjectVersion
	err := r.view(func(st *state) error {
		s, err := st.schemaByRawID(rawID)
		if err != nil {
			return err
		}
		out = st.subjectVersionsOf(s.id, includeDeleted)
		return nil
	})
	return out, err
}

func (st *state) schemaByRawID(rawID string) (*storedSchema, error) {
	id, err := strconv.Atoi(rawID)
	if err != nil {
		return nil, errSchemaIDNotFound(rawID)
	}
	s, ok := st.schemas[id]
	if !ok {
		return nil, errSchemaIDNotFound(rawID)
	}
	return s, nil
}

// subjects lists subject names.
func (r *Registry) subjects(includeDeleted bool, prefix string) []string {
	var out []string
	_ = r.view(func(st *state) error {
		out = st.subjectNames(includeDeleted, prefix)
		return nil
	})
	return out
}

// versions lists a subject's version numbers.
func (r *Registry) versions(subject string, includeDeleted bool) ([]int, error) {
	var out []int
	err := r.view(func(st *state) error {
		vs := st.visible(subject, includeDeleted)
		if len(vs) == 0 {
			return errSubjectNotFound(subject)
		}
		for _, v := range vs {
			out = append(out, v.version)
		}
		return nil
	})
	return out, err
}

// version returns one subject version.
func (r *Registry) version(subject, rawVersion string, includeDeleted bool) (registered, error) {
	ref, err := parseVersionRef(rawVersion)
	if err != nil {
		return registered{}, err
	}
	var out registered
	err = r.view(func(st *state) error {
		v, err := st.resolve(subject, ref, includeDeleted)
		if err != nil {
			return err
		}
		out = registered{Subject: subject, Version: v.version, ID: v.id, Schema: st.schemas[v.id].text}
		return nil
	})
	return out, err
}

// deleteSubject soft-deletes every live version of subject, or with
// permanent forgets an already soft-deleted subject, and returns the
// versions affected. Either way the subject's own level goes too, as in
// Confluent.
func (r *Registry) deleteSubject(subject string, permanent bool) ([]int, error) {
	var deleted []int
	err := r.update(func(st *state) (*change, error) {
		sub := st.subjects[subject]
		if sub == nil || len(sub.versions) == 0 {
			return nil, errSubjectNotFound(subject)
		}
		live := len(st.visible(subject, false))
		switch {
		case !permanent && live == 0:
			return nil, errSubjectSoftDeleted(subject)
		case permanent && live > 0:
			return nil, errSubjectNotSoftDeleted(subject)
		}
		for _, v := range sub.versions {
			if permanent || !v.deleted {
				deleted = append(deleted, v.version)
			}
		}
		return &change{Op: opDeleteSubject, Subject: subject, Permanent: permanent}, nil
	})
	if err != nil {
		return nil, err
	}
	r.log.Info("subject deleted", "subject", subject, "versions", deleted, "permanent", permanent)
	return deleted, nil
}

// deleteVersion soft-deletes one live version, or with permanent forgets an
// already soft-deleted one, and returns its number.
func (r *Registry) deleteVersion(subject, rawVersion string, permanent bool) (int, error) {
	ref, err := parseVersionRef(rawVersion)
	if err != nil {
		return 0, err
	}
	var number int
	err = r.update(func(st *state) (*change, error) {
		// A permanent delete addresses soft-deleted versions, so it must
		// see them; a soft delete of "latest" means the latest live one.
		v, err := st.resolve(subject, ref, permanent)
		if err != nil {
			if !permanent && !ref.latest {
				if old, oldErr := st.resolve(subject, ref, true); oldErr == nil && old.deleted {
					return nil, errVersionSoftDeleted(subject, old.version)
				}
			}
			return nil, err
		}
		if permanent && !v.deleted {
			return nil, errVersionNotSoftDeleted(subject, v.version)
		}
		number = v.version
		return &change{Op: opDeleteVersion, Subject: subject, Version: number, Permanent: permanent}, nil
	})
	if err != nil {
		return 0, err
	}
	r.log.Info("version deleted", "subject", subject, "version", number, "permanent", permanent)
	return number, nil
}

// globalCompatibility is the registry-wide level.
func (r *Registry) globalCompatibility() Compatibility {
	var level Compatibility
	_ = r.view(func(st *state) error {
		level = st.globalCompatibility(r.defaultLevel)
		return nil
	})
	return level
}

// setGlobalCompatibility sets the registry-wide level; "" restores the
// configured default. It returns the level in force before.
func (r *Registry) setGlobalCompatibility(level Compatibility) (Compatibility, error) {
	var before Compatibility
	err := r.update(func(st *state) (*change, error) {
		before = st.globalCompatibility(r.defaultLevel)
		if st.global == level {
			return nil, errUnchanged
		}
		return &change{Op: opGlobalLevel, Level: level}, nil
	})
	if err != nil {
		return "", err
	}
	r.log.Info("global compatibility set", "level", level, "before", before)
	return before, nil
}

// subjectCompatibility is the subject's own level, or with defaultToGlobal
// the level that governs it.
func (r *Registry) subjectCompatibility(subject string, defaultToGlobal bool) (Compatibility, error) {
	var level Compatibility
	err := r.view(func(st *state) error {
		if sub := st.subjects[subject]; sub != nil && sub.compatibility != "" {
			level = sub.compatibility
			return nil
		}
		if !defaultToGlobal {
			return errSubjectConfigNotFound(subject)
		}
		level = st.globalCompatibility(r.defaultLevel)
		return nil
	})
	return level, err
}

// setSubjectCompatibility sets the subject's own level; "" removes it, in
// which case the subject must have had one. It returns the level set before.
func (r *Registry) setSubjectCompatibility(subject string, level Compatibility) (Compatibility, error) {
	var before Compatibility
	err := r.update(func(st *state) (*change, error) {
		if sub := st.subjects[subject]; sub != nil {
			before = sub.compatibility
		}
		switch {
		case level == "" && before == "":
			return nil, errSubjectConfigNotFound(subject)
		case level == before:
			return nil, errUnchanged
		}
		// Setting creates the subject if needed: Confluent lets a level be
		// set before the first schema, so producers can pin it up front.
		return &change{Op: opLevel, Subject: subject, Level: level}, nil
	})
	if err != nil {
		return "", err
	}
	r.log.Info("subject compatibility set", "subject", subject, "level", level, "before", before)
	return before, nil
}

// testCompatibility checks c against subject under the subject's level and
// returns the reasons it fails, none when compatible. rawVersion names the
// one version to check against ("latest" included); "" means every version
// registration would check.
func (r *Registry) testCompatibility(subject, rawVersion string, c *candidate) ([]string, error) {
	var ref versionRef
	if rawVersion != "" {
		var err error
		if ref, err = parseVersionRef(rawVersion); err != nil {
			return nil, err
		}
	}
	// The check may be slow; it runs on a published state, unlocked.
	st := r.current()
	level := st.compatibilityFor(subject, r.defaultLevel)
	history := st.history(subject)
	if rawVersion != "" {
		v, err := st.resolve(subject, ref, false)
		switch {
		case err != nil && ref.latest:
			// Nothing registered yet: anything may be registered, as
			// Confluent answers.
			history = nil
		case err != nil:
			return nil, err
		default:
			history = []priorSchema{{version: v.version, schema: st.schemas[v.id].schema}}
		}
	}
	return level.check(c.schema, history), nil
}
