package api_test

import (
	"net/http"
	"testing"

	"github.com/streamscore/streamscore/internal/api"
)

// TestModelLifecycle walks a model through creation, a repeated PUT, a
// replacement of its options, listing, dropping its rows and deletion, and
// checks the limits on models and the unauthenticated health check.
func TestModelLifecycle(t *testing.T) {
	c := newServer(t, api.Config{Token: "tok", MaxModels: 2}, api.Deps{})
	opts := `{"family": "gbdt", "features": ["temperature", "humidity"], "label": "anomaly", "params": {"num_trees": 5, "max_depth": 3}}`
	r := c.do("PUT", "/models/m", opts)
	if r.status != http.StatusCreated || r.header.Get("Location") != "/models/m" {
		t.Fatalf("create = %d %s, Location %q", r.status, r.body, r.header.Get("Location"))
	}
	// The same options, params spelt in another order: unchanged, 200.
	var info api.ModelInfo
	c.must(http.StatusOK, "PUT", "/models/m",
		`{"label": "anomaly", "family": "gbdt", "features": ["temperature", "humidity"], "params": {"max_depth": 3, "num_trees": 5}}`, &info)
	if info.Options.Label != "anomaly" || info.Rows != 0 || info.Version != 0 {
		t.Fatalf("after a repeated PUT: %+v", info)
	}
	// Other options while it holds no rows: replaced.
	c.must(http.StatusOK, "PUT", "/models/m", `{"family": "linear", "features": ["temperature"], "label": "anomaly"}`, &info)
	if info.Options.Family != "linear" || len(info.Options.Features) != 1 {
		t.Fatalf("options not replaced: %+v", info.Options)
	}
	c.must(http.StatusOK, "PUT", "/models/m/data/train", `[{"temperature": 20, "anomaly": 0}, {"temperature": null, "anomaly": 1}]`, nil)
	if r := c.do("PUT", "/models/m", opts); r.status != http.StatusConflict {
		t.Fatalf("options changed under rows = %d", r.status)
	}
	var dropped api.RowsResult
	c.must(http.StatusOK, "DELETE", "/models/m/data/train", nil, &dropped)
	c.must(http.StatusOK, "PUT", "/models/m", opts, &info)
	if info.Options.Family != "gbdt" || info.Rows != 0 {
		t.Fatalf("after dropping the rows, options not replaced: %+v", info)
	}

	c.must(http.StatusCreated, "PUT", "/models/n", opts, nil)
	if r := c.do("PUT", "/models/o", opts); r.status != http.StatusConflict {
		t.Fatalf("third model with a limit of 2 = %d %s", r.status, r.body)
	}
	var list api.ModelList
	c.must(http.StatusOK, "GET", "/models", nil, &list)
	if len(list.Models) != 2 || list.Models[0].Name != "m" || list.Models[1].Name != "n" {
		t.Fatalf("list %+v, want m and n", list)
	}

	c.must(http.StatusNoContent, "DELETE", "/models/m", nil, nil)
	if r := c.do("GET", "/models/m", nil); r.status != http.StatusNotFound {
		t.Fatalf("deleted model = %d", r.status)
	}
	c.must(http.StatusCreated, "PUT", "/models/o", opts, nil)

	health := c.send("GET", "/healthz", nil, map[string]string{"Authorization": ""})
	if health.status != http.StatusOK {
		t.Errorf("/healthz without a token = %d", health.status)
	}
	if got := counter(t, c, "streamscore_api_requests_total", "route", "PUT /models/{name}"); got == 0 {
		t.Error("requests to PUT /models/{name} are not counted by route")
	}
}
