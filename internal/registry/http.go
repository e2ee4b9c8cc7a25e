package registry

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"
)

// ServerLimits bounds what one connection may hold of the server that
// HTTPServer builds, so that slow or oversized clients cannot pin its
// goroutines and memory. Zero fields take the defaults below.
type ServerLimits struct {
	// ReadHeaderTimeout bounds reading a request's headers (default 10s).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included (default
	// 30s: a 4 MiB body at 150 KB/s).
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the
	// end of the answer (default 60s: reading the body, waiting for a
	// turn at schema work, the check, the fsync and the answer).
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection with no request for
	// this long (default 120s).
	IdleTimeout time.Duration
	// MaxHeaderBytes caps the request line and headers (default 64 KiB:
	// a MaxSubjectBytes subject percent-encoded three times over, and
	// room for a large bearer token); larger ones get 431.
	MaxHeaderBytes int
}

// Default server limits; see ServerLimits.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
)

func (l ServerLimits) validate() error {
	for _, d := range []struct {
		name  string
		value time.Duration
	}{
		{"Server.ReadHeaderTimeout", l.ReadHeaderTimeout},
		{"Server.ReadTimeout", l.ReadTimeout},
		{"Server.WriteTimeout", l.WriteTimeout},
		{"Server.IdleTimeout", l.IdleTimeout},
	} {
		if d.value < 0 {
			return fmt.Errorf("%w: %s is negative (%s)", ErrInvalidConfig, d.name, d.value)
		}
	}
	if l.MaxHeaderBytes < 0 {
		return fmt.Errorf("%w: Server.MaxHeaderBytes is negative (%d)", ErrInvalidConfig, l.MaxHeaderBytes)
	}
	return nil
}

func (l ServerLimits) withDefaults() ServerLimits {
	def := func(v, d time.Duration) time.Duration {
		if v == 0 {
			return d
		}
		return v
	}
	l.ReadHeaderTimeout = def(l.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	l.ReadTimeout = def(l.ReadTimeout, DefaultReadTimeout)
	l.WriteTimeout = def(l.WriteTimeout, DefaultWriteTimeout)
	l.IdleTimeout = def(l.IdleTimeout, DefaultIdleTimeout)
	if l.MaxHeaderBytes == 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	return l
}

// HTTPServer returns an http.Server for the registry's Handler with the
// configured limits, for callers that run their own listener (Serve uses
// it too).
func (r *Registry) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           r.handler,
		ReadHeaderTimeout: r.limits.ReadHeaderTimeout,
		ReadTimeout:       r.limits.ReadTimeout,
		WriteTimeout:      r.limits.WriteTimeout,
		IdleTimeout:       r.limits.IdleTimeout,
		MaxHeaderBytes:    r.limits.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(r.log.Handler(), slog.LevelWarn),
	}
}

// contentType is what the registry answers with, as Confluent does.
const contentType = "application/vnd.schemaregistry.v1+json"

// acceptedContentTypes are the request media types taken as JSON. An absent
// Content-Type is accepted too (curl -d sends form encoding only when told).
var acceptedContentTypes = map[string]bool{
	"application/vnd.schemaregistry.v1+json": true,
	"application/vnd.schemaregistry+json":    true,
	"application/json":                       true,
	"application/octet-stream":               true,
}

// routes builds the handler: authentication, then the route table, with
// Confluent-style JSON errors for unknown paths and methods.
func (r *Registry) routes(auth BasicAuth) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", r.handleRoot)
	mux.HandleFunc("GET /schemas/types", r.handleSchemaTypes)
	mux.HandleFunc("GET /schemas/ids/{id}", r.handleSchemaByID)
	mux.HandleFunc("GET /schemas/ids/{id}/schema", r.handleRawSchemaByID)
	mux.HandleFunc("GET /schemas/ids/{id}/versions", r.handleVersionsByID)
	mux.HandleFunc("GET /schemas/ids/{id}/subjects", r.handleSubjectsByID)
	mux.HandleFunc("GET /subjects", r.handleSubjects)
	mux.HandleFunc("POST /subjects/{subject}", r.handleLookup)
	mux.HandleFunc("DELETE /subjects/{subject}", r.handleDeleteSubject)
	mux.HandleFunc("GET /subjects/{subject}/versions", r.handleVersions)
	mux.HandleFunc("POST /subjects/{subject}/versions", r.handleRegister)
	mux.HandleFunc("GET /subjects/{subject}/versions/{version}", r.handleVersion)
	mux.HandleFunc("DELETE /subjects/{subject}/versions/{version}", r.handleDeleteVersion)
	mux.HandleFunc("GET /subjects/{subject}/versions/{version}/schema", r.handleRawVersion)
	mux.HandleFunc("GET /subjects/{subject}/versions/{version}/referencedby", r.handleReferencedBy)
	mux.HandleFunc("GET /config", r.handleGetGlobalConfig)
	mux.HandleFunc("PUT /config", r.handlePutGlobalConfig)
	mux.HandleFunc("DELETE /config", r.handleDeleteGlobalConfig)
	mux.HandleFunc("GET /config/{subject}", r.handleGetSubjectConfig)
	mux.HandleFunc("PUT /config/{subject}", r.handlePutSubjectConfig)
	mux.HandleFunc("DELETE /config/{subject}", r.handleDeleteSubjectConfig)
	mux.HandleFunc("POST /compatibility/subjects/{subject}/versions", r.handleTestCompatibility)
	mux.HandleFunc("POST /compatibility/subjects/{subject}/versions/{version}", r.handleTestCompatibility)
	mux.HandleFunc("GET /mode", r.handleMode)

	var h http.Handler = jsonMiss(mux)
	if auth.enabled() {
		h = requireBasicAuth(auth, h)
	}
	return h
}

