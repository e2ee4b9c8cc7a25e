package registry

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
)

// FuzzRegisterBody posts arbitrary bodies to the register endpoint. Whatever
// arrives, the registry must answer 200 with an id that then resolves to an
// equivalent schema and is stable, or a 4xx Confluent error body; never a
// 5xx, a panic or a non-JSON answer.
func FuzzRegisterBody(f *testing.F) {
	for _, seed := range []string{
		`{"schema":"\"string\""}`,
		`{"schema":` + quote(userV1) + `}`,
		`{"schema":` + quote(userV1Spaced) + `,"schemaType":"AVRO"}`,
		`{"schema":` + quote(userV2Default) + `,"schemaType":"avro"}`,
		`{"schema":"{\"type\":\"record\",","schemaType":"AVRO"}`,
		`{"schema":"syntax = \"proto3\";","schemaType":"PROTOBUF"}`,
		`{"schema":"\"int\"","references":[{"name":"a","subject":"b","version":1}]}`,
		`{"schema":"[\"null\",\"string\",\"null\"]"}`,
		`{"schema":"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"A\"]}"}`,
		`{"schema":"{\"type\":\"fixed\",\"name\":\"F\",\"size\":-1}"}`,
		`{"schema":"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"r\",\"type\":\"R\"}]}"}`,
		`{"schema":"{\"type\":{\"type\":{\"type\":\"int\"}}}"}`,
		`{"schema":""}`,
		`{"schema":5}`,
		`{}`,
		`[]`,
		`null`,
		``,
		`{"schema":"\"string\""} trailing`,
	} {
		f.Add(seed)
	}

	// NONE, so that no fuzzed schema is refused for following another.
	srv, _ := newServer(f, Config{DefaultCompatibility: None})

	f.Fuzz(func(t *testing.T, body string) {
		resp := call(t, srv, http.MethodPost, "/subjects/fuzz/versions", body)
		if resp.status != http.StatusOK {
			if resp.status < 400 || resp.status >= 500 {
				t.Fatalf("status %d for body %q: %s", resp.status, body, resp.body)
			}
			var e errorBody
			if err := json.Unmarshal(resp.body, &e); err != nil || e.ErrorCode == 0 || e.Message == "" {
				t.Fatalf("status %d with a body that is not a Confluent error: %q", resp.status, resp.body)
			}
			return
		}
		var got struct{ ID int }
		decode(t, resp, &got)
		if got.ID < 1 {
			t.Fatalf("id %d for body %q", got.ID, body)
		}

		var req schemaRequest
		if err := json.Unmarshal([]byte(body), &req); err != nil {
			t.Fatalf("registry accepted a body Go cannot decode: %q", body)
		}
		_, wantKey, err := parseAvro(req.Schema)
		if err != nil {
			t.Fatalf("registry accepted a schema that does not parse: %v", err)
		}
		byID := call(t, srv, http.MethodGet, "/schemas/ids/"+strconv.Itoa(got.ID), nil)
		var stored struct{ Schema string }
		decode(t, byID, &stored)
		if _, key, err := parseAvro(stored.Schema); err != nil || key != wantKey {
			t.Fatalf("id %d holds %q, not an equivalent of %q (err %v)", got.ID, stored.Schema, req.Schema, err)
		}

		again := call(t, srv, http.MethodPost, "/subjects/fuzz/versions", body)
		var second struct{ ID int }
		decode(t, again, &second)
		if second.ID != got.ID {
			t.Fatalf("registering again gave id %d, first %d", second.ID, got.ID)
		}
	})
}
