package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/api"
)

// TestBadRequests sends requests the API must refuse, each on a fresh
// server, and checks the status, that the answer is the JSON error with the
// field at fault, that the message names that field, and that a refused
// slice of rows left nothing behind.
func TestBadRequests(t *testing.T) {
	const token = "s3cret-token"
	cfg := api.Config{Token: token, MaxBodyBytes: 4096, MaxRowsPerModel: 5}
	numeric := `{"family": "gbdt", "features": ["temperature", "humidity"], "label": "anomaly"}`
	text := `{"family": "text", "text": "text", "label": "spam"}`
	// setup creates "m", a gbdt model, and "t", a text model.
	setup := func(c *client) {
		c.must(http.StatusCreated, "PUT", "/models/m", numeric, nil)
		c.must(http.StatusCreated, "PUT", "/models/t", text, nil)
	}
	row := func(temperature any) string {
		return `{"temperature": ` + temperature.(string) + `, "humidity": 40, "anomaly": false}`
	}
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		headers map[string]string
		// before runs after setup, to put the model in a state.
		before     func(c *client)
		wantStatus int
		// wantField is the "field" of the answer, and must appear in its
		// message; wantMsg must appear in the message.
		wantField string
		wantMsg   string
		// wantRows, when set, is the rows model m must hold afterwards.
		wantRows *int
	}{
		{name: "options are not JSON", method: "PUT", path: "/models/x", body: `{"family": "gbdt",`,
			wantStatus: 400, wantMsg: "malformed JSON"},
		{name: "options body empty", method: "PUT", path: "/models/x", body: ``,
			wantStatus: 400, wantMsg: "empty"},
		{name: "options miss the label", method: "PUT", path: "/models/x", body: `{"family": "gbdt", "features": ["a"]}`,
			wantStatus: 400, wantField: "label", wantMsg: "is required"},
		{name: "options miss the family", method: "PUT", path: "/models/x", body: `{"features": ["a"], "label": "y"}`,
			wantStatus: 400, wantField: "family"},
		{name: "features of the wrong type", method: "PUT", path: "/models/x", body: `{"family": "gbdt", "features": "a", "label": "y"}`,
			wantStatus: 400, wantField: "features"},
		{name: "holdout of the wrong type", method: "PUT", path: "/models/x", body: `{"family": "gbdt", "features": ["a"], "label": "y", "holdout": "half"}`,
			wantStatus: 400, wantField: "holdout"},
		{name: "holdout 0, which if_better cannot promote", method: "PUT", path: "/models/x", body: `{"family": "gbdt", "features": ["a"], "label": "y", "holdout": 0}`,
			wantStatus: 400, wantField: "holdout", wantMsg: "trains on every row"},
		{name: "holdout_from, on rows without time", method: "PUT", path: "/models/x", body: `{"family": "gbdt", "features": ["a"], "label": "y", "holdout_from": "2026-01-01T00:00:00Z"}`,
			wantStatus: 400, wantField: "holdout_from", wantMsg: "carry none"},
		{name: "unknown family", method: "PUT", path: "/models/x", body: `{"family": "forest", "features": ["a"], "label": "y"}`,
			wantStatus: 400, wantField: "family", wantMsg: "forest"},
		{name: "unknown option", method: "PUT", path: "/models/x", body: `{"family": "gbdt", "features": ["a"], "label": "y", "lable": "y"}`,
			wantStatus: 400, wantField: "lable", wantMsg: "unknown field"},
		{name: "unknown param", method: "PUT", path: "/models/x", body: `{"family": "gbdt", "features": ["a"], "label": "y", "params": {"num_treez": 3}}`,
			wantStatus: 400, wantField: "params.num_treez", wantMsg: "unknown field"},
		{name: "param out of range", method: "PUT", path: "/models/x", body: `{"family": "gbdt", "features": ["a"], "label": "y", "params": {"max_depth": 1000}}`,
			wantStatus: 400, wantField: "params.max_depth", wantMsg: "1000 is not in [1, 64]"},
		{name: "param given as 0", method: "PUT", path: "/models/x", body: `{"family": "gbdt", "features": ["a"], "label": "y", "params": {"learning_rate": 0}}`,
			wantStatus: 400, wantField: "params.learning_rate", wantMsg: "0 is not in (0, 1]"},
		{name: "param of a custom type", method: "PUT", path: "/models/x", body: `{"family": "gbdt", "features": ["a"], "label": "y", "params": {"early_stopping": "yes"}}`,
			wantStatus: 400, wantField: "params.early_stopping", wantMsg: `"yes" is not one of`},
		{name: "param item out of range", method: "PUT", path: "/models/x", body: `{"family": "text", "text": "t", "label": "y", "params": {"ngram_range": [0, 1]}}`,
			wantStatus: 400, wantField: "params.ngram_range[0]", wantMsg: "0 is not in [1, 5]"},
		{name: "param of another estimator", method: "PUT", path: "/models/x", body: `{"family": "linear", "task": "regression", "features": ["a"], "label": "y", "params": {"C": 2}}`,
			wantStatus: 400, wantField: "params.C", wantMsg: "applies to a classifier"},
		{name: "invalid model name", method: "PUT", path: "/models/no%20spaces", body: numeric,
			wantStatus: 400, wantField: "name"},
		{name: "model name too long", method: "PUT", path: "/models/" + strings.Repeat("a", 129), body: numeric,
			wantStatus: 400, wantField: "name"},
		{name: "options of another content type", method: "PUT", path: "/models/x", body: numeric,
			headers: map[string]string{"Content-Type": "text/csv"}, wantStatus: 415, wantField: "Content-Type"},
		{name: "options changed under rows", method: "PUT", path: "/models/m", body: `{"family": "linear", "features": ["temperature"], "label": "anomaly"}`,
			before: func(c *client) {
				c.must(http.StatusOK, "PUT", "/models/m/data/train", "["+row("20")+"]", nil)
			},
			wantStatus: 409, wantMsg: "DELETE /models/m/data/train"},
		{name: "oversize body", method: "PUT", path: "/models/m/data/train", body: "[" + strings.Repeat(row("20")+",", 80) + row("20") + "]",
			wantStatus: 413, wantMsg: "4096-byte limit", wantRows: ptr(0)},
		{name: "oversize body without a length", method: "PUT", path: "/models/x", body: `{"family": "gbdt", "features": [` + strings.Repeat(`"a",`, 2000) + `"b"], "label": "y"}`,
			headers: map[string]string{"Transfer-Encoding": "chunked"}, wantStatus: 413, wantMsg: "limit"},
		{name: "no token", method: "GET", path: "/models", headers: map[string]string{"Authorization": ""},
			wantStatus: 401, wantField: "Authorization", wantMsg: "required"},
		{name: "wrong token", method: "GET", path: "/models", headers: map[string]string{"Authorization": "Bearer nope"},
			wantStatus: 401, wantField: "Authorization", wantMsg: "not valid"},
		{name: "token without the bearer scheme", method: "GET", path: "/models", headers: map[string]string{"Authorization": token},
			wantStatus: 401, wantField: "Authorization"},
		{name: "rows for an unknown model", method: "PUT", path: "/models/nope/data/train", body: "[" + row("20") + "]",
			wantStatus: 404, wantField: "name", wantMsg: `"nope"`},
		{name: "training an unknown model", method: "PUT", path: "/models/nope/train",
			wantStatus: 404, wantField: "name", wantMsg: `"nope"`},
		{name: "predicting with an unknown model", method: "POST", path: "/models/nope/predict", body: "[" + row("20") + "]",
			wantStatus: 404, wantField: "name"},
		{name: "getting an unknown model", method: "GET", path: "/models/nope",
			wantStatus: 404, wantField: "name"},
		{name: "deleting an unknown model", method: "DELETE", path: "/models/nope",
			wantStatus: 404, wantField: "name"},
		{name: "unknown task", method: "GET", path: "/tasks/NOSUCHTASK",
			wantStatus: 404, wantField: "id", wantMsg: "NOSUCHTASK"},
		{name: "unknown route", method: "GET", path: "/nowhere", wantStatus: 404, wantMsg: "/nowhere"},
		{name: "wrong method", method: "POST", path: "/models/m", body: numeric, wantStatus: 405, wantMsg: "GET, PUT, DELETE"},
		{name: "rows are not JSON", method: "PUT", path: "/models/m/data/train", body: `[` + row("20") + `, {"temperature": }]`,
			wantStatus: 400, wantField: "rows[1]", wantMsg: "malformed JSON", wantRows: ptr(0)},
		{name: "rows are an object", method: "PUT", path: "/models/m/data/train", body: row("20"),
			wantStatus: 400, wantField: "temperature", wantMsg: "unknown field", wantRows: ptr(0)},
		{name: "rows are a string", method: "PUT", path: "/models/m/data/train", body: `"rows"`,
			wantStatus: 400, wantMsg: "a string", wantRows: ptr(0)},
		{name: "a row is not an object", method: "PUT", path: "/models/m/data/train", body: `[` + row("20") + `, 7]`,
			wantStatus: 400, wantField: "rows[1]", wantMsg: "want an object", wantRows: ptr(0)},
		{name: "a feature is a string", method: "PUT", path: "/models/m/data/train", body: `[` + row("20") + `, ` + row(`"hot"`) + `]`,
			wantStatus: 400, wantField: "rows[1].temperature", wantMsg: "is a string, want a number", wantRows: ptr(0)},
		{name: "a feature is an object", method: "PUT", path: "/models/m/data/train", body: `[` + row(`{"double": 20}`) + `]`,
			wantStatus: 400, wantField: "rows[0].temperature", wantMsg: "is an object", wantRows: ptr(0)},
		{name: "a feature overflows float32", method: "PUT", path: "/models/m/data/train", body: `[` + row(`1e300`) + `]`,
			wantStatus: 400, wantField: "rows[0].temperature", wantMsg: "float32", wantRows: ptr(0)},
		{name: "a row without its label", method: "PUT", path: "/models/m/data/train", body: `[` + row("20") + `, {"temperature": 20, "humidity": 40}]`,
			wantStatus: 400, wantField: "rows[1].anomaly", wantMsg: "is required", wantRows: ptr(0)},
		{name: "a null label", method: "PUT", path: "/models/m/data/train", body: `[{"temperature": 20, "humidity": 40, "anomaly": null}]`,
			wantStatus: 400, wantField: "rows[0].anomaly", wantMsg: "null", wantRows: ptr(0)},
		{name: "a fractional class label", method: "PUT", path: "/models/m/data/train", body: `[{"temperature": 20, "humidity": 40, "anomaly": 0.5}]`,
			wantStatus: 400, wantField: "rows[0].anomaly", wantMsg: "whole number", wantRows: ptr(0)},
		{name: "a text that is a number", method: "PUT", path: "/models/t/data/train", body: `[{"text": 12, "spam": true}]`,
			wantStatus: 400, wantField: "rows[0].text", wantMsg: "is a number, want a string"},
		{name: "a text with a NUL byte", method: "PUT", path: "/models/t/data/train", body: `[{"text": "a\u0000b", "spam": true}]`,
			wantStatus: 400, wantField: "rows[0].text", wantMsg: "NUL"},
		{name: "an empty slice", method: "PUT", path: "/models/m/data/train", body: `[]`,
			wantStatus: 400, wantField: "rows", wantMsg: "empty"},
		{name: "a slice over the row limit", method: "PUT", path: "/models/m/data/train", body: "[" + strings.Repeat(row("20")+",", 5) + row("20") + "]",
			wantStatus: 413, wantField: "rows", wantMsg: "5 rows", wantRows: ptr(0)},
		{name: "a slice past the row limit", method: "PUT", path: "/models/m/data/train", body: "[" + row("20") + "," + row("21") + "," + row("22") + "]",
			before: func(c *client) {
				c.must(http.StatusOK, "PUT", "/models/m/data/train", "["+row("20")+","+row("21")+","+row("22")+"]", nil)
			},
			wantStatus: 409, wantField: "rows", wantMsg: "limit of 5", wantRows: ptr(3)},
		{name: "rows of another content type", method: "PUT", path: "/models/m/data/train", body: "[" + row("20") + "]",
			headers: map[string]string{"Content-Type": "text/plain"}, wantStatus: 415, wantField: "Content-Type", wantRows: ptr(0)},
		{name: "training without rows", method: "PUT", path: "/models/m/train",
			wantStatus: 422, wantMsg: "not enough training data"},
		{name: "training with a bad async flag", method: "PUT", path: "/models/m/train?async=maybe",
			wantStatus: 400, wantField: "async"},
		{name: "predicting before training", method: "POST", path: "/models/m/predict", body: "[" + row("20") + "]",
			wantStatus: 409, wantMsg: "not trained"},
		{name: "predicting from bad JSON", method: "POST", path: "/models/m/predict", body: `{"records": [`,
			wantStatus: 400, wantField: "records"},
		{name: "predicting from another key", method: "POST", path: "/models/m/predict", body: `{"rows": []}`,
			wantStatus: 400, wantField: "rows", wantMsg: "unknown field"},
		{name: "predicting nothing", method: "POST", path: "/models/m/predict", body: `{"records": []}`,
			wantStatus: 400, wantField: "records"},
		{name: "downloading an untrained model", method: "GET", path: "/models/m/onnx",
			wantStatus: 409, wantMsg: "not trained"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newServer(t, cfg, api.Deps{})
			setup(c)
			if tt.before != nil {
				tt.before(c)
			}
			headers := map[string]string{"Content-Type": "application/json"}
			for k, v := range tt.headers {
				headers[k] = v
			}
			res := c.send(tt.method, tt.path, tt.body, headers)
			if res.status != tt.wantStatus {
				t.Fatalf("status %d %s, want %d", res.status, res.body, tt.wantStatus)
			}
			if ct := res.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			e := res.err(t)
			if e.Error == "" {
				t.Errorf("no error message in %s", res.body)
			}
			if e.Field != tt.wantField {
				t.Errorf("field %q, want %q (error %q)", e.Field, tt.wantField, e.Error)
			}
			if !strings.Contains(e.Error, tt.wantField) {
				t.Errorf("error %q does not name the field %q", e.Error, tt.wantField)
			}
			if !strings.Contains(e.Error, tt.wantMsg) {
				t.Errorf("error %q does not say %q", e.Error, tt.wantMsg)
			}
			if tt.wantStatus == http.StatusUnauthorized && !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q, want a Bearer challenge", res.header.Get("WWW-Authenticate"))
			}
			if tt.wantStatus == http.StatusMethodNotAllowed && res.header.Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
			if tt.wantRows != nil {
				var info api.ModelInfo
				c.must(http.StatusOK, "GET", "/models/m", nil, &info)
				if info.Rows != *tt.wantRows {
					t.Errorf("model m holds %d rows after the refused request, want %d", info.Rows, *tt.wantRows)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestConfigValidate checks each bad setting is refused by name.
func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name        string
		cfg         api.Config
		errContains string
	}{
		{name: "zero is all defaults", cfg: api.Config{}},
		{name: "negative body limit", cfg: api.Config{MaxBodyBytes: -1}, errContains: "max body bytes"},
		{name: "negative row limit", cfg: api.Config{MaxRowsPerModel: -1}, errContains: "max rows per model"},
		{name: "negative model limit", cfg: api.Config{MaxModels: -1}, errContains: "max models"},
		{name: "negative task limit", cfg: api.Config{MaxTasks: -1}, errContains: "max tasks"},
		{name: "negative timeout", cfg: api.Config{TrainTimeout: -1}, errContains: "train timeout"},
		{name: "token with a space", cfg: api.Config{Token: "a b"}, errContains: "token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.errContains == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("Validate() = %v, want an error naming %q", err, tt.errContains)
			}
			if _, err := api.New(tt.cfg, api.Deps{}); err == nil {
				t.Fatal("New accepted the config Validate refuses")
			}
		})
	}
}
