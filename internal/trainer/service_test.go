package trainer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/testkit"
	"github.com/streamscore/streamscore/internal/testkit/ortkit"
	"github.com/streamscore/streamscore/internal/testkit/stackkit"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/trainer"
)

func TestMain(m *testing.M) { os.Exit(ortkit.Main(m)) }

// TestTrainerServesJobsAndTheAPI runs the trainer service on the embedded
// stack: a job trains from a topic on demand over HTTP, and a model built
// over the REST API is published to the same catalog.
func TestTrainerServesJobsAndTheAPI(t *testing.T) {
	stack := stackkit.Start(t, embedded.Config{Partitions: 2})
	produceHistory(t, stack, "sensors.history", 2000)
	svc, call := startService(t, stack, "s3cret", "sensors",
		`{"family": "gbdt", "features": ["temperature", "humidity", "vibration", "rssi", "sound"], "label": "anomaly", "params": {"num_trees": 20}}`)
	base := "http://" + svc.Addr()

	// A job, triggered over HTTP, trains from the topic.
	if code, body := call("POST", "/jobs/sensors/train", ""); code != http.StatusAccepted {
		t.Fatalf("trigger: %d %s", code, body)
	}
	// The champion moves after the version is published: wait for it.
	testkit.WaitFor(t, "the job's first version to be the champion", func() bool {
		_, err := svc.Catalog().Resolve("sensors", "champion")
		return err == nil
	})
	if v, err := svc.Catalog().Resolve("sensors", "champion"); err != nil || v.Version != 1 || v.Source.Topic != "sensors.history" {
		t.Fatalf("champion %+v, %v", v, err)
	}
	if code, body := call("POST", "/jobs/nope/train", ""); code != http.StatusNotFound || !strings.Contains(body, "nope") {
		t.Errorf("unknown job: %d %s", code, body)
	}

	// A model built over the REST API lands in the catalog as well.
	if code, body := call("PUT", "/models/api-model", `{"family": "gbdt", "features": ["temperature", "vibration"], "label": "anomaly", "params": {"num_trees": 10}}`); code >= 300 {
		t.Fatalf("create: %d %s", code, body)
	}
	rows := make([]map[string]any, 1000)
	gen := sample.NewSensors(5, 20, 0.1)
	for i := range rows {
		rec, anomaly := gen.Next()
		rows[i] = map[string]any{"temperature": rec["temperature"], "vibration": rec["vibration"], "anomaly": anomaly}
	}
	body, _ := json.Marshal(rows)
	if code, resp := call("PUT", "/models/api-model/data/train", string(body)); code >= 300 {
		t.Fatalf("rows: %d %s", code, resp)
	}
	code, resp := call("PUT", "/models/api-model/train", "")
	if code != http.StatusOK {
		t.Fatalf("train: %d %s", code, resp)
	}
	var trained struct {
		Version   int `json:"version"`
		TrainRows int `json:"train_rows"`
	}
	if err := json.Unmarshal([]byte(resp), &trained); err != nil || trained.Version != 1 {
		t.Fatalf("train answered %s", resp)
	}
	v, err := svc.Catalog().Resolve("api-model", "champion")
	if err != nil || v.Version != 1 {
		t.Fatalf("the API's model is not the champion in the catalog: %+v, %v", v, err)
	}
	testkit.AssertProfile(t, v, trained.TrainRows)

	// Metrics are served (open, like the scorer's, for Prometheus), and
	// without the token the API refuses a trigger.
	if code, body := call("GET", "/metrics", ""); code != http.StatusOK || !strings.Contains(body, `streamscore_trainings_total{model="sensors",result="promoted"} 1`) {
		t.Errorf("metrics: %d, no promoted training counted", code)
	}
	// The catalog's skipped records are exported, every reason from zero.
	if _, body := call("GET", "/metrics", ""); !strings.Contains(body, `streamscore_catalog_records_skipped_total{reason="version_out_of_range"} 0`) {
		t.Errorf("metrics: no streamscore_catalog_records_skipped_total")
	}
	resp2, err := http.Post(base+"/jobs/sensors/train", "application/json", bytes.NewReader(nil))
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusUnauthorized {
		t.Errorf("trigger without the token: %d, want 401", resp2.StatusCode)
	}
}

