package registry

import (
	"net/http"
	"strings"
	"testing"
)

// TestGuardRefusesUndecodableSchemas: a schema the scorer's avro guard
// refuses (no body could end it, or decoding it is unbounded) is refused
// at registration with 42201, naming the type, and nothing is stored;
// recursive schemas that a body can end are taken.
func TestGuardRefusesUndecodableSchemas(t *testing.T) {
	srv, _ := newServer(t, Config{})
	for _, tc := range []struct{ name, schema, want string }{
		{"contains itself on every path", `{"type":"record","name":"Loop","fields":[{"name":"next","type":"Loop"}]}`, "record Loop contains itself on every path"},
		{"decimal scale 10^9", `{"type":"record","name":"R","fields":[{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":2000000000,"scale":1000000000}}]}`, "scale 1000000000 is over 1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := call(t, srv, http.MethodPost, "/subjects/guarded-value/versions", map[string]string{"schema": tc.schema})
			if resp.status != http.StatusUnprocessableEntity || errorCode(t, resp) != codeInvalidSchema || !strings.Contains(string(resp.body), tc.want) {
				t.Fatalf("got %d %s, want 422 with 42201 saying %q", resp.status, resp.body, tc.want)
			}
		})
	}
	if resp := call(t, srv, http.MethodGet, "/subjects/guarded-value/versions", nil); resp.status != http.StatusNotFound {
		t.Fatalf("a refused schema was stored: %d %s", resp.status, resp.body)
	}
	register(t, srv, "list-value", `{"type":"record","name":"List","fields":[{"name":"next","type":["null","List"]}]}`)
}
