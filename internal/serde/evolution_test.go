package serde

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/riferrei/srclient"

	"github.com/streamscore/streamscore/internal/registry"
)

// evolution is a change from an input schema's version 1 to version 2 that
// a compatibility level allows: the fields each version adds to a record
// that otherwise holds only a double.
type evolution struct {
	name   string
	level  srclient.CompatibilityLevel
	v1, v2 string // extra fields, JSON
}

// evolutions covers the Avro promotions, added optional fields and removed
// fields, each under a level that allows it (a promotion is one way only,
// so it is BACKWARD one way and FORWARD the other, never FULL).
var evolutions = []evolution{
	{"int to long", srclient.Backward, `{"name":"x","type":"int"}`, `{"name":"x","type":"long"}`},
	{"int to float", srclient.Backward, `{"name":"x","type":"int"}`, `{"name":"x","type":"float"}`},
	{"int to double", srclient.Backward, `{"name":"x","type":"int"}`, `{"name":"x","type":"double"}`},
	{"long to float", srclient.Backward, `{"name":"x","type":"long"}`, `{"name":"x","type":"float"}`},
	{"long to double", srclient.Backward, `{"name":"x","type":"long"}`, `{"name":"x","type":"double"}`},
	{"float to double", srclient.Backward, `{"name":"x","type":"float"}`, `{"name":"x","type":"double"}`},
	{"string to bytes", srclient.Backward, `{"name":"x","type":"string"}`, `{"name":"x","type":"bytes"}`},
	{"bytes to string", srclient.Backward, `{"name":"x","type":"bytes"}`, `{"name":"x","type":"string"}`},
	{"optional field added", srclient.Backward, ``, `{"name":"x","type":["null","string"],"default":null}`},
	{"field removed", srclient.Backward, `{"name":"x","type":"string"}`, ``},
	{"long narrowed to int", srclient.Forward, `{"name":"x","type":"long"}`, `{"name":"x","type":"int"}`},
	{"double narrowed to float", srclient.Forward, `{"name":"x","type":"double"}`, `{"name":"x","type":"float"}`},
	{"bytes to string, forward", srclient.Forward, `{"name":"x","type":"bytes"}`, `{"name":"x","type":"string"}`},
	{"field added, forward", srclient.Forward, ``, `{"name":"x","type":"string"}`},
	{"field with default removed, forward", srclient.Forward, `{"name":"x","type":"string","default":"none"}`, ``},
	{"optional field added, full", srclient.Full, ``, `{"name":"x","type":["null","long"],"default":null}`},
	{"field with default removed, full", srclient.Full, `{"name":"x","type":"long","default":0}`, ``},
}

func evolvedSchema(extra string) string {
	fields := `{"name":"temperature","type":"double"}`
	if extra != "" {
		fields += "," + extra
	}
	return `{"type":"record","name":"Reading","namespace":"io.test","fields":[` + fields + `]}`
}

// TestOutputSchemasFollowInputVersions is finding 4 of issue 10 and its
// generalisation: an input subject's versions 1 and 2 differ as each
// compatibility level allows, and records of both are met in either order
// (a partition still on v1 while another is on v2). Every record gets an
// output schema, the output subject's versions follow the input's order,
// and its compatibility level is the input's. Before, the v1 record met
// after a v2 one was refused: its derived schema was registered after
// v2's.
func TestOutputSchemasFollowInputVersions(t *testing.T) {
	client := projectRegistry(t)

	for i, ev := range evolutions {
		for _, newerFirst := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/%s/newer first %v", ev.level, ev.name, newerFirst), func(t *testing.T) {
				inTopic := fmt.Sprintf("in%d-%v", i, newerFirst)
				outTopic := inTopic + ".scored"
				if _, err := client.ChangeSubjectCompatibilityLevel(inTopic+"-value", ev.level); err != nil {
					t.Fatal(err)
				}
				var ins [2]*Schema
				for v, extra := range []string{ev.v1, ev.v2} {
					rs, err := client.CreateSchema(inTopic+"-value", evolvedSchema(extra), srclient.Avro)
					if err != nil {
						t.Fatalf("register input v%d under %s: %v", v+1, ev.level, err)
					}
					if ins[v], err = newSchema(uint32(rs.ID()), rs.Schema()); err != nil {
						t.Fatal(err)
					}
				}
				enc, err := NewOutputEncoder(client, OutputEncoderConfig{})
				if err != nil {
					t.Fatal(err)
				}
				order := []*Schema{ins[0], ins[1]}
				if newerFirst {
					order = []*Schema{ins[1], ins[0]}
				}
				got := map[uint32]uint32{}
				for _, in := range order {
					id, err := outputID(t, enc, inTopic, outTopic, in)
					if err != nil {
						t.Fatalf("input schema %d: %v", in.ID, err)
					}
					got[in.ID] = id
				}
				for v, in := range ins {
					rs, err := client.GetSchemaByVersion(outTopic+"-value", v+1)
					if err != nil {
						t.Fatalf("output subject version %d: %v", v+1, err)
					}
					if uint32(rs.ID()) != got[in.ID] {
						t.Errorf("output version %d is schema %d; input v%d's output is %d", v+1, rs.ID(), v+1, got[in.ID])
					}
				}
				level, err := client.GetCompatibilityLevel(outTopic+"-value", true)
				if err != nil || *level != ev.level {
					t.Errorf("output subject compatibility %v (%v), want %s", level, err, ev.level)
				}
			})
		}
	}
}

