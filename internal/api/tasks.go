package api

import (
	"crypto/rand"
	"net/http"
	"sync"
	"time"
)

// Task states.
const (
	StatePending   = "pending"
	StateRunning   = "running"
	StateSucceeded = "succeeded"
	StateFailed    = "failed"
)

// task is one training, from the request that started it to its result.
type task struct {
	id      string
	model   string
	created time.Time
	done    chan struct{} // closed when the task has finished

	mu       sync.Mutex // guards the fields below
	state    string
	progress float64
	started  time.Time
	finished time.Time
	result   *TrainResult
	err      *Error
}

// TaskInfo is GET /tasks/{id}.
type TaskInfo struct {
	ID    string `json:"id"`
	Model string `json:"model"`
	State string `json:"state"`
	// Progress is the share of the training's steps done, 0 to 1.
	Progress   float64      `json:"progress"`
	CreatedAt  time.Time    `json:"created_at"`
	StartedAt  *time.Time   `json:"started_at,omitempty"`
	FinishedAt *time.Time   `json:"finished_at,omitempty"`
	Result     *TrainResult `json:"result,omitempty"`
	// Error, Field and ErrorStatus say why a failed task failed, and the
	// HTTP status a synchronous training would have answered.
	Error       string `json:"error,omitempty"`
	Field       string `json:"field,omitempty"`
	ErrorStatus int    `json:"error_status,omitempty"`
}

func (t *task) info() TaskInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	info := TaskInfo{ID: t.id, Model: t.model, State: t.state, Progress: t.progress, CreatedAt: t.created, Result: t.result}
	if !t.started.IsZero() {
		at := t.started
		info.StartedAt = &at
	}
	if !t.finished.IsZero() {
		at := t.finished
		info.FinishedAt = &at
	}
	if t.err != nil {
		info.Error, info.Field, info.ErrorStatus = t.err.Error(), t.err.Field, t.err.Status
	}
	return info
}

func (t *task) start() {
	t.mu.Lock()
	t.state, t.started = StateRunning, time.Now()
	t.mu.Unlock()
}

// setProgress is the training's fit.Progress.
func (t *task) setProgress(done, total int) {
	if total <= 0 {
		return
	}
	p := min(max(float64(done)/float64(total), 0), 1)
	t.mu.Lock()
	t.progress = p
	t.mu.Unlock()
}

// finish records the outcome once; later calls are ignored.
func (t *task) finish(res *TrainResult, err *Error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state == StateSucceeded || t.state == StateFailed {
		return
	}
	t.finished = time.Now()
	if err != nil {
		t.state, t.err = StateFailed, err
	} else {
		t.state, t.result, t.progress = StateSucceeded, res, 1
	}
	close(t.done)
}

func (t *task) isFinished() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

// tasks holds tasks by id, at most max: adding one evicts the oldest
// finished tasks beyond that. Running tasks are never evicted (there is at
// most one per model).
type tasks struct {
	mu    sync.Mutex
	byID  map[string]*task
	order []*task // oldest first
	max   int
}

func newTasks(max int) *tasks {
	return &tasks{byID: map[string]*task{}, max: max}
}

func (ts *tasks) add(modelName string) *task {
	t := &task{id: rand.Text(), model: modelName, created: time.Now(), state: StatePending, done: make(chan struct{})}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.byID[t.id] = t
	ts.order = append(ts.order, t)
	excess := len(ts.order) - ts.max
	kept := ts.order[:0]
	for _, old := range ts.order {
		if excess > 0 && old.isFinished() {
			delete(ts.byID, old.id)
			excess--
			continue
		}
		kept = append(kept, old)
	}
	clear(ts.order[len(kept):])
	ts.order = kept
	return t
}

func (ts *tasks) get(id string) (*task, error) {
	ts.mu.Lock()
	t := ts.byID[id]
	ts.mu.Unlock()
	if t == nil {
		return nil, newError(http.StatusNotFound, "id", "task %q does not exist (finished tasks are kept while fewer than the limit)", id)
	}
	return t, nil
}