// writeJSON answers v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// errorBody is Confluent's error response.
type errorBody struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

// writeError answers err: an *apiError as itself, anything else as a 500
// store error. Server-side failures are logged with their cause.
func (r *Registry) writeError(w http.ResponseWriter, req *http.Request, err error) {
	var apiErr *apiError
	if !errors.As(err, &apiErr) {
		apiErr = errStore(err)
	}
	if apiErr.status >= 500 {
		r.log.Error("request failed", "method", req.Method, "path", req.URL.Path, "err", err)
	}
	writeJSON(w, apiErr.status, errorBody{ErrorCode: apiErr.code, Message: apiErr.message})
}

// decodeJSON reads a request body of at most MaxRequestBytes into dst.
func decodeJSON(w http.ResponseWriter, req *http.Request, dst any) error {
	if ct := req.Header.Get("Content-Type"); ct != "" {
		mediaType, _, err := mime.ParseMediaType(ct)
		if err != nil || !acceptedContentTypes[strings.ToLower(mediaType)] {
			return &apiError{status: http.StatusUnsupportedMediaType, code: codeUnsupportedMediaType,
				message: "Unsupported Content-Type " + ct + "; send " + contentType + " or application/json"}
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, req.Body, MaxRequestBytes))
	err := dec.Decode(dst)
	if err == nil {
		// Anything after the one JSON value is a malformed body too.
		if extra := dec.Decode(&json.RawMessage{}); extra != io.EOF {
			err = extra
			if err == nil {
				err = errors.New("unexpected data after the JSON body")
			}
		}
	}
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooLarge):
		return &apiError{status: http.StatusRequestEntityTooLarge, code: codeRequestTooLarge,
			message: "Request body larger than the registry's limit of 4 MiB"}
	case errors.Is(err, io.EOF):
		return errBadRequest("Request body is empty; expected a JSON object")
	default:
		return errBadRequest("Malformed JSON request body: %v", err)
	}
}

// queryFlag reads a boolean query parameter such as ?deleted=true.
func queryFlag(req *http.Request, name string) bool {
	return strings.EqualFold(req.URL.Query().Get(name), "true")
}

// requireBasicAuth lets through only requests carrying auth's credentials.
// Both sides are hashed before the constant-time comparison so that neither
// the content nor the length of the secret leaks through timing.
func requireBasicAuth(auth BasicAuth, next http.Handler) http.Handler {
	wantUser := sha256.Sum256([]byte(auth.User))
	wantPass := sha256.Sum256([]byte(auth.Password))
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		user, pass, ok := req.BasicAuth()
		gotUser := sha256.Sum256([]byte(user))
		gotPass := sha256.Sum256([]byte(pass))
		userOK := subtle.ConstantTimeCompare(gotUser[:], wantUser[:])
		passOK := subtle.ConstantTimeCompare(gotPass[:], wantPass[:])
		if !ok || userOK&passOK != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="schema-registry"`)
			writeJSON(w, http.StatusUnauthorized, errorBody{ErrorCode: codeUnauthorized, Message: "Unauthorized"})
			return
		}
		next.ServeHTTP(w, req)
	})
}

// jsonMiss turns the mux's plain-text 404 and 405 answers into Confluent
// JSON errors, which clients parse for error_code, and answers a request
// naming an empty subject with 42208 rather than letting the mux redirect
// it to another route.
func jsonMiss(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if emptySubjectInPath(req.URL.Path) {
			err := checkSubject("")
			writeJSON(w, err.status, errorBody{ErrorCode: err.code, Message: err.message})
			return
		}
		h, pattern := mux.Handler(req)
		if pattern != "" {
			mux.ServeHTTP(w, req)
			return
		}
		rec := &headerRecorder{header: make(http.Header)}
		h.ServeHTTP(rec, req)
		switch rec.status {
		case http.StatusNotFound:
			writeJSON(w, rec.status, errorBody{ErrorCode: codeRouteNotFound, Message: "HTTP 404 Not Found"})
		case http.StatusMethodNotAllowed:
			w.Header().Set("Allow", rec.header.Get("Allow"))
			writeJSON(w, rec.status, errorBody{ErrorCode: codeMethodNotAllowed, Message: "HTTP 405 Method Not Allowed"})
		default: // a redirect to the cleaned path
			for k, vs := range rec.header {
				w.Header()[k] = vs
			}
			w.WriteHeader(rec.status)
		}
	})
}

// headerRecorder keeps the status and headers a handler writes and drops
// its body.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header { return h.header }

func (h *headerRecorder) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return len(b), nil
}

func (h *headerRecorder) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}