// startService runs the trainer service on stack, listening on a free
// port, with one job of the given options training from the topic
// sensors.history, until the test ends (when Run must return without an
// error). call makes an API request with token, if any, and a JSON body,
// and returns the status and body.
func startService(t *testing.T, stack *stackkit.Stack, token, job, options string) (*trainer.Service, func(method, path, body string) (int, string)) {
	t.Helper()
	cfg := trainer.DefaultConfig()
	cfg.Kafka.Brokers = stack.Brokers()
	cfg.Registry.URL = stack.RegistryURL()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.APIToken = token
	var opts fit.Options
	if err := json.Unmarshal([]byte(options), &opts); err != nil {
		t.Fatal(err)
	}
	cfg.Jobs = []jobs.Job{{Name: job, Source: catalog.Source{Topic: "sensors.history"}, Options: opts}}
	svc, err := trainer.New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, svc)
	base := "http://" + svc.Addr()
	call := func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	return svc, call
}

// produceHistory writes n labelled sensor readings to topic, as records
// of historySchema, for the trainer to learn from.
func produceHistory(t *testing.T, stack *stackkit.Stack, topic string, n int) {
	t.Helper()
	stack.Produce(t, topic, stack.Register(t, topic+"-value", historySchema(t)), testkit.SensorRows(1, n))
}

// TestTrainerChecksPathsBeforeReading runs the service with a job whose
// paths the topic's latest schema lacks: triggered, it fails naming each
// path and its Avro type, and the service's read counter for it stays at
// zero (no record was read). A REST model naming the topic's subject is
// checked against the same registry when it is created.
func TestTrainerChecksPathsBeforeReading(t *testing.T) {
	stack := stackkit.Start(t, embedded.Config{Partitions: 2})
	produceHistory(t, stack, "sensors.history", 500)
	_, call := startService(t, stack, "", "broken",
		`{"family": "gbdt", "features": ["temperature", "location.lat", "device_id", "humidity.mean"], "label": "anomaly"}`)

	if code, body := call("POST", "/jobs/broken/train", ""); code != http.StatusAccepted {
		t.Fatalf("trigger: %d %s", code, body)
	}
	var lastError string
	testkit.WaitFor(t, "the job to fail", func() bool {
		_, body := call("GET", "/jobs", "")
		var jobs struct {
			Jobs []jobs.JobStatus `json:"jobs"`
		}
		if err := json.Unmarshal([]byte(body), &jobs); err != nil || len(jobs.Jobs) != 1 {
			return false
		}
		lastError = jobs.Jobs[0].LastError
		return lastError != ""
	})
	for _, want := range []string{"sensors.history-value version 1: 2 paths do not fit",
		`location.lat: record SensorReading has no field "location"`, "humidity.mean: humidity is double"} {
		if !strings.Contains(lastError, want) {
			t.Errorf("the job failed with %q; want it to say %q", lastError, want)
		}
	}
	if strings.Contains(lastError, "device_id:") {
		t.Errorf("the job failed with %q: device_id, a string, is a category", lastError)
	}
	_, metrics := call("GET", "/metrics", "")
	if !strings.Contains(metrics, `streamscore_trainings_total{model="broken",result="failed"} 1`) {
		t.Errorf("metrics: the failed training is not counted")
	}
	if !strings.Contains(metrics, `streamscore_training_read_records_total{model="broken"} 0`) {
		t.Errorf("records were read for a job refused before reading:\n%s", grepLines(metrics, "read_records"))
	}

	code, body := call("PUT", "/models/checked", `{"family": "gbdt", "features": ["temperature", "location.lat"], "label": "anomaly", "subject": "sensors.history-value"}`)
	if code != http.StatusBadRequest || !strings.Contains(body, `location.lat: record SensorReading has no field \"location\"`) || !strings.Contains(body, `"field":"features"`) {
		t.Errorf("a REST model with a path its subject lacks: %d %s", code, body)
	}
}

// grepLines are the lines of text that hold s.
func grepLines(text, s string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// serve listens and runs svc until the test ends, when it must stop
// without an error.
func serve(t *testing.T, svc *trainer.Service) {
	t.Helper()
	if err := svc.Listen(); err != nil {
		svc.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}
