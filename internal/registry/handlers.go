package registry

import (
	"io"
	"net/http"
)

// One handler per route. Each decodes the request, calls one operation and
// encodes its result with Confluent's field names.

// handleRoot answers GET /, which Confluent uses as a liveness probe.
func (r *Registry) handleRoot(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, struct{}{})
}

func (r *Registry) handleSchemaTypes(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, []string{schemaTypeAvro})
}

// handleMode reports READWRITE: this registry has no import or read-only
// modes, but some clients ask before registering.
func (r *Registry) handleMode(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"mode": "READWRITE"})
}

func (r *Registry) handleSchemaByID(w http.ResponseWriter, req *http.Request) {
	text, err := r.schemaByID(req.PathValue("id"))
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"schema": text})
}

// handleRawSchemaByID answers with the schema itself as the body.
func (r *Registry) handleRawSchemaByID(w http.ResponseWriter, req *http.Request) {
	text, err := r.schemaByID(req.PathValue("id"))
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	writeRawSchema(w, text)
}

func (r *Registry) handleVersionsByID(w http.ResponseWriter, req *http.Request) {
	uses, err := r.usesOfID(req.PathValue("id"), queryFlag(req, "deleted"))
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, uses)
}

func (r *Registry) handleSubjectsByID(w http.ResponseWriter, req *http.Request) {
	uses, err := r.usesOfID(req.PathValue("id"), queryFlag(req, "deleted"))
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	names := []string{}
	for _, u := range uses {
		if len(names) == 0 || names[len(names)-1] != u.Subject {
			names = append(names, u.Subject)
		}
	}
	writeJSON(w, http.StatusOK, names)
}

func (r *Registry) handleSubjects(w http.ResponseWriter, req *http.Request) {
	writeJSON(w, http.StatusOK, r.subjects(queryFlag(req, "deleted"), req.URL.Query().Get("subjectPrefix")))
}

// handleLookup answers POST /subjects/{subject}: which version of the
// subject holds the schema in the body.
func (r *Registry) handleLookup(w http.ResponseWriter, req *http.Request) {
	subject, err := r.subjectParam(req, true)
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	c, release, err := r.decodeCandidate(w, req)
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	defer release()
	found, err := r.lookup(subject, c, queryFlag(req, "deleted"))
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, found)
}

func (r *Registry) handleDeleteSubject(w http.ResponseWriter, req *http.Request) {
	subject, err := r.subjectParam(req, true)
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	versions, err := r.deleteSubject(subject, queryFlag(req, "permanent"))
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, versions)
}

func (r *Registry) handleVersions(w http.ResponseWriter, req *http.Request) {
	subject, err := r.subjectParam(req, true)
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	versions, err := r.versions(subject, queryFlag(req, "deleted"))
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, versions)
}

// handleRegister answers POST /subjects/{subject}/versions with the id of
// the schema in the body.
func (r *Registry) handleRegister(w http.ResponseWriter, req *http.Request) {
	subject, err := r.subjectParam(req, false)
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	c, release, err := r.decodeCandidate(w, req)
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	defer release()
	id, err := r.register(subject, c)
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"id": id})
}

func (r *Registry) handleVersion(w http.ResponseWriter, req *http.Request) {
	subject, err := r.subjectParam(req, true)
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	v, err := r.version(subject, req.PathValue("version"), queryFlag(req, "deleted"))
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (r *Registry) handleDeleteVersion(w http.ResponseWriter, req *http.Request) {
	subject, err := r.subjectParam(req, true)
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	number, err := r.deleteVersion(subject, req.PathValue("version"), queryFlag(req, "permanent"))
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, number)
}

func (r *Registry) handleRawVersion(w http.ResponseWriter, req *http.Request) {
	subject, err := r.subjectParam(req, true)
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	v, err := r.version(subject, req.PathValue("version"), queryFlag(req, "deleted"))
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	writeRawSchema(w, v.Schema)
}

// handleReferencedBy is always empty once the version exists: schemas here
// cannot reference others.
func (r *Registry) handleReferencedBy(w http.ResponseWriter, req *http.Request) {
	subject, err := r.subjectParam(req, true)
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	if _, err := r.version(subject, req.PathValue("version"), false); err != nil {
		r.writeError(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, []int{})
}

// configResponse is what GET /config returns; PUT answers configRequest's
// shape instead, as Confluent does.
type configResponse struct {
	CompatibilityLevel Compatibility `json:"compatibilityLevel"`
}

// configRequest is the body of PUT /config. Confluent documents
// "compatibility"; "compatibilityLevel" is taken too because clients echo
// what GET returned.
type configRequest struct {
	Compatibility      string `json:"compatibility,omitempty"`
	CompatibilityLevel string `json:"compatibilityLevel,omitempty"`
}

func (r *Registry) handleGetGlobalConfig(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, configResponse{CompatibilityLevel: r.globalCompatibility()})
}

