package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/streamscore/streamscore/internal/train"
	"github.com/streamscore/streamscore/internal/trainer"
)

// Error is a failed request as the API answers it: an HTTP status and a
// message, with the field at fault when one is known (a JSON path such as
// "label", "params.max_iter" or "rows[3].temperature").
type Error struct {
	Status int
	Field  string
	Msg    string
	// TaskID names the training task a conflict or a failure is about.
	TaskID string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil && e.Msg == "" {
		return e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// errorBody is the JSON of every error response.
type errorBody struct {
	Error  string `json:"error"`
	Field  string `json:"field,omitempty"`
	TaskID string `json:"task_id,omitempty"`
}

// newError builds an Error; a message about a field starts with the
// field's name, so it reads on its own.
func newError(status int, field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if field != "" && !strings.HasPrefix(msg, field+": ") {
		msg = field + ": " + msg
	}
	return &Error{Status: status, Field: field, Msg: msg}
}

// maxProblems bounds the problems one error message lists.
const maxProblems = 10

func badRequest(field, format string, args ...any) *Error {
	return newError(http.StatusBadRequest, field, format, args...)
}

// fieldPath matches the leading "field: " of the trainer's messages.
// A segment is a name with indexes or quoted keys: features[2],
// categorical["site"].unknown, rows[3].attributes["fw.version"].
var fieldPath = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\[[0-9]+\]|\["(?:[^"\\]|\\.)*"\])*(\.[A-Za-z_][A-Za-z0-9_]*(\[[0-9]+\]|\["(?:[^"\\]|\\.)*"\])*)*$`)

// optionsError turns trainer.ParseOptions's error, which reads
// "invalid model options: field: problem" (several joined by newlines), into
// a 400 naming the first field. Nested "params: max_iters: unknown field"
// becomes the field "params.max_iters".
func optionsError(err error) *Error {
	lines := strings.Split(err.Error(), "\n")
	problems := make([]string, 0, len(lines))
	field := ""
	for _, line := range lines {
		line = strings.TrimPrefix(line, trainer.ErrInvalidOptions.Error()+": ")
		path, problem := splitField(line)
		if path != "" {
			line = path + ": " + problem
		}
		problems = append(problems, line)
		if field == "" {
			field = path
		}
	}
	if len(problems) > maxProblems {
		problems = append(problems[:maxProblems], fmt.Sprintf("and %d more", len(problems)-maxProblems))
	}
	return &Error{Status: http.StatusBadRequest, Field: field, Msg: strings.Join(problems, "; "), Err: err}
}

// splitField reads "a: b: problem" as the path "a.b" and the problem,
// the path ending at the first segment that is not a field name.
func splitField(msg string) (path, problem string) {
	parts := strings.Split(msg, ": ")
	var fields []string
	for _, p := range parts[:len(parts)-1] {
		if !fieldPath.MatchString(p) {
			break
		}
		fields = append(fields, p)
	}
	return strings.Join(fields, "."), strings.Join(parts[len(fields):], ": ")
}

// trainingError classes a failed training: the user's data (422), a
// registry that refused the model (502), a timeout (504), or a fault (500).
func trainingError(err error) *Error {
	var apiErr *Error
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.Is(err, trainer.ErrNotEnoughData), errors.Is(err, trainer.ErrInvalidOptions):
		e := &Error{Status: http.StatusUnprocessableEntity, Msg: strings.ReplaceAll(err.Error(), "\n", "; "), Err: err}
		marker := trainer.ErrInvalidOptions.Error() + ": "
		if _, rest, ok := strings.Cut(err.Error(), marker); ok {
			e.Field, _ = splitField(rest)
		}
		return e
	case errors.Is(err, train.ErrInvalidConfig), errors.Is(err, train.ErrInvalidData):
		// What the rows made of the options: more classes than a model
		// takes, say. The rows' fault, not the trainer's.
		return &Error{Status: http.StatusUnprocessableEntity, Msg: strings.ReplaceAll(err.Error(), "\n", "; "), Err: err}
	case errors.Is(err, errModelDeleted):
		return &Error{Status: http.StatusConflict, Msg: err.Error(), Err: err}
	case errors.Is(err, errShuttingDown):
		return &Error{Status: http.StatusServiceUnavailable, Msg: err.Error(), Err: err}
	case errors.Is(err, errTimeout):
		return &Error{Status: http.StatusGatewayTimeout, Msg: err.Error(), Err: err}
	case errors.Is(err, errPublish):
		return &Error{Status: http.StatusBadGateway, Msg: err.Error(), Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Msg: err.Error(), Err: err}
}

// Why a training failed, beyond the trainer's own errors.
var (
	// errPublish marks a model trained but refused by the Publisher.
	errPublish = errors.New("publish")
	// Causes of a canceled training.
	errModelDeleted = errors.New("training canceled: the model was deleted")
	errShuttingDown = errors.New("training canceled: the trainer is shutting down")
	errTimeout      = errors.New("training canceled: it passed its time limit")
)

// writeError answers err as JSON. Anything that is not an *Error is a
// fault of the server: it is logged and answered 500 without details, except
// a body over the limit, which is the client's.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	var apiErr *Error
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &apiErr):
	case errors.As(err, &tooLarge):
		apiErr = newError(http.StatusRequestEntityTooLarge, "", "the request body is over the %d-byte limit", tooLarge.Limit)
	default:
		logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		apiErr = newError(http.StatusInternalServerError, "", "internal error")
	}
	if apiErr.Status >= 500 {
		logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", apiErr.Status, "err", apiErr)
	}
	if apiErr.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="streamscore"`)
	}
	writeJSON(w, logger, apiErr.Status, errorBody{Error: apiErr.Error(), Field: apiErr.Field, TaskID: apiErr.TaskID})
}

func writeJSON(w http.ResponseWriter, logger *slog.Logger, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		logger.Error("encode response", "err", err)
		status = http.StatusInternalServerError
		body = []byte(`{"error":"internal error: the response could not be encoded"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
