package api

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/model"
)

// TrainResult is a successful training: the answer of a synchronous
// PUT /models/{name}/train and a succeeded task's result.
type TrainResult struct {
	Model   string `json:"model"`
	Version int    `json:"version"`
	// Published says the version is in the model registry (a Publisher is
	// configured); otherwise it is numbered by this trainer alone.
	Published bool   `json:"published"`
	TaskID    string `json:"task_id"`
	// Metrics are ONNX Runtime's scores of the exported model on the
	// holdout: the last Options.Holdout of the rows, in upload order.
	Metrics     fit.Metrics `json:"metrics"`
	Labels      []string    `json:"labels,omitempty"`
	TrainRows   int         `json:"train_rows"`
	HoldoutRows int         `json:"holdout_rows"`
	// Skipped counts training rows left out, by reason; HoldoutSkipped the
	// holdout rows that could not be scored.
	Skipped        map[string]int  `json:"skipped"`
	HoldoutSkipped map[string]int  `json:"holdout_skipped,omitempty"`
	Params         json.RawMessage `json:"params,omitempty"`
	DurationMS     int64           `json:"duration_ms"`
}

// TaskStarted is the 202 answer of an asynchronous training.
type TaskStarted struct {
	TaskID string `json:"task_id"`
	// URL is where the task's state is, as in the Location header.
	URL string `json:"url"`
}

// train starts a training of the model's rows as a task. With ?async=true
// it answers 202 at once; otherwise it waits for the task and answers its
// result or error. A client that goes away does not stop the training.
func (a *API) train(w http.ResponseWriter, r *http.Request) error {
	e, err := a.models.get(r.PathValue("name"))
	if err != nil {
		return err
	}
	async := false
	if v := r.URL.Query().Get("async"); v != "" {
		if async, err = strconv.ParseBool(v); err != nil {
			return badRequest("async", "async: %q is not true or false", v)
		}
	}
	t, err := a.startTraining(e)
	if err != nil {
		return err
	}
	url := "/tasks/" + t.id
	if async {
		w.Header().Set("Location", url)
		writeJSON(w, a.logger, http.StatusAccepted, TaskStarted{TaskID: t.id, URL: url})
		return nil
	}
	select {
	case <-t.done:
	case <-r.Context().Done():
		return fmt.Errorf("wait for task %s: %w", t.id, r.Context().Err())
	}
	info := t.info()
	if info.State == StateFailed {
		t.mu.Lock()
		failure := *t.err
		t.mu.Unlock()
		failure.TaskID = t.id
		return &failure
	}
	w.Header().Set("Location", url)
	writeJSON(w, a.logger, http.StatusOK, info.Result)
	return nil
}

// startTraining registers a task for the model and starts its goroutine;
// a model that is training already answers 409 naming the running task.
func (a *API) startTraining(e *entry) (*task, error) {
	a.lifeMu.Lock()
	defer a.lifeMu.Unlock()
	if a.closed {
		return nil, newError(http.StatusServiceUnavailable, "", "the trainer is shutting down")
	}
	ctx, cancel := context.WithCancelCause(a.ctx)
	job, err := e.claim(func() *task { return a.tasks.add(e.name) }, cancel)
	if err != nil {
		cancel(nil)
		return nil, err
	}
	ctx, stop := context.WithTimeoutCause(ctx, a.cfg.TrainTimeout, fmt.Errorf("%w of %s", errTimeout, a.cfg.TrainTimeout))
	a.wg.Add(1)
	go a.runTraining(ctx, func() { stop(); cancel(nil) }, job)
	return job.task, nil
}

// trainingJob is what one training reads, taken when it starts
// (entry.claim).
type trainingJob struct {
	entry *entry
	task  *task
	opts  fit.Options
	rows  *rowSet // held until the training ends
	gen   int
}

// runTraining fits, publishes and loads a model, then serves it. Whatever
// happens, panics included, ends in the task's result or error and frees
// the model for its next training; no other model is touched.
func (a *API) runTraining(ctx context.Context, cancel func(), job trainingJob) {
	e, t := job.entry, job.task
	log := a.logger.With("model", e.name, "task", t.id)
	start := time.Now()
	var (
		res    *TrainResult
		failed *Error
	)
	defer func() {
		if p := recover(); p != nil {
			log.Error("training panicked", "panic", p, "stack", string(debug.Stack()))
			res, failed = nil, newError(http.StatusInternalServerError, "", "internal error: the training panicked: %v", p)
		}
		cancel()
		e.endTraining(job)
		if failed != nil {
			a.metrics.trainings.WithLabelValues(StateFailed).Inc()
			log.Warn("training failed", "status", failed.Status, "err", failed)
		} else {
			a.metrics.trainings.WithLabelValues(StateSucceeded).Inc()
			a.metrics.training.Observe(time.Since(start).Seconds())
			log.Info("trained", "version", res.Version, "rows", job.rows.Len(), "metrics", res.Metrics, "duration", time.Since(start))
		}
		t.finish(res, failed)
		a.wg.Done()
	}()
	t.start()
	log.Info("training", "rows", job.rows.Len(), "family", job.opts.Family)
	var err error
	if res, err = a.fit(ctx, job); err != nil {
		if ctx.Err() != nil {
			// Why it was canceled (deleted, shutting down, too long)
			// matters more than where.
			err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
		}
		res, failed = nil, trainingError(err)
	}
}

// fit trains, publishes and installs one version.
func (a *API) fit(ctx context.Context, job trainingJob) (*TrainResult, error) {
	e, t := job.entry, job.task
	result, err := fit.FitRows(ctx, e.name, job.opts, job.rows, t.setProgress)
	if err != nil {
		return nil, fmt.Errorf("train %s: %w", e.name, err)
	}
	published := false
	var v int
	if a.publisher != nil {
		if v, err = a.publisher.Publish(ctx, e.name, result, job.opts); err != nil {
			return nil, fmt.Errorf("%w %s: %w", errPublish, e.name, err)
		}
		published = true
	} else {
		v = e.nextVersion()
	}
	loaded, err := model.Load(result.ONNX, model.Options{Version: strconv.Itoa(v)})
	if err != nil {
		return nil, fmt.Errorf("load %s version %d: %w", e.name, v, err)
	}
	res := &TrainResult{
		Model: e.name, Version: v, Published: published, TaskID: t.id,
		Metrics:     finite(result.Evaluation.Metrics),
		Labels:      result.Spec.Labels,
		TrainRows:   result.TrainRows,
		HoldoutRows: result.Evaluation.Rows,
		Skipped:     nonNil(result.Skipped), HoldoutSkipped: result.Evaluation.Skipped,
		Params:     result.Params,
		DurationMS: result.Duration.Milliseconds(),
	}
	if err := e.install(job, *res, result.ONNX, loaded); err != nil {
		return nil, err
	}
	return res, nil
}

// finite drops metrics JSON cannot carry (NaN, ±Inf).
func finite(m fit.Metrics) fit.Metrics {
	out := make(fit.Metrics, len(m))
	for k, v := range m {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out[k] = v
		}
	}
	return out
}

func nonNil(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return maps.Clone(m)
}