// TestOutputSchemaOfAnotherSubject: a writer schema that is not a version
// of its topic's subject (a record-name naming strategy) still gets its
// output schema, registered on its own.
func TestOutputSchemaOfAnotherSubject(t *testing.T) {
	client := projectRegistry(t)
	rs, err := client.CreateSchema("io.test.Reading", evolvedSchema(""), srclient.Avro)
	if err != nil {
		t.Fatal(err)
	}
	in, err := newSchema(uint32(rs.ID()), rs.Schema())
	if err != nil {
		t.Fatal(err)
	}
	enc, err := NewOutputEncoder(client, OutputEncoderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	id, err := outputID(t, enc, "readings", "readings.scored", in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := client.GetLatestSchema("readings.scored-value")
	if err != nil || uint32(out.ID()) != id || !strings.Contains(out.Schema(), "ReadingScored") {
		t.Fatalf("output subject's latest = %v (%v), want id %d", out, err, id)
	}
}

// projectRegistry is the project's registry, which checks compatibility as
// Confluent's does, served over HTTP, and a client of it that caches
// nothing.
func projectRegistry(t *testing.T) *srclient.SchemaRegistryClient {
	t.Helper()
	reg, err := registry.New(registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	server := httptest.NewServer(reg.Handler())
	t.Cleanup(server.Close)
	client := srclient.NewSchemaRegistryClient(server.URL)
	client.CachingEnabled(false)
	return client
}

// TestOutputSubjectOfOldPrediction: an output subject whose versions a
// scorer registered before Prediction gained its margin field (the same
// output schemas without it) takes today's output schema of the newest
// input version under every level. An older input version gets today's
// too, unless the subject refuses it (its input cannot read the newer
// one's data, which the level checks against the subject's latest
// version); it then keeps its old output schema, and records of it are
// still written, without a margin, never dead-lettered. Each output
// written with what Output returns decodes under the registered schema.
func TestOutputSubjectOfOldPrediction(t *testing.T) {
	client := projectRegistry(t)
	noMargin := 0

	for i, ev := range evolutions {
		for _, newerFirst := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/%s/newer first %v", ev.level, ev.name, newerFirst), func(t *testing.T) {
				inTopic := fmt.Sprintf("old%d-%v", i, newerFirst)
				outTopic := inTopic + ".scored"
				var ins [2]*Schema
				for _, subject := range []string{inTopic + "-value", outTopic + "-value"} {
					if _, err := client.ChangeSubjectCompatibilityLevel(subject, ev.level); err != nil {
						t.Fatal(err)
					}
				}
				for v, extra := range []string{ev.v1, ev.v2} {
					rs, err := client.CreateSchema(inTopic+"-value", evolvedSchema(extra), srclient.Avro)
					if err != nil {
						t.Fatalf("register input v%d under %s: %v", v+1, ev.level, err)
					}
					if ins[v], err = newSchema(uint32(rs.ID()), rs.Schema()); err != nil {
						t.Fatal(err)
					}
					out, err := OutputSchema(rs.Schema())
					if err != nil {
						t.Fatal(err)
					}
					if _, err := client.CreateSchema(outTopic+"-value", withoutMargin(t, out), srclient.Avro); err != nil {
						t.Fatalf("register the old output of v%d: %v", v+1, err)
					}
				}
				enc, err := NewOutputEncoder(client, OutputEncoderConfig{})
				if err != nil {
					t.Fatal(err)
				}
				order := []*Schema{ins[0], ins[1]}
				if newerFirst {
					order = []*Schema{ins[1], ins[0]}
				}
				for _, in := range order {
					out, err := enc.Output(inTopic, outTopic, in)
					if err != nil {
						t.Fatalf("input schema %d: %v", in.ID, err)
					}
					today, err := OutputSchema(in.Text)
					if err != nil {
						t.Fatal(err)
					}
					want := today
					if out.NoMargin {
						noMargin++
						if in == ins[1] {
							t.Errorf("the newest input version's output has no margin")
						}
						if _, err := client.CreateSchema(outTopic+"-value", today, srclient.Avro); err == nil {
							t.Errorf("input schema %d: output without a margin, yet the subject takes today's", in.ID)
						}
						want = withoutMargin(t, today)
					}
					rs, err := client.GetSchema(int(out.ID))
					if err != nil {
						t.Fatal(err)
					}
					if rs.Schema() != compactJSON(t, want) {
						t.Errorf("input schema %d: output schema %d is\n%s\nwant\n%s", in.ID, out.ID, rs.Schema(), want)
					}
					checkOutputDecodes(t, in.Text, rs.Schema(), out)
				}
			})
		}
	}
	if noMargin == 0 {
		t.Errorf("no output needed the schema without a margin: the test no longer covers it")
	}
}

