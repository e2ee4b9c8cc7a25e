package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/model"
)

// validName is what a model may be called: safe in a URL, a file name and a
// Kafka record key.
var validName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// entry is one model: its options, the rows uploaded for it, its training
// and the latest version it was trained to. Each entry has its own locks, so
// one model's upload, training or prediction never waits for another's.
type entry struct {
	name string

	mu      sync.Mutex // guards the fields below
	opts    fit.Options
	optsKey string // canonical options JSON, to tell a repeated PUT from a change
	// resolved are opts as trained and checked: with the subject's strings
	// and enums listed as categorical, when opts name a subject.
	resolved fit.Options
	schema   rowSchema
	gen      int // bumped when the options are replaced or the model deleted
	// The rows held, in blocks in upload order (see storedata.go), and the kind
	// of their class labels (0: none yet, or a regressor).
	blocks    []*block
	rows      int
	labelKind fit.LabelKind
	// dataBytes is charged to the model's data budget: its blocks, the
	// blocks trainings still read, and the uploads under way.
	dataBytes    int64
	maxDataBytes int64       // Config.MaxModelDataBytes
	data         *dataBudget // the budget of all models, its store's
	deleted      bool
	task         *task                   // the running training, or nil
	cancel       context.CancelCauseFunc // cancels the running training
	version      int                     // the latest version trained (0: none)
	latest       *version

	serveMu sync.Mutex // serialises ONNX Runtime runs of served, and its swaps
	served  *model.Model
}

// version is a trained version as GET /models/{name} shows it.
type version struct {
	result    TrainResult
	onnx      []byte
	trainedAt time.Time
}

// store holds the models by name, at most max of them, each allowed
// maxDataBytes of rows and all of them together data's limit. It answers
// in errors of its own classes (storeerrors.go), never in HTTP terms.
type store struct {
	mu           sync.RWMutex
	models       map[string]*entry
	max          int
	maxDataBytes int64
	data         *dataBudget
}

func newStore(max int, maxDataBytes int64, data *dataBudget) *store {
	return &store{models: map[string]*entry{}, max: max, maxDataBytes: maxDataBytes, data: data}
}

func checkName(name string) error {
	if !validName.MatchString(name) {
		return invalid(errInvalidName, "name", "name: %q is not 1 to 128 letters, digits, '.', '_' or '-'", name)
	}
	return nil
}

// get returns the named model, or errNotFound.
func (s *store) get(name string) (*entry, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	s.mu.RLock()
	e := s.models[name]
	s.mu.RUnlock()
	if e == nil {
		return nil, &storeError{class: errNotFound, op: opGet, model: name}
	}
	return e, nil
}

// put creates a model or, when it exists, keeps it (same options) or
// replaces its options (only while it holds no rows and is not training,
// which drops its trained version).
// It reports whether the model was created.
func (s *store) put(name string, opts, resolved fit.Options) (bool, error) {
	key, err := canonicalOptions(opts)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.models[name]
	if e == nil {
		if len(s.models) >= s.max {
			return false, &storeError{class: errFull, op: opCreate, model: name, held: len(s.models)}
		}
		s.models[name] = &entry{name: name, opts: opts, optsKey: key, resolved: resolved, schema: newRowSchema(resolved), maxDataBytes: s.maxDataBytes, data: s.data}
		return true, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.optsKey == key:
		return false, nil
	case e.rows > 0:
		return false, &storeError{class: errHoldsRows, op: opCreate, model: name, held: e.rows}
	case e.task != nil:
		return false, &storeError{class: errTraining, op: opCreate, model: name, taskID: e.task.id}
	}
	// The trained version was trained under the old options: it goes too,
	// and the version numbers go on from it.
	e.opts, e.optsKey, e.resolved, e.schema = opts, key, resolved, newRowSchema(resolved)
	e.gen++
	e.latest = nil
	e.serve(nil)
	return false, nil
}

