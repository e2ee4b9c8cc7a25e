package registry

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// python is the interpreter with Debian's confluent_kafka; a bare "python3"
// on PATH may be another one without it.
const python = "/usr/bin/python3"

// TestConfluentPythonClientRoundTrip runs testdata/confluent_roundtrip.py,
// which drives the registry with confluent_kafka's SchemaRegistryClient
// (register, get, latest, lookup, subjects, compatibility, deletes, errors)
// against a registry requiring basic auth, then checks from Go that what
// the script left behind is there.
func TestConfluentPythonClientRoundTrip(t *testing.T) {
	if out, err := exec.Command(python, "-c", "import confluent_kafka.schema_registry, requests").CombinedOutput(); err != nil {
		t.Fatalf("%s cannot import confluent_kafka and requests (%v: %s); run `make setup` (scripts/setup.sh) to install python3-confluent-kafka",
			python, err, out)
	}
	auth := BasicAuth{User: "streamscore", Password: "s3cret"}
	srv, _ := newServer(t, Config{BasicAuth: auth})

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "testdata/confluent_roundtrip.py", srv.URL, auth.User, auth.Password)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("confluent_roundtrip.py: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "roundtrip ok") {
		t.Fatalf("confluent_roundtrip.py did not finish:\n%s", out)
	}

	// The script's effects, seen through the Go side.
	resp := callAuth(t, srv, auth, "GET", "/subjects?deleted=true")
	if !jsonEqual(t, resp.body, `["py-readings-value","team/readings-value"]`) {
		t.Errorf("subjects after the script: %s", resp.body)
	}
	resp = callAuth(t, srv, auth, "GET", "/config")
	if !jsonEqual(t, resp.body, `{"compatibilityLevel":"NONE"}`) {
		t.Errorf("global config after the script: %s", resp.body)
	}
}
