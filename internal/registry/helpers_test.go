package registry

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Schemas shared by the tests: successive versions of one record.
const (
	// userV1 is the first version.
	userV1 = `{"type":"record","name":"User","namespace":"test","fields":[{"name":"id","type":"long"}]}`
	// userV1Spaced is userV1 with other whitespace, key order and a
	// namespace folded into the name: the same schema.
	userV1Spaced = "{ \"name\" : \"test.User\",\n  \"type\" : \"record\",\n  \"fields\" : [ { \"type\" : \"long\", \"name\" : \"id\" } ] }"
	// userV2Default adds a field with a default: BACKWARD and FORWARD
	// compatible with v1.
	userV2Default = `{"type":"record","name":"User","namespace":"test","fields":[{"name":"id","type":"long"},{"name":"email","type":"string","default":""}]}`
	// userV2NoDefault adds a field without a default: not BACKWARD
	// compatible with v1 (v1 data lacks it), but FORWARD compatible.
	userV2NoDefault = `{"type":"record","name":"User","namespace":"test","fields":[{"name":"id","type":"long"},{"name":"email","type":"string"}]}`
	// userNoID drops the v1 field that has no default: BACKWARD compatible
	// with v1, not FORWARD compatible (v1 readers need id).
	userNoID = `{"type":"record","name":"User","namespace":"test","fields":[]}`
)

// newServer starts a registry with cfg behind a real HTTP server.
func newServer(t testing.TB, cfg Config) (*httptest.Server, *Registry) {
	t.Helper()
	reg, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(reg.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := reg.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv, reg
}

// response is an HTTP answer read in full.
type response struct {
	status      int
	contentType string
	body        []byte
}

// call sends one request; body, when not nil, is JSON-encoded unless it is
// already a string.
func call(t testing.TB, srv *httptest.Server, method, path string, body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return response{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: data}
}

// register registers schema under subject and returns its id, failing the
// test on any error.
func register(t testing.TB, srv *httptest.Server, subject, schema string) int {
	t.Helper()
	resp := call(t, srv, http.MethodPost, "/subjects/"+subject+"/versions", map[string]string{"schema": schema})
	if resp.status != http.StatusOK {
		t.Fatalf("register %s: %d %s", subject, resp.status, resp.body)
	}
	var out struct{ ID int }
	decode(t, resp, &out)
	return out.ID
}

func decode(t testing.TB, resp response, dst any) {
	t.Helper()
	if err := json.Unmarshal(resp.body, dst); err != nil {
		t.Fatalf("decode %q: %v", resp.body, err)
	}
}

// errorCode returns the Confluent error_code of an error answer.
func errorCode(t testing.TB, resp response) int {
	t.Helper()
	var body errorBody
	decode(t, resp, &body)
	if body.Message == "" {
		t.Errorf("error answer %s has no message", resp.body)
	}
	return body.ErrorCode
}

// jsonEqual reports whether two JSON texts hold the same value.
func jsonEqual(t testing.TB, got []byte, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("decode got %q: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("decode want %q: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	return bytes.Equal(gb, wb)
}

// quote returns s as a JSON string literal.
func quote(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}