// remove forgets a model: it drops its rows, cancels its training
// (errModelDeleted) and closes its session.
func (s *store) remove(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	s.mu.Lock()
	e := s.models[name]
	delete(s.models, name)
	s.mu.Unlock()
	if e == nil {
		return &storeError{class: errNotFound, op: opDelete, model: name}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.deleted = true
	e.gen++
	e.dropRows()
	if e.cancel != nil {
		e.cancel(errModelDeleted)
	}
	e.serve(nil)
	return nil
}

func (s *store) all() []*entry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*entry, 0, len(s.models))
	for _, e := range s.models {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *entry) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	return out
}

// canonicalOptions is the options' JSON with params re-encoded, so that
// key order and spacing inside params do not count as a change.
func canonicalOptions(opts fit.Options) (string, error) {
	if len(bytes.TrimSpace(opts.Params)) > 0 {
		var params any
		if err := json.Unmarshal(opts.Params, &params); err != nil {
			return "", invalid(errInvalidParams, "params", "params: %s", err)
		}
		canonical, err := json.Marshal(params)
		if err != nil {
			return "", fmt.Errorf("encode params: %w", err)
		}
		opts.Params = canonical
	}
	key, err := json.Marshal(opts)
	if err != nil {
		return "", fmt.Errorf("encode options: %w", err)
	}
	return string(key), nil
}

// ModelInfo is GET /models/{name}, and one element of GET /models.
type ModelInfo struct {
	Name    string      `json:"name"`
	Options fit.Options `json:"options"`
	Rows    int         `json:"rows"`
	// Version is the latest trained version, 0 before the first training.
	Version   int          `json:"version"`
	TrainedAt *time.Time   `json:"trained_at,omitempty"`
	Latest    *TrainResult `json:"latest,omitempty"`
	// TaskID is the running training, if any.
	TaskID string `json:"task_id,omitempty"`
}

func (e *entry) info() ModelInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	info := ModelInfo{Name: e.name, Options: e.opts, Rows: e.rows, Version: e.version}
	if e.latest != nil {
		r := e.latest.result
		at := e.latest.trainedAt
		info.Latest, info.TrainedAt = &r, &at
	}
	if e.task != nil {
		info.TaskID = e.task.id
	}
	return info
}

// appendRows adds a checked slice, unless the options changed or the model
// was deleted since it was checked against them (gen), the slice would take
// the model over max rows, or its labels are of another kind than the rows
// held. The block's bytes, reserved by r, become the model's.
func (e *entry) appendRows(b *block, r *reservation, gen, max int) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.deleted {
		return 0, &storeError{class: errDeleted, op: opUpload, model: e.name}
	}
	if e.gen != gen {
		return 0, &storeError{class: errChanged, op: opUpload, model: e.name}
	}
	if err := checkRows(e.name, e.rows, b.n, max); err != nil {
		return 0, err
	}
	if e.labelKind != 0 && b.kind != 0 && b.kind != e.labelKind {
		// Another slice, of another kind, was kept while this one was read.
		return 0, mixedLabels("rows[0]."+e.schema.label, b.kind, b.first, fmt.Sprintf("the rows model %q holds have %s", e.name, e.labelKind.Plural()))
	}
	r.settle()
	r.bytes = 0 // the block's now, freed with it
	b.refs = 1
	if e.labelKind == 0 {
		e.labelKind = b.kind
	}
	e.rows += b.n
	if last := e.lastBlock(); last != nil && last.refs == 1 && last.n < mergeRows && b.n < mergeRows {
		// Small slices go into the last block while it is small too
		// and no training reads it.
		if e.merge(last, b) {
			return e.rows, nil
		}
	}
	e.blocks = append(e.blocks, b)
	return e.rows, nil
}

func (e *entry) lastBlock() *block {
	if len(e.blocks) == 0 {
		return nil
	}
	return e.blocks[len(e.blocks)-1]
}

// merge appends b's rows to last and frees b. The caller holds e.mu.
// It reports false, changing nothing, when the budgets have no room for
// what last grows by.
func (e *entry) merge(last, b *block) bool {
	data := e.data
	taken := int64(0)
	take := func(n int64) error {
		if e.dataBytes+n > e.maxDataBytes {
			return errDataBudget
		}
		if err := data.take(n, 0); err != nil {
			return err
		}
		e.dataBytes += n
		taken += n
		return nil
	}
	if err := last.appendBlock(b, e.schema, take); err != nil {
		e.dataBytes -= taken
		data.release(taken)
		return false
	}
	last.bytes += taken
	e.free(b)
	return true
}

