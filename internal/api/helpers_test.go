package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/testkit"
	"github.com/streamscore/streamscore/internal/testkit/ortkit"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamscore/streamscore/internal/api"
	"github.com/streamscore/streamscore/internal/sample"
)

func TestMain(m *testing.M) { os.Exit(ortkit.Main(m)) }

// client talks to one API over real HTTP.
type client struct {
	t     testing.TB
	base  string
	token string
	reg   *prometheus.Registry
}

// newServer serves a fresh API on a local port; it is closed with the test.
func newServer(t testing.TB, cfg api.Config, deps api.Deps) *client {
	t.Helper()
	reg := prometheus.NewRegistry()
	deps.Registerer = reg
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a, err := api.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := a.Close(); err != nil {
			t.Error(err)
		}
	})
	return &client{t: t, base: srv.URL, token: cfg.Token, reg: reg}
}

// response is an answer, its body kept raw.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errorBody is the API's error JSON.
type errorBody struct {
	Error  string `json:"error"`
	Field  string `json:"field"`
	TaskID string `json:"task_id"`
}

func (r response) err(t testing.TB) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	return e
}

// do sends body (bytes as they are, anything else as JSON) with the
// client's token and a JSON content type.
func (c *client) do(method, path string, body any) response {
	c.t.Helper()
	return c.send(method, path, body, map[string]string{"Content-Type": "application/json"})
}

// send is do with explicit headers; an empty value removes a header.
func (c *client) send(method, path string, body any, headers map[string]string) response {
	c.t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		reader = bytes.NewReader(b)
	case string:
		reader = bytes.NewReader([]byte(b))
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		reader = bytes.NewReader(data)
	}
	if headers["Transfer-Encoding"] == "chunked" && reader != nil {
		// A reader whose length the client cannot see is sent chunked,
		// without a Content-Length.
		reader = io.MultiReader(reader)
		delete(headers, "Transfer-Encoding")
	}
	req, err := http.NewRequest(method, c.base+path, reader)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read: %v", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: data}
}

// must sends a request that has to answer want, and decodes its body.
func (c *client) must(want int, method, path string, body any, out any) {
	c.t.Helper()
	r := c.do(method, path, body)
	if r.status != want {
		c.t.Fatalf("%s %s = %d %s, want %d", method, path, r.status, r.body, want)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			c.t.Fatalf("%s %s: decode %q: %v", method, path, r.body, err)
		}
	}
}

// waitTask long-polls a task until it has finished: synchronisation on the
// state the API reports, with a deadline so a hung training fails the test.
func (c *client) waitTask(id string) api.TaskInfo {
	c.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var info api.TaskInfo
		c.must(http.StatusOK, "GET", "/tasks/"+id+"?wait=30s", nil, &info)
		if info.State == api.StateSucceeded || info.State == api.StateFailed {
			return info
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("task %s still %s after 3 minutes", id, info.State)
		}
	}
}

// sensorOptions are gbdt options on the sample sensor features, small
// enough to train quickly under the race detector.
func sensorOptions() map[string]any {
	return map[string]any{
		"family":   "gbdt",
		"features": sample.SensorFeatures,
		"defaults": map[string]float64{"battery_volts": 3.3},
		"label":    "anomaly",
		"params":   map[string]any{"num_trees": 20, "max_depth": 4, "seed": 7},
	}
}

// sensorRows are sample readings as pandas would send them
// (to_json(orient="records")): timestamps as epoch milliseconds, nullable
// fields as a value or null, and the anomaly flag as the label.
func sensorRows(seed uint64, n int) []map[string]any {
	rows := testkit.SensorRows(seed, n)
	for i, rec := range rows {
		row := make(map[string]any, len(rec))
		for k, v := range rec {
			switch x := v.(type) {
			case time.Time:
				row[k] = x.UnixMilli()
			case map[string]any:
				row[k] = x["double"]
			default:
				row[k] = x
			}
		}
		rows[i] = row
	}
	return rows
}

// textRows are sample messages as pandas would send them, labelled by a
// boolean "spam" field.
func textRows(seed uint64, n int) []map[string]any {
	gen := sample.NewTexts(seed, 0.3)
	rows := make([]map[string]any, n)
	for i := range rows {
		rec, spam := gen.Next()
		language := rec["language"]
		if m, ok := language.(map[string]any); ok {
			language = m["string"]
		}
		rows[i] = map[string]any{
			"id": rec["id"], "ts": rec["ts"].(time.Time).UnixMilli(),
			"text": rec["text"], "language": language, "spam": spam,
		}
	}
	return rows
}

// jsonRows is rows as they arrive at the API: encoded, then decoded as any
// JSON reader would, numbers as float64.
func jsonRows(t testing.TB, rows []map[string]any) []map[string]any {
	t.Helper()
	data, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// upload sends rows in slices of size n.
func (c *client) upload(name string, rows []map[string]any, n int) {
	c.t.Helper()
	for start := 0; start < len(rows); start += n {
		var res api.RowsResult
		c.must(http.StatusOK, "PUT", "/models/"+name+"/data/train", rows[start:min(start+n, len(rows))], &res)
		if res.Rows != min(start+n, len(rows)) {
			c.t.Fatalf("after a slice ending at row %d the model holds %d rows", start+n, res.Rows)
		}
	}
}

// counter reads one series of a counter from the server's registry.
func counter(t testing.TB, c *client, name, label, value string) float64 {
	t.Helper()
	families, err := c.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// gauge reads a gauge from the server's registry.
func gauge(t testing.TB, c *client, name string) float64 {
	t.Helper()
	families, err := c.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no gauge %s", name)
	return 0
}
