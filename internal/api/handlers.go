package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/streamscore/streamscore/internal/fit"
)

// putModel creates a model from options JSON, or keeps or replaces it.
func (a *API) putModel(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := checkName(name); err != nil {
		return err
	}
	body, err := a.readBody(r)
	if err != nil {
		return err
	}
	opts, err := fit.ParseOptions(body)
	if err == nil {
		// Rows sent here carry no time, and a version is promoted only
		// if it beats the champion on its holdout.
		err = opts.ValidateForAPI()
	}
	if err != nil {
		return optionsError(err)
	}
	resolved, err := a.resolveSubject(r.Context(), opts)
	if err != nil {
		return err
	}
	created, err := a.models.put(name, opts, resolved)
	if err != nil {
		return err
	}
	e, err := a.models.get(name)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/models/"+name)
		a.logger.Info("model created", "model", name, "family", opts.Family)
	}
	writeJSON(w, a.logger, status, e.info())
	return nil
}

func (a *API) getModel(w http.ResponseWriter, r *http.Request) error {
	e, err := a.models.get(r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, a.logger, http.StatusOK, e.info())
	return nil
}

// ModelList is GET /models.
type ModelList struct {
	Models []ModelInfo `json:"models"`
}

func (a *API) listModels(w http.ResponseWriter, _ *http.Request) error {
	entries := a.models.all()
	list := ModelList{Models: make([]ModelInfo, len(entries))}
	for i, e := range entries {
		list.Models[i] = e.info()
	}
	writeJSON(w, a.logger, http.StatusOK, list)
	return nil
}

// deleteModel forgets a model, cancels its training and closes its session.
func (a *API) deleteModel(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := a.models.remove(name); err != nil {
		return err
	}
	a.logger.Info("model deleted", "model", name)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// RowsResult is the answer to an uploaded slice.
type RowsResult struct {
	Model string `json:"model"`
	// Added rows in this slice; Rows held for the model in all.
	Added int `json:"added"`
	Rows  int `json:"rows"`
}

// putRows appends a slice of training rows. Every row is checked against
// the model's options before any is kept: one bad row refuses the slice.
// Rows are decoded straight into a block of typed columns, whose bytes are
// taken from the data budgets as it grows: a slice that would pass one is
// refused whole, and whatever it had taken is given back.
func (a *API) putRows(w http.ResponseWriter, r *http.Request) error {
	e, err := a.models.get(r.PathValue("name"))
	if err != nil {
		return err
	}
	if err := a.checkBody(r); err != nil {
		return err
	}
	held, kind, schema, gen := e.snapshot()
	limit := a.cfg.MaxRowsPerModel
	res := &reservation{e: e, data: e.data}
	defer res.release()
	bl, err := newBuilder(schema, kind, res.take)
	if err != nil {
		return err
	}
	err = decodeRecords(r.Body, "rows", schema.paths, func(i int, rec map[string]any) error {
		if err := checkRows(e.name, held, i+1, limit); err != nil {
			return err
		}
		return bl.add(i, rec)
	})
	if err != nil {
		return err
	}
	b := bl.finish()
	// Once kept, the block is the model's: a later slice may be merged
	// into it, so what this answer reports is read before.
	added := b.n
	if added == 0 {
		return badRequest("rows", "rows: the slice is empty")
	}
	total, err := e.appendRows(b, res, gen, limit)
	if err != nil {
		return err
	}
	writeJSON(w, a.logger, http.StatusOK, RowsResult{Model: e.name, Added: added, Rows: total})
	return nil
}

// deleteRows drops the rows held for a model; its trained version stays.
// Their bytes are given back at once, or when the training reading them
// ends.
func (a *API) deleteRows(w http.ResponseWriter, r *http.Request) error {
	e, err := a.models.get(r.PathValue("name"))
	if err != nil {
		return err
	}
	e.clearRows()
	writeJSON(w, a.logger, http.StatusOK, RowsResult{Model: e.name})
	return nil
}

// getONNX serves the latest trained version's ONNX file; its spec is in
// the metadata, so the scorer can serve it as it is.
func (a *API) getONNX(w http.ResponseWriter, r *http.Request) error {
	e, err := a.models.get(r.PathValue("name"))
	if err != nil {
		return err
	}
	latest := e.latestVersion()
	if latest == nil {
		return newError(http.StatusConflict, "", "model %q is not trained yet", e.name)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+e.name+`.onnx"`)
	w.Header().Set("X-Model-Version", strconv.Itoa(latest.result.Version))
	_, _ = w.Write(latest.onnx)
	return nil
}

// MaxTaskWait bounds GET /tasks/{id}?wait=.
const MaxTaskWait = time.Minute

// getTask answers a task's state. With ?wait=<duration> (such as 30s, at
// most MaxTaskWait) it first waits for the task to finish, so a client
// long-polls instead of polling.
func (a *API) getTask(w http.ResponseWriter, r *http.Request) error {
	t, err := a.tasks.get(r.PathValue("id"))
	if err != nil {
		return err
	}
	if v := r.URL.Query().Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return badRequest("wait", "wait: %q is not a duration such as 30s", v)
		}
		timer := time.NewTimer(min(d, MaxTaskWait))
		defer timer.Stop()
		select {
		case <-t.done:
		case <-timer.C:
		case <-r.Context().Done():
			return fmt.Errorf("wait for task %s: %w", t.id, r.Context().Err())
		}
	}
	writeJSON(w, a.logger, http.StatusOK, t.info())
	return nil
}

// resolveSubject checks the paths of a model that names a subject against
// the subject's latest schema, and returns its options with the strings
// and enums categorical (fit.Options.Resolve): a 400 names every path
// the schema cannot feed, and its Avro type. A model without a subject is
// checked as its rows come.
func (a *API) resolveSubject(ctx context.Context, opts fit.Options) (fit.Options, error) {
	if opts.Subject == "" {
		return opts, nil
	}
	if a.schemas == nil {
		return fit.Options{}, badRequest("subject", "this trainer has no schema registry to check %q against: leave subject out, and name the categorical features in categorical", opts.Subject)
	}
	resolved, found, err := fit.ResolveSchema(ctx, a.schemas, opts.Subject, opts)
	switch {
	case errors.Is(err, fit.ErrInvalidOptions):
		e := optionsError(err)
		e.Field = "features"
		return fit.Options{}, e
	case err != nil:
		return fit.Options{}, &Error{Status: http.StatusBadGateway, Field: "subject", Msg: fmt.Sprintf("subject: %s", err), Err: err}
	case !found:
		return fit.Options{}, badRequest("subject", "no schema is registered under %q", opts.Subject)
	}
	return resolved, nil
}
