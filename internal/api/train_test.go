package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/api"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/model"
)

// TestTrainAndPredictGBDT uploads generated sensor readings in slices,
// trains a gbdt model synchronously, and checks the API's metrics and
// predictions against fit.Evaluate and ONNX Runtime's own answers for
// the model the API serves.
func TestTrainAndPredictGBDT(t *testing.T) {
	c := newServer(t, api.Config{}, api.Deps{})
	c.must(http.StatusCreated, "PUT", "/models/sensors", sensorOptions(), nil)
	rows := sensorRows(1, 3000)
	c.upload("sensors", rows[:2500], 500)
	// The last slice as {"records": [...]}, the other accepted form.
	var added api.RowsResult
	c.must(http.StatusOK, "PUT", "/models/sensors/data/train", map[string]any{"records": rows[2500:]}, &added)
	if added.Added != 500 || added.Rows != 3000 {
		t.Fatalf("last slice: %+v, want 500 added and 3000 held", added)
	}

	var res api.TrainResult
	c.must(http.StatusOK, "PUT", "/models/sensors/train", nil, &res)
	if res.Version != 1 || res.Published || res.Model != "sensors" || res.TaskID == "" {
		t.Fatalf("train result %+v, want version 1 of sensors, unpublished, with a task id", res)
	}
	if res.TrainRows != 2400 || res.HoldoutRows != 600 {
		t.Errorf("trained on %d rows and evaluated on %d, want 2400 and 600", res.TrainRows, res.HoldoutRows)
	}
	if auc := res.Metrics["auc"]; auc < 0.8 {
		t.Errorf("holdout AUC %v; the sample anomalies are learnable to over 0.8", auc)
	}
	if strings.Join(res.Labels, ",") != "false,true" {
		t.Errorf("labels %v, want [false true]", res.Labels)
	}

	holdout := jsonRows(t, rows[2400:])
	checkAgainstModel(t, c, "sensors", res, holdout, "anomaly")

	// Records that cannot be scored answer an error at their position;
	// the others are scored.
	bad := []map[string]any{
		holdout[0],
		{"temperature": "hot"},
		{"temperature": nil, "humidity": 40},
		holdout[1],
	}
	var pred api.PredictResult
	c.must(http.StatusOK, "POST", "/models/sensors/predict", map[string]any{"records": bad}, &pred)
	if len(pred.Predictions) != 4 {
		t.Fatalf("%d predictions for 4 records", len(pred.Predictions))
	}
	for i, want := range []string{"", "temperature", "temperature", ""} {
		p := pred.Predictions[i]
		if want == "" && (p.Error != "" || p.Label == "") {
			t.Errorf("record %d: %+v, want a prediction", i, p)
		}
		if want != "" && (p.Field != want || !strings.Contains(p.Error, want) || p.Label != "") {
			t.Errorf("record %d: %+v, want only an error naming %s", i, p, want)
		}
	}
}

// TestTrainAndPredictText trains a text model on generated messages and
// checks it as the gbdt one.
func TestTrainAndPredictText(t *testing.T) {
	c := newServer(t, api.Config{}, api.Deps{})
	c.must(http.StatusCreated, "PUT", "/models/spam", map[string]any{
		"family": "text", "text": "text", "label": "spam",
	}, nil)
	rows := textRows(2, 2000)
	c.upload("spam", rows, 1000)
	var res api.TrainResult
	c.must(http.StatusOK, "PUT", "/models/spam/train", nil, &res)
	if res.Version != 1 || res.Metrics["auc"] < 0.9 {
		t.Fatalf("train result %+v, want version 1 with an AUC over 0.9", res)
	}
	checkAgainstModel(t, c, "spam", res, jsonRows(t, rows[1600:]), "spam")
}

