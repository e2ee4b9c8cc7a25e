package api

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestStoreFilesKnowNoHTTP parses the store's files (store*.go) and the
// row schema they check rows with: none imports net/http, so every status
// is chosen in errors.go.
func TestStoreFilesKnowNoHTTP(t *testing.T) {
	files, err := filepath.Glob("store*.go")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "rowread.go", "rowschema.go", "rowwrite.go")
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); path == "net/http" {
				t.Errorf("%s imports net/http; the store answers in its own error classes (storeerrors.go)", name)
			}
		}
	}
}

// TestStoreAnswer maps each refusal of the store, wrapped as a caller
// would wrap it, to its status, field and task id.
func TestStoreAnswer(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		field  string
		taskID string
	}{
		{"invalid name", invalid(errInvalidName, "name", "name: bad"), http.StatusBadRequest, "name", ""},
		{"invalid row", invalid(errInvalidRow, "rows[2].x", "rows[2].x: bad"), http.StatusBadRequest, "rows[2].x", ""},
		{"mixed labels", mixedLabels("rows[1].y", 0, "a", "other"), http.StatusUnprocessableEntity, "rows[1].y", ""},
		{"not found", &storeError{class: errNotFound, op: opGet, model: "m"}, http.StatusNotFound, "name", ""},
		{"deleted during an upload", &storeError{class: errDeleted, op: opUpload, model: "m"}, http.StatusNotFound, "name", ""},
		{"changed during an upload", &storeError{class: errChanged, op: opUpload, model: "m"}, http.StatusConflict, "", ""},
		{"full", &storeError{class: errFull, op: opCreate, model: "m", held: 3}, http.StatusConflict, "", ""},
		{"holds rows", &storeError{class: errHoldsRows, op: opCreate, model: "m", held: 3}, http.StatusConflict, "", ""},
		{"training", &storeError{class: errTraining, op: opTrain, model: "m", taskID: "T"}, http.StatusConflict, "", "T"},
		{"rows beside those held", &storeError{class: errTooManyRows, model: "m", held: 5, adding: 6, limit: 10}, http.StatusConflict, "rows", ""},
		{"a slice over the limit", &storeError{class: errTooManyRows, model: "m", adding: 11, limit: 10}, http.StatusRequestEntityTooLarge, "rows", ""},
		{"over a data budget", &budgetError{limit: 1 << 20, setting: settingMaxDataBytes}, http.StatusRequestEntityTooLarge, "rows", ""},
		{"over a block's categories", fmt.Errorf("%w: over %d distinct values", errDataBudget, maxBlockCategories), http.StatusRequestEntityTooLarge, "rows", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := storeAnswer(fmt.Errorf("at rows[0], %w", tt.err))
			if got == nil {
				t.Fatalf("no answer to %v", tt.err)
			}
			if got.Status != tt.status || got.Field != tt.field || got.TaskID != tt.taskID {
				t.Errorf("answer %d field %q task %q, want %d field %q task %q", got.Status, got.Field, got.TaskID, tt.status, tt.field, tt.taskID)
			}
		})
	}
	if got := storeAnswer(errors.New("disk on fire")); got != nil {
		t.Errorf("an error of no store class is answered %+v, want none", got)
	}
}
