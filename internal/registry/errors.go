package registry

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrClosed is returned (and answered over HTTP as a 50001 store error) for
// writes that arrive after Close.
var ErrClosed = errors.New("registry: closed")

// ErrInvalidConfig marks a Config that New refuses; the wrapped message says
// which field is wrong.
var ErrInvalidConfig = errors.New("registry: invalid config")

// Confluent Schema Registry error codes. Clients branch on these (for
// example confluent_kafka treats 40401 as "subject does not exist yet"), so
// they follow Confluent's numbering exactly.
const (
	codeSubjectNotFound       = 40401
	codeVersionNotFound       = 40402
	codeSchemaNotFound        = 40403
	codeSubjectSoftDeleted    = 40404
	codeSubjectNotSoftDeleted = 40405
	codeVersionSoftDeleted    = 40406
	codeVersionNotSoftDeleted = 40407
	codeSubjectConfigNotFound = 40408
	codeIncompatibleSchema    = 409
	codeInvalidSchema         = 42201
	codeInvalidVersion        = 42202
	codeInvalidCompatibility  = 42203
	codeInvalidSubject        = 42208
	codeSchemaTooLarge        = 42209
	codeStoreError            = 50001
	codeOperationTimeout      = 50002
	codeUnauthorized          = 401
	codeBadRequest            = 400
	codeRequestTooLarge       = 413
	codeUnsupportedMediaType  = 415
	codeRouteNotFound         = 404
	codeMethodNotAllowed      = 405
)

// apiError is a failure with the HTTP status and Confluent error code it is
// answered with. cause, when set, is an internal error kept for the log and
// never sent to the client.
type apiError struct {
	status  int
	code    int
	message string
	cause   error
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%d %s: %v", e.code, e.message, e.cause)
	}
	return fmt.Sprintf("%d %s", e.code, e.message)
}

func (e *apiError) Unwrap() error { return e.cause }

func errSubjectNotFound(subject string) *apiError {
	return &apiError{status: http.StatusNotFound, code: codeSubjectNotFound,
		message: fmt.Sprintf("Subject '%s' not found.", subject)}
}

func errVersionNotFound(version int) *apiError {
	return &apiError{status: http.StatusNotFound, code: codeVersionNotFound,
		message: fmt.Sprintf("Version %d not found.", version)}
}

func errSchemaIDNotFound(id string) *apiError {
	return &apiError{status: http.StatusNotFound, code: codeSchemaNotFound,
		message: fmt.Sprintf("Schema %s not found", id)}
}

func errSchemaNotUnderSubject(subject string) *apiError {
	return &apiError{status: http.StatusNotFound, code: codeSchemaNotFound,
		message: fmt.Sprintf("Schema not found under subject '%s'", subject)}
}

func errSubjectSoftDeleted(subject string) *apiError {
	return &apiError{status: http.StatusNotFound, code: codeSubjectSoftDeleted,
		message: fmt.Sprintf("Subject '%s' was soft deleted. Set permanent=true to delete permanently", subject)}
}

func errSubjectNotSoftDeleted(subject string) *apiError {
	return &apiError{status: http.StatusNotFound, code: codeSubjectNotSoftDeleted,
		message: fmt.Sprintf("Subject '%s' was not deleted first before being permanently deleted", subject)}
}

func errVersionSoftDeleted(subject string, version int) *apiError {
	return &apiError{status: http.StatusNotFound, code: codeVersionSoftDeleted,
		message: fmt.Sprintf("Subject '%s' Version %d was soft deleted. Set permanent=true to delete permanently", subject, version)}
}

func errVersionNotSoftDeleted(subject string, version int) *apiError {
	return &apiError{status: http.StatusNotFound, code: codeVersionNotSoftDeleted,
		message: fmt.Sprintf("Subject '%s' Version %d was not deleted first before being permanently deleted", subject, version)}
}

func errSubjectConfigNotFound(subject string) *apiError {
	return &apiError{status: http.StatusNotFound, code: codeSubjectConfigNotFound,
		message: fmt.Sprintf("Subject '%s' does not have subject-level compatibility configured", subject)}
}

func errIncompatible(subject string, level Compatibility, reasons []string) *apiError {
	return &apiError{status: http.StatusConflict, code: codeIncompatibleSchema,
		message: fmt.Sprintf("Schema being registered is incompatible with an earlier schema for subject %q (compatibility %s): %s",
			subject, level, strings.Join(reasons, "; "))}
}

func errInvalidSchema(format string, args ...any) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, code: codeInvalidSchema,
		message: truncate(fmt.Sprintf(format, args...), maxMessageBytes)}
}

func errInvalidVersion(raw string) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, code: codeInvalidVersion,
		message: fmt.Sprintf("The specified version '%s' is not a valid version id. "+
			"Allowed values are between [1, 2^31-1] and the string \"latest\"", raw)}
}

func errInvalidCompatibility(raw string) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, code: codeInvalidCompatibility,
		message: fmt.Sprintf("Invalid compatibility level %q. Valid values are %s", raw, compatibilityNames())}
}

// errInvalidSubject refuses a subject name; reason says which rule it
// breaks. Confluent answers 42208 with HTTP 422 too.
func errInvalidSubject(subject, reason string) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, code: codeInvalidSubject,
		message: fmt.Sprintf("Invalid subject %s: %s", abbreviate(subject), reason)}
}

// errSchemaTooLarge refuses a schema over one of the size limits.
// Confluent uses the same code (with HTTP 500, which clients would retry;
// 422 says that sending it again cannot help).
func errSchemaTooLarge(format string, args ...any) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, code: codeSchemaTooLarge,
		message: fmt.Sprintf(format, args...)}
}

func errStore(cause error) *apiError {
	return &apiError{status: http.StatusInternalServerError, code: codeStoreError,
		message: "Error in the backend data store", cause: cause}
}

func errBadRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: codeBadRequest,
		message: fmt.Sprintf(format, args...)}
}

// maxMessageBytes caps an error message built from client input (a parser
// error can quote a whole megabyte of schema back).
const maxMessageBytes = 1024

// truncate cuts s to at most n bytes, at a rune boundary, and says so.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes in all)", s[:cut], len(s))
}

// abbreviate quotes a client-supplied name for a message or a log line:
// control characters escaped, at most 64 bytes of it shown.
func abbreviate(name string) string {
	const shown = 64
	if len(name) <= shown {
		return strconv.Quote(name)
	}
	cut := shown
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(name[:cut]), len(name))
}