// checkAgainstModel downloads the served model and checks that the
// training's metrics are fit.Evaluate's on the holdout, and that every
// prediction is ONNX Runtime's answer for that model.
func checkAgainstModel(t *testing.T, c *client, name string, res api.TrainResult, holdout []map[string]any, label string) {
	t.Helper()
	dl := c.do("GET", "/models/"+name+"/onnx", nil)
	if dl.status != http.StatusOK || dl.header.Get("X-Model-Version") != "1" {
		t.Fatalf("GET onnx = %d, version %q", dl.status, dl.header.Get("X-Model-Version"))
	}
	m, err := model.Load(dl.body, model.Options{DefaultVersion: "1"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	ev, err := fit.Evaluate(m, holdout, label)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Rows != res.HoldoutRows {
		t.Errorf("Evaluate scored %d holdout rows, the training %d", ev.Rows, res.HoldoutRows)
	}
	for k, v := range ev.Metrics {
		if res.Metrics[k] != v {
			t.Errorf("metric %s: API %v, Evaluate %v", k, res.Metrics[k], v)
		}
	}

	var pred api.PredictResult
	c.must(http.StatusOK, "POST", "/models/"+name+"/predict", holdout, &pred)
	if pred.Model != name || pred.Version != 1 || len(pred.Predictions) != len(holdout) {
		t.Fatalf("predict: model %s version %d, %d predictions for %d records", pred.Model, pred.Version, len(pred.Predictions), len(holdout))
	}
	spec := m.Spec()
	batch := m.NewBatch()
	defer batch.Close()
	correct := 0
	for i, rec := range holdout {
		batch.Reset()
		if err := batch.Add(rec); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		want, err := m.Run(batch)
		if err != nil {
			t.Fatal(err)
		}
		got := pred.Predictions[i]
		if got.Error != "" || got.Label != want[0].Label || got.Value == nil || *got.Value != float32(want[0].Value) {
			t.Fatalf("record %d: API %+v, ONNX Runtime %+v", i, got, want[0])
		}
		for c, label := range spec.Labels {
			if got.Scores[label] != want[0].Scores[c] {
				t.Fatalf("record %d: score of %s: API %v, ONNX Runtime %v", i, label, got.Scores[label], want[0].Scores[c])
			}
		}
		truth, _ := rec[label].(bool)
		if got.Label == map[bool]string{true: "true", false: "false"}[truth] {
			correct++
		}
	}
	if acc := float64(correct) / float64(len(holdout)); acc != ev.Metrics["accuracy"] {
		t.Errorf("accuracy of the API's predictions %v, Evaluate's %v", acc, ev.Metrics["accuracy"])
	}
}

// TestAsyncTraining trains as a task, follows it to its end, and trains
// again to a second version that predictions then come from.
func TestAsyncTraining(t *testing.T) {
	c := newServer(t, api.Config{}, api.Deps{})
	c.must(http.StatusCreated, "PUT", "/models/sensors", sensorOptions(), nil)
	c.upload("sensors", sensorRows(3, 2000), 1000)

	for want := 1; want <= 2; want++ {
		r := c.do("PUT", "/models/sensors/train?async=true", nil)
		if r.status != http.StatusAccepted {
			t.Fatalf("async train = %d %s", r.status, r.body)
		}
		var started api.TaskStarted
		c.must(http.StatusOK, "GET", r.header.Get("Location"), nil, nil)
		if err := json.Unmarshal(r.body, &started); err != nil || started.TaskID == "" || started.URL != r.header.Get("Location") {
			t.Fatalf("202 body %s (%v), Location %q", r.body, err, r.header.Get("Location"))
		}
		info := c.waitTask(started.TaskID)
		if info.State != api.StateSucceeded || info.Progress != 1 || info.Result == nil || info.Result.Version != want || info.Model != "sensors" {
			t.Fatalf("task %+v, want succeeded with version %d", info, want)
		}
		if info.StartedAt == nil || info.FinishedAt == nil || info.FinishedAt.Before(*info.StartedAt) {
			t.Errorf("task times: started %v, finished %v", info.StartedAt, info.FinishedAt)
		}
		var m api.ModelInfo
		c.must(http.StatusOK, "GET", "/models/sensors", nil, &m)
		if m.Version != want || m.Latest == nil || m.Latest.Metrics["auc"] != info.Result.Metrics["auc"] || m.TaskID != "" {
			t.Fatalf("model after task: %+v", m)
		}
	}
	var pred api.PredictResult
	c.must(http.StatusOK, "POST", "/models/sensors/predict", sensorRows(4, 3), &pred)
	if pred.Version != 2 {
		t.Errorf("predictions from version %d, want 2", pred.Version)
	}
	if r := c.do("GET", "/tasks/x?wait=soon", nil); r.status != http.StatusNotFound {
		t.Errorf("wait on an unknown task = %d", r.status)
	}
}

// gatePublisher holds every Publish until it is released or its context
// ends, so a test can act while a training is known to be running.
type gatePublisher struct {
	entered chan string
	release chan struct{}
}

func newGate() *gatePublisher {
	return &gatePublisher{entered: make(chan string, 4), release: make(chan struct{})}
}

func (g *gatePublisher) Publish(ctx context.Context, name string, res *fit.Result, _ fit.Options) (int, error) {
	g.entered <- name
	select {
	case <-g.release:
		return 41, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// TestOneTrainingPerModel starts a training, and while it is known to run
// (held in Publish) checks that a second one is refused naming the first.
func TestOneTrainingPerModel(t *testing.T) {
	gate := newGate()
	c := newServer(t, api.Config{}, api.Deps{Publisher: gate})
	c.must(http.StatusCreated, "PUT", "/models/sensors", sensorOptions(), nil)
	c.upload("sensors", sensorRows(5, 500), 500)
	var started api.TaskStarted
	c.must(http.StatusAccepted, "PUT", "/models/sensors/train?async=true", nil, &started)
	<-gate.entered

	r := c.do("PUT", "/models/sensors/train", nil)
	if r.status != http.StatusConflict || r.err(t).TaskID != started.TaskID {
		t.Fatalf("second training = %d %s, want 409 naming task %s", r.status, r.body, started.TaskID)
	}
	var running api.TaskInfo
	c.must(http.StatusOK, "GET", "/tasks/"+started.TaskID, nil, &running)
	if running.State != api.StateRunning {
		t.Errorf("task held in Publish is %s, want running", running.State)
	}
	var m api.ModelInfo
	c.must(http.StatusOK, "GET", "/models/sensors", nil, &m)
	if m.TaskID != started.TaskID {
		t.Errorf("model shows task %q, want %q", m.TaskID, started.TaskID)
	}
	// Uploads go on during a training; the training reads what it started with.
	c.must(http.StatusOK, "PUT", "/models/sensors/data/train", sensorRows(6, 10), nil)

	close(gate.release)
	info := c.waitTask(started.TaskID)
	if info.State != api.StateSucceeded || info.Result.Version != 41 || !info.Result.Published || info.Result.TrainRows+info.Result.HoldoutRows != 500 {
		t.Fatalf("task %+v, want succeeded as published version 41 on 500 rows", info)
	}
}

// TestDeleteCancelsTraining deletes a model while it trains: the training
// is canceled, its task fails, and the model is gone.
func TestDeleteCancelsTraining(t *testing.T) {
	gate := newGate()
	c := newServer(t, api.Config{}, api.Deps{Publisher: gate})
	c.must(http.StatusCreated, "PUT", "/models/sensors", sensorOptions(), nil)
	c.upload("sensors", sensorRows(7, 500), 500)
	var started api.TaskStarted
	c.must(http.StatusAccepted, "PUT", "/models/sensors/train?async=true", nil, &started)
	<-gate.entered

	c.must(http.StatusNoContent, "DELETE", "/models/sensors", nil, nil)
	info := c.waitTask(started.TaskID)
	if info.State != api.StateFailed || info.ErrorStatus != http.StatusConflict || !strings.Contains(info.Error, "the model was deleted") {
		t.Fatalf("task %+v, want failed as canceled", info)
	}
	if r := c.do("GET", "/models/sensors", nil); r.status != http.StatusNotFound {
		t.Errorf("deleted model = %d", r.status)
	}
}

// statefulPublisher numbers versions per model, fails or panics for the
// models told to, and records what it was given.
type statefulPublisher struct {
	mu       sync.Mutex
	versions map[string]int
	fail     map[string]bool
	panics   map[string]bool
	got      []published
}

type published struct {
	name  string
	onnx  int
	label string
}

func (p *statefulPublisher) Publish(_ context.Context, name string, res *fit.Result, opts fit.Options) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.panics[name] {
		panic("publisher exploded for " + name)
	}
	if p.fail[name] {
		return 0, errors.New("registry refused the model")
	}
	p.versions[name] += 7
	p.got = append(p.got, published{name, len(res.ONNX), opts.Label})
	return p.versions[name], nil
}

// TestTrainingsAreIndependent trains three models at once: one succeeds,
// one has a single class (422), and one panics in its publisher (500). Each
// ends in its own result; the panic leaves its model free to train again.
func TestTrainingsAreIndependent(t *testing.T) {
	pub := &statefulPublisher{versions: map[string]int{}, panics: map[string]bool{"boom": true}}
	c := newServer(t, api.Config{}, api.Deps{Publisher: pub})
	rows := sensorRows(8, 1500)
	single := sensorRows(9, 500)
	for _, r := range single {
		r["anomaly"] = false
	}
	for name, data := range map[string][]map[string]any{"good": rows, "single": single, "boom": rows[:500]} {
		c.must(http.StatusCreated, "PUT", "/models/"+name, sensorOptions(), nil)
		c.upload(name, data, 500)
	}
	ids := map[string]string{}
	for _, name := range []string{"good", "single", "boom"} {
		var started api.TaskStarted
		c.must(http.StatusAccepted, "PUT", "/models/"+name+"/train?async=true", nil, &started)
		ids[name] = started.TaskID
	}
	good, one, boom := c.waitTask(ids["good"]), c.waitTask(ids["single"]), c.waitTask(ids["boom"])
	if good.State != api.StateSucceeded || good.Result.Version != 7 || !good.Result.Published {
		t.Errorf("good: %+v, want succeeded as published version 7", good)
	}
	if one.State != api.StateFailed || one.ErrorStatus != http.StatusUnprocessableEntity || !strings.Contains(one.Error, "single class") {
		t.Errorf("single: %+v, want failed with 422 for a single class", one)
	}
	if boom.State != api.StateFailed || boom.ErrorStatus != http.StatusInternalServerError || !strings.Contains(boom.Error, "panicked") {
		t.Errorf("boom: %+v, want failed with 500 for a panic", boom)
	}

	var pred api.PredictResult
	c.must(http.StatusOK, "POST", "/models/good/predict", rows[:5], &pred)
	if pred.Version != 7 {
		t.Errorf("good predicts with version %d, want 7", pred.Version)
	}
	for _, name := range []string{"single", "boom"} {
		if r := c.do("POST", "/models/"+name+"/predict", rows[:5]); r.status != http.StatusConflict {
			t.Errorf("%s predicts: %d, want 409 (never trained)", name, r.status)
		}
	}
	// The panic did not leave "boom" marked as training.
	r := c.do("PUT", "/models/boom/train", nil)
	if r.status != http.StatusInternalServerError || r.err(t).TaskID == "" {
		t.Errorf("boom again: %d %s, want 500 from its own task", r.status, r.body)
	}
	if got := counter(t, c, "streamscore_api_trainings_total", "result", "failed"); got != 3 {
		t.Errorf("failed trainings counted %v, want 3", got)
	}
}

// TestPublisher checks a trained model goes to the Publisher with its
// options, takes the version it returns, and that a refused publication
// (502) keeps the version served before.
func TestPublisher(t *testing.T) {
	pub := &statefulPublisher{versions: map[string]int{}, fail: map[string]bool{}}
	c := newServer(t, api.Config{}, api.Deps{Publisher: pub})
	c.must(http.StatusCreated, "PUT", "/models/sensors", sensorOptions(), nil)
	c.upload("sensors", sensorRows(10, 1000), 1000)

	var res api.TrainResult
	c.must(http.StatusOK, "PUT", "/models/sensors/train", nil, &res)
	if res.Version != 7 || !res.Published {
		t.Fatalf("result %+v, want published version 7", res)
	}
	if len(pub.got) != 1 || pub.got[0].name != "sensors" || pub.got[0].onnx == 0 || pub.got[0].label != "anomaly" {
		t.Fatalf("publisher got %+v", pub.got)
	}

	pub.mu.Lock()
	pub.fail["sensors"] = true
	pub.mu.Unlock()
	r := c.do("PUT", "/models/sensors/train", nil)
	if r.status != http.StatusBadGateway || !strings.Contains(r.err(t).Error, "registry refused") {
		t.Fatalf("refused publication = %d %s, want 502", r.status, r.body)
	}
	var pred api.PredictResult
	c.must(http.StatusOK, "POST", "/models/sensors/predict", sensorRows(11, 2), &pred)
	if pred.Version != 7 {
		t.Errorf("after a refused publication predictions come from version %d, want 7", pred.Version)
	}
}

// TestTrainingCancellations checks the two other ends of a training held
// in Publish: its time limit (504) and the API closing (503).
func TestTrainingCancellations(t *testing.T) {
	t.Run("time limit", func(t *testing.T) {
		gate := newGate()
		c := newServer(t, api.Config{TrainTimeout: 200 * time.Millisecond}, api.Deps{Publisher: gate})
		c.must(http.StatusCreated, "PUT", "/models/sensors", sensorOptions(), nil)
		c.upload("sensors", sensorRows(12, 300), 300)
		r := c.do("PUT", "/models/sensors/train", nil)
		if r.status != http.StatusGatewayTimeout || !strings.Contains(r.err(t).Error, "time limit") {
			t.Fatalf("train past its limit = %d %s, want 504", r.status, r.body)
		}
	})
	t.Run("close", func(t *testing.T) {
		gate := newGate()
		a, err := api.New(api.Config{}, api.Deps{Publisher: gate})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(a.Handler())
		defer srv.Close()
		c := &client{t: t, base: srv.URL}
		c.must(http.StatusCreated, "PUT", "/models/sensors", sensorOptions(), nil)
		c.upload("sensors", sensorRows(13, 300), 300)
		done := make(chan response)
		go func() { done <- c.do("PUT", "/models/sensors/train", nil) }()
		<-gate.entered
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		r := <-done
		if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "shutting down") {
			t.Fatalf("training during Close = %d %s, want 503", r.status, r.body)
		}
		if r := c.do("GET", "/models", nil); r.status != http.StatusServiceUnavailable {
			t.Errorf("request after Close = %d, want 503", r.status)
		}
	})
}
