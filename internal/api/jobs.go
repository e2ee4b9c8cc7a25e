package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/streamscore/streamscore/internal/jobs"
)

// Jobs are the trainer's retraining jobs, which the API can list and
// trigger; *jobs.Scheduler is the one in use.
type Jobs interface {
	Trigger(name string, force bool) error
	Status() []jobs.JobStatus
}

// JobTriggered is the answer to a trigger: the training is queued behind
// any that is running, and merged with any already queued.
type JobTriggered struct {
	Job    string `json:"job"`
	Forced bool   `json:"forced"`
	State  string `json:"state"`
}

// listJobs serves GET /jobs.
func (a *API) listJobs(w http.ResponseWriter, _ *http.Request) error {
	status := []jobs.JobStatus{}
	if a.jobs != nil {
		status = a.jobs.Status()
	}
	writeJSON(w, a.logger, http.StatusOK, map[string]any{"jobs": status})
	return nil
}

// triggerJob serves POST /jobs/{name}/train[?force=true].
func (a *API) triggerJob(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	force := false
	if v := r.URL.Query().Get("force"); v != "" {
		var err error
		if force, err = strconv.ParseBool(v); err != nil {
			return badRequest("force", "%q is not true or false", v)
		}
	}
	if a.jobs == nil {
		return newError(http.StatusNotFound, "name", "job %q: this trainer has no jobs", name)
	}
	if err := a.jobs.Trigger(name, force); err != nil {
		if errors.Is(err, jobs.ErrUnknownJob) {
			return newError(http.StatusNotFound, "name", "job %q is not configured", name)
		}
		return err
	}
	writeJSON(w, a.logger, http.StatusAccepted, JobTriggered{Job: name, Forced: force, State: "queued"})
	return nil
}