// free gives back a block's bytes, once nothing holds it. The caller holds
// e.mu.
func (e *entry) free(b *block) {
	e.dataBytes -= b.bytes
	e.data.release(b.bytes)
	b.refs = 0
}

// dropRows lets go of the rows held; the blocks a training still reads are
// freed when it ends. The caller holds e.mu.
func (e *entry) dropRows() {
	for _, b := range e.blocks {
		e.unref(b)
	}
	e.blocks, e.rows, e.labelKind = nil, 0, 0
}

func (e *entry) unref(b *block) {
	if b.refs--; b.refs == 0 {
		e.free(b)
	}
}

// clearRows lets go of the rows held, as DELETE of a model's data does.
func (e *entry) clearRows() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dropRows()
}

// checkRows refuses, with errTooManyRows, adding rows to the held ones of
// a model that keeps at most max.
func checkRows(name string, held, adding, max int) error {
	if held+adding > max {
		return &storeError{class: errTooManyRows, op: opUpload, model: name, held: held, adding: adding, limit: max}
	}
	return nil
}

// snapshot returns what an upload is checked against.
func (e *entry) snapshot() (rows int, kind fit.LabelKind, schema rowSchema, gen int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rows, e.labelKind, e.schema, e.gen
}

// holdRows returns the rows a training reads, holding each block until
// releaseRows. The caller holds e.mu.
func (e *entry) holdRows() *rowSet {
	set := &rowSet{blocks: slices.Clone(e.blocks), ends: make([]int, len(e.blocks)), schema: e.schema}
	n := 0
	for k, b := range e.blocks {
		b.refs++
		n += b.n
		set.ends[k] = n
	}
	return set
}

// claim starts a training of the model, unless it was deleted
// (errDeleted) or is training already (errTraining): the task newTask
// makes and cancel become its running training, and the job returned
// holds the rows it reads until endTraining.
func (e *entry) claim(newTask func() *task, cancel context.CancelCauseFunc) (trainingJob, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.deleted:
		return trainingJob{}, &storeError{class: errDeleted, op: opTrain, model: e.name}
	case e.task != nil:
		return trainingJob{}, &storeError{class: errTraining, op: opTrain, model: e.name, taskID: e.task.id}
	}
	e.task, e.cancel = newTask(), cancel
	return trainingJob{entry: e, task: e.task, opts: e.resolved, rows: e.holdRows(), gen: e.gen}, nil
}

// endTraining lets go of what a training read, and frees the model for
// the next.
func (e *entry) endTraining(job trainingJob) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, b := range job.rows.blocks {
		e.unref(b)
	}
	job.rows.blocks = nil
	if e.task == job.task {
		e.task, e.cancel = nil, nil
	}
}

// nextVersion is the version after the latest, for a model numbered here.
func (e *entry) nextVersion() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.version + 1
}

// install makes a trained version the model's latest and serves it, unless
// the model was deleted or its options replaced since job began
// (errChanged), in which case m is closed.
func (e *entry) install(job trainingJob, res TrainResult, onnx []byte, m *model.Model) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.deleted || e.gen != job.gen {
		_ = m.Close()
		return &storeError{class: errChanged, op: opTrain, model: e.name}
	}
	e.version = max(e.version, res.Version)
	e.latest = &version{result: res, onnx: onnx, trainedAt: time.Now()}
	// Under e.mu, so a DELETE cannot slip in between the check above and
	// the swap and leave a session open in a forgotten model.
	e.serve(m)
	return nil
}

// latestVersion is the latest trained version, nil before the first.
func (e *entry) latestVersion() *version {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.latest
}

// stopServing closes the model's session, as Close does.
func (e *entry) stopServing() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.serve(nil)
}

// serve swaps in a newly trained model (nil: none), closing the one it
// replaces once no prediction uses it. The caller holds e.mu.
func (e *entry) serve(m *model.Model) {
	e.serveMu.Lock()
	old := e.served
	e.served = m
	e.serveMu.Unlock()
	if old != nil {
		_ = old.Close()
	}
}