func (r *Registry) handlePutGlobalConfig(w http.ResponseWriter, req *http.Request) {
	level, err := decodeConfig(w, req)
	if err == nil {
		_, err = r.setGlobalCompatibility(level)
	}
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, configRequest{Compatibility: string(level)})
}

// handleDeleteGlobalConfig restores the configured default and answers the
// level in force before.
func (r *Registry) handleDeleteGlobalConfig(w http.ResponseWriter, req *http.Request) {
	before, err := r.setGlobalCompatibility("")
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, configResponse{CompatibilityLevel: before})
}

func (r *Registry) handleGetSubjectConfig(w http.ResponseWriter, req *http.Request) {
	subject, err := r.subjectParam(req, true)
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	level, err := r.subjectCompatibility(subject, queryFlag(req, "defaultToGlobal"))
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, configResponse{CompatibilityLevel: level})
}

func (r *Registry) handlePutSubjectConfig(w http.ResponseWriter, req *http.Request) {
	subject, err := r.subjectParam(req, false)
	var level Compatibility
	if err == nil {
		level, err = decodeConfig(w, req)
	}
	if err == nil {
		_, err = r.setSubjectCompatibility(subject, level)
	}
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, configRequest{Compatibility: string(level)})
}

func (r *Registry) handleDeleteSubjectConfig(w http.ResponseWriter, req *http.Request) {
	subject, err := r.subjectParam(req, true)
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	before, err := r.setSubjectCompatibility(subject, "")
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, configResponse{CompatibilityLevel: before})
}

// compatibilityResponse is the answer of POST /compatibility/...; messages
// appear only with ?verbose=true.
type compatibilityResponse struct {
	IsCompatible bool     `json:"is_compatible"`
	Messages     []string `json:"messages,omitzero"`
}

// handleTestCompatibility serves both the per-version route and the one
// without {version}, which checks what registration would check.
func (r *Registry) handleTestCompatibility(w http.ResponseWriter, req *http.Request) {
	subject, err := r.subjectParam(req, true)
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	c, release, err := r.decodeCandidate(w, req)
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	defer release()
	reasons, err := r.testCompatibility(subject, req.PathValue("version"), c)
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	resp := compatibilityResponse{IsCompatible: len(reasons) == 0}
	if queryFlag(req, "verbose") {
		resp.Messages = append([]string{}, reasons...)
	}
	writeJSON(w, http.StatusOK, resp)
}

// subjectParam returns the request's {subject} if it is a name the
// registry accepts (see checkSubject). Routes that only read or remove
// (existingOK) also take a subject that exists under a name now refused,
// kept from a data directory written before these rules, so that it can
// still be seen and deleted.
func (r *Registry) subjectParam(req *http.Request, existingOK bool) (string, error) {
	name := req.PathValue("subject")
	invalid := checkSubject(name)
	if invalid == nil || (existingOK && r.current().subjects[name] != nil) {
		return name, nil
	}
	return "", invalid
}

// decodeCandidate reads and validates the schema in a request body. It
// waits for a turn at schema work (parsing and checking are the costly
// part of a request) once the body is in, so that slow senders hold no
// turn; the caller calls release once done with the candidate.
func (r *Registry) decodeCandidate(w http.ResponseWriter, req *http.Request) (c *candidate, release func(), err error) {
	var body schemaRequest
	if err := decodeJSON(w, req, &body); err != nil {
		return nil, nil, err
	}
	select {
	case r.schemaWork <- struct{}{}:
	case <-req.Context().Done():
		return nil, nil, &apiError{status: http.StatusServiceUnavailable, code: codeOperationTimeout,
			message: "Request ended while waiting for a turn to check its schema", cause: req.Context().Err()}
	}
	giveBack := func() { <-r.schemaWork }
	// The turn goes back on every way out but success, a panic in the
	// parser included: two lost turns would stop every registration.
	ok := false
	defer func() {
		if !ok {
			giveBack()
		}
	}()
	if c, err = parseCandidate(body); err != nil {
		return nil, nil, err
	}
	ok = true
	return c, giveBack, nil
}

// decodeConfig reads the level in a PUT /config body.
func decodeConfig(w http.ResponseWriter, req *http.Request) (Compatibility, error) {
	var body configRequest
	if err := decodeJSON(w, req, &body); err != nil {
		return "", err
	}
	raw := body.Compatibility
	if raw == "" {
		raw = body.CompatibilityLevel
	}
	level, err := ParseCompatibility(raw)
	if err != nil {
		return "", errInvalidCompatibility(raw)
	}
	return level, nil
}

// writeRawSchema answers with the schema text as the whole body; Avro
// schemas are JSON, so the content type still holds.
func writeRawSchema(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, text)
}
