package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/train"
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

// optionsError turns fit.ParseOptions's error, which reads
// "invalid model options: field: problem" (several joined by newlines), into
// a 400 naming the first field. Nested "params: max_iters: unknown field"
// becomes the field "params.max_iters".
func optionsError(err error) *Error {
	lines := strings.Split(err.Error(), "\n")
	problems := make([]string, 0, len(lines))
	field := ""
	for _, line := range lines {
		line = strings.TrimPrefix(line, fit.ErrInvalidOptions.Error()+": ")
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
	if errors.As(err, &apiErr) {
		return apiErr
	}
	if answer := storeAnswer(err); answer != nil {
		return answer
	}
	switch {
	case errors.Is(err, fit.ErrNotEnoughData), errors.Is(err, fit.ErrInvalidOptions):
		e := &Error{Status: http.StatusUnprocessableEntity, Msg: strings.ReplaceAll(err.Error(), "\n", "; "), Err: err}
		marker := fit.ErrInvalidOptions.Error() + ": "
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

// Why a training failed, beyond the trainer's own errors and the store's
// (errModelDeleted among them).
var (
	// errPublish marks a model trained but refused by the Publisher.
	errPublish = errors.New("publish")
	// Causes of a canceled training.
	errShuttingDown = errors.New("training canceled: the trainer is shutting down")
	errTimeout      = errors.New("training canceled: it passed its time limit")
)

// storeAnswer is the answer to a refusal of the store (storeerrors.go):
// the one place its classes become statuses, fields and messages. It is
// nil for an error of no store class. An *Error that wraps a refusal is
// answered as it is: it carries more (a task's id).
func storeAnswer(err error) *Error {
	var (
		value  *valueError
		budget *budgetError
		se     *storeError
	)
	switch {
	case errors.As(err, &value):
		status := http.StatusBadRequest
		if errors.Is(value, errMixedLabels) {
			status = http.StatusUnprocessableEntity
		}
		return &Error{Status: status, Field: value.field, Msg: value.msg, Err: err}
	case errors.As(err, &budget):
		free := fmt.Sprintf("drop this model's rows (DELETE /models/%s/data/train)", budget.model)
		if budget.model == "" {
			free = "drop rows or models (DELETE /models/{name}/data/train, DELETE /models/{name})"
		}
		// Only an upload reserves bytes, so the field is its rows.
		return &Error{Status: http.StatusRequestEntityTooLarge, Field: "rows", Err: err,
			Msg: fmt.Sprintf("rows: %s; nothing of the slice was kept. Raise the trainer's %s setting, or %s",
				err.Error(), budget.setting, free)}
	case errors.Is(err, errDataBudget):
		// A bound of a block's own, such as its distinct categories.
		return &Error{Status: http.StatusRequestEntityTooLarge, Field: "rows", Err: err,
			Msg: fmt.Sprintf("rows: %s; nothing of the slice was kept", err.Error())}
	case !errors.As(err, &se):
		return nil
	}
	name := se.model
	answer := func(status int, field, format string, args ...any) *Error {
		e := newError(status, field, format, args...)
		e.Err = err
		return e
	}
	switch se.class {
	case errNotFound:
		if se.op == opDelete {
			return answer(http.StatusNotFound, "name", "model %q does not exist", name)
		}
		return answer(http.StatusNotFound, "name", "model %q does not exist; create it with PUT /models/%s", name, name)
	case errDeleted:
		if se.op == opUpload {
			return answer(http.StatusNotFound, "name", "model %q was deleted during the upload", name)
		}
		return answer(http.StatusNotFound, "name", "model %q was deleted", name)
	case errChanged:
		if se.op == opUpload {
			return answer(http.StatusConflict, "", "the options of model %q changed during the upload; send the slice again", name)
		}
		return answer(http.StatusConflict, "", "model %q was deleted or its options replaced while it trained", name)
	case errFull:
		return answer(http.StatusConflict, "", "the trainer holds %d models, its limit; delete one first", se.held)
	case errHoldsRows:
		return answer(http.StatusConflict, "", "model %q holds %d rows uploaded under other options; DELETE /models/%s/data/train or the model first", name, se.held, name)
	case errTraining:
		e := answer(http.StatusConflict, "", "model %q is training under its current options", name)
		if se.op == opTrain {
			e = answer(http.StatusConflict, "", "model %q is training already (task %s)", name, se.taskID)
		}
		e.TaskID = se.taskID
		return e
	case errTooManyRows:
		if se.adding > se.limit {
			// A slice that could never fit, beside rows held or not.
			return answer(http.StatusRequestEntityTooLarge, "rows", "rows: the slice holds over %d rows, the most a model keeps", se.limit)
		}
		return answer(http.StatusConflict, "rows", "rows: model %q holds %d rows; %d more would pass its limit of %d", name, se.held, se.adding, se.limit)
	}
	return nil
}

// writeError answers err as JSON: a refusal of the store as storeAnswer
// says, an *Error as it is. Anything else is a fault of the server: it is
// logged and answered 500 without details, except a body over the limit,
// which is the client's.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	var apiErr *Error
	if !errors.As(err, &apiErr) {
		apiErr = storeAnswer(err)
	}
	var tooLarge *http.MaxBytesError
	switch {
	case apiErr != nil:
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
