package registry

import (
	"slices"
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
func (r *Registry) register(subject string, c *candidate) (int, error) {
	id, version := 0, 0
	// Most calls re-register a schema the subject already has (producers do
	// at every start); answer those under the read lock.
	_ = r.view(func(st *state) error {
		if v, ok := st.versionWithKey(subject, c.key, false); ok {
			id = v.id
		}
		return nil
	})
	if id != 0 {
		return id, nil
	}
	err := r.update(func(st *state) (bool, error) {
		if v, ok := st.versionWithKey(subject, c.key, false); ok {
			id = v.id
			return false, nil
		}
		level := st.compatibilityFor(subject, r.defaultLevel)
		if reasons := level.check(c.schema, st.history(subject)); len(reasons) > 0 {
			return false, errIncompatible(subject, level, reasons)
		}
		id, version = st.addVersion(subject, c)
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	if version != 0 {
		r.log.Info("schema registered", "subject", subject, "version", version, "id", id)
	}
	return id, nil
}

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
	err := r.update(func(st *state) (bool, error) {
		sub := st.subjects[subject]
		if sub == nil || len(sub.versions) == 0 {
			return false, errSubjectNotFound(subject)
		}
		live := len(st.visible(subject, false))
		switch {
		case !permanent && live == 0:
			return false, errSubjectSoftDeleted(subject)
		case permanent && live > 0:
			return false, errSubjectNotSoftDeleted(subject)
		}
		if permanent {
			for _, v := range sub.versions {
				deleted = append(deleted, v.version)
			}
			delete(st.subjects, subject)
			return true, nil
		}
		edit := st.editSubject(subject)
		for i := range edit.versions {
			if !edit.versions[i].deleted {
				deleted = append(deleted, edit.versions[i].version)
				edit.versions[i].deleted = true
			}
		}
		edit.compatibility = ""
		return true, nil
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
	err = r.update(func(st *state) (bool, error) {
		// A permanent delete addresses soft-deleted versions, so it must
		// see them; a soft delete of "latest" means the latest live one.
		v, err := st.resolve(subject, ref, permanent)
		if err != nil {
			if !permanent && !ref.latest {
				if old, oldErr := st.resolve(subject, ref, true); oldErr == nil && old.deleted {
					return false, errVersionSoftDeleted(subject, old.version)
				}
			}
			return false, err
		}
		if permanent && !v.deleted {
			return false, errVersionNotSoftDeleted(subject, v.version)
		}
		number = v.version
		sub := st.editSubject(subject)
		for i := range sub.versions {
			if sub.versions[i].version != number {
				continue
			}
			if permanent {
				sub.versions = slices.Delete(sub.versions, i, i+1)
			} else {
				sub.versions[i].deleted = true
			}
			break
		}
		st.dropSubjectIfEmpty(subject)
		return true, nil
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
	err := r.update(func(st *state) (bool, error) {
		before = st.globalCompatibility(r.defaultLevel)
		st.global = level
		return true, nil
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
	err := r.update(func(st *state) (bool, error) {
		if sub := st.subjects[subject]; sub != nil {
			before = sub.compatibility
		}
		if level == "" && before == "" {
			return false, errSubjectConfigNotFound(subject)
		}
		// Setting creates the subject if needed: Confluent lets a level be
		// set before the first schema, so producers can pin it up front.
		st.editSubject(subject).compatibility = level
		st.dropSubjectIfEmpty(subject)
		return true, nil
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
	var reasons []string
	err := r.view(func(st *state) error {
		level := st.compatibilityFor(subject, r.defaultLevel)
		history := st.history(subject)
		if rawVersion != "" {
			v, err := st.resolve(subject, ref, false)
			switch {
			case err != nil && ref.latest:
				// Nothing registered yet: anything may be registered,
				// as Confluent answers.
				history = nil
			case err != nil:
				return err
			default:
				history = []priorSchema{{version: v.version, schema: st.schemas[v.id].schema}}
			}
		}
		reasons = level.check(c.schema, history)
		return nil
	})
	return reasons, err
}