// withoutMargin returns an output schema with its Prediction as it was
// before the margin field: the last field of the prediction dropped.
func withoutMargin(t *testing.T, out string) string {
	t.Helper()
	var rec map[string]any
	mustUnmarshal(t, out, &rec)
	fields := rec["fields"].([]any)
	pred := fields[len(fields)-1].(map[string]any)["type"].(map[string]any)
	pf := pred["fields"].([]any)
	if pf[len(pf)-1].(map[string]any)["name"] != "margin" {
		t.Fatalf("Prediction's last field is not margin: %v", pf[len(pf)-1])
	}
	pred["fields"] = pf[:len(pf)-1]
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// compactJSON is s without insignificant white space, as the registry
// returns schemas.
func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// checkOutputDecodes writes an output of an input record of schema in
// with AppendOutput and out, and decodes it with goavro under outSchema:
// the prediction reads back, with its margin when the schema has one.
func checkOutputDecodes(t *testing.T, in, outSchema string, out Output) {
	t.Helper()
	var rec struct {
		Fields []struct {
			Name string `json:"name"`
			Type any    `json:"type"`
		} `json:"fields"`
	}
	mustUnmarshal(t, in, &rec)
	values := map[string]any{"int": int32(1), "long": int64(2), "float": float32(3), "double": 4.0, "string": "s", "bytes": []byte("b")}
	native := map[string]any{}
	for _, f := range rec.Fields {
		name, _ := f.Type.(string)
		native[f.Name] = values[name] // a union is null
	}
	body := encodeFrame(t, in, 1, native)[headerLen:]
	p := &Prediction{ModelName: "m", ModelVersion: "1", Label: ptr("b"), ScoredAt: time.UnixMilli(3),
		Scores: []ClassScore{{"a", 0.25}, {"b", 0.75}}, Margin: []ClassScore{{"b", 1.0986}}}
	codec, err := goavro.NewCodec(outSchema)
	if err != nil {
		t.Fatal(err)
	}
	_, value, err := ParseFrame(AppendOutput(nil, out, body, p))
	if err != nil {
		t.Fatal(err)
	}
	decoded, rest, err := codec.NativeFromBinary(value)
	if err != nil || len(rest) != 0 {
		t.Fatalf("output of %+v does not decode under its schema: %v (%d bytes left)", out, err, len(rest))
	}
	got := decoded.(map[string]any)[PredictionField].(map[string]any)
	if out.NoMargin {
		if _, ok := got["margin"]; ok {
			t.Errorf("output without a margin decoded one: %v", got["margin"])
		}
		p.Margin = nil
		got["margin"] = nil
	}
	checkPrediction(t, got, p)
}
