package api

import (
	"errors"
	"fmt"
)

// The store's refusals, by class. Every error the store returns for a
// request it will not carry out wraps one of these, so the HTTP layer tells
// them apart with errors.Is and maps each to a status and a message in one
// place (storeAnswer, errors.go); the store itself knows nothing of HTTP.
var (
	// errInvalidName, errInvalidParams and errInvalidRow: a value the
	// store cannot take (a *valueError names the field).
	errInvalidName   = errors.New("invalid model name")
	errInvalidParams = errors.New("invalid params")
	errInvalidRow    = errors.New("invalid row")
	// errMixedLabels: a classifier's labels of two kinds (numbers,
	// strings, booleans), in one slice or beside the rows held.
	errMixedLabels = errors.New("labels of mixed kinds")

	// errNotFound: no model of that name.
	errNotFound = errors.New("model does not exist")
	// errDeleted: the model was deleted while the request used it.
	errDeleted = errors.New("model was deleted")
	// errChanged: the model's options were replaced, or the model
	// deleted, while the request used it.
	errChanged = errors.New("model changed")
	// errFull: creating a model would pass the store's limit.
	errFull = errors.New("model limit reached")
	// errHoldsRows: the options of a model holding rows cannot change.
	errHoldsRows = errors.New("model holds rows")
	// errTraining: the model is training; storeError.taskID names the task.
	errTraining = errors.New("model is training")
	// errTooManyRows: a slice would take the model past its row limit.
	errTooManyRows = errors.New("too many rows")
	// errDataBudget: rows would take the store past one of its data
	// budgets (Config.MaxDataBytes, Config.MaxModelDataBytes); a
	// *budgetError names the limit.
	errDataBudget = errors.New("over the data budget")

	// errModelDeleted is the cause a deleted model's training is canceled
	// with. It is no refusal of the store's: a training that ends on it
	// fails its task.
	errModelDeleted = errors.New("training canceled: the model was deleted")
)

// What a storeError was refused, as its messages say.
const (
	opGet    = "get"
	opCreate = "create"
	opDelete = "delete"
	opUpload = "upload to"
	opTrain  = "train"
)

// storeError is an operation on a model that the store refused: which, on
// which model, of which class, and the figures a message about it names.
type storeError struct {
	class error
	op    string
	model string
	// taskID is the running training, for errTraining.
	taskID string
	// held is the rows held (errHoldsRows, errTooManyRows) or the models
	// held (errFull); adding and limit are a refused slice's rows and the
	// model's limit (errTooManyRows).
	held, adding, limit int
}

func (e *storeError) Error() string {
	return fmt.Sprintf("%s model %q: %s", e.op, e.model, e.class)
}

func (e *storeError) Unwrap() error { return e.class }

// valueError is a value the store refuses, at a field named by its JSON
// path ("name", "params", "rows[3].temperature"); msg starts with it.
type valueError struct {
	class error
	field string
	msg   string
}

func (e *valueError) Error() string { return e.msg }

func (e *valueError) Unwrap() error { return e.class }

func invalid(class error, field, format string, args ...any) *valueError {
	return &valueError{class: class, field: field, msg: fmt.Sprintf(format, args...)}
}

// The trainer settings that raise the data budgets, as errors name them.
const (
	settingMaxDataBytes      = "max-data-bytes"
	settingMaxModelDataBytes = "max-model-data-bytes"
)

// budgetError is a refused reservation, naming the limit.
type budgetError struct {
	limit   int64
	setting string // the trainer setting that raises it
	model   string // the model whose budget it is; "" for all models'
	held    int64  // bytes held against it, this upload's excluded
	mine    int64  // bytes this upload had taken, and asked for
}

func (e *budgetError) Error() string {
	whose := "all models'"
	if e.model != "" {
		whose = fmt.Sprintf("model %q's", e.model)
	}
	return fmt.Sprintf("the slice would take %s rows past their data limit of %s (%d bytes, setting %s): %s are held, and the slice needs over %s",
		whose, formatBytes(e.limit), e.limit, e.setting, formatBytes(e.held), formatBytes(e.mine))
}

func (e *budgetError) Unwrap() error { return errDataBudget }

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
