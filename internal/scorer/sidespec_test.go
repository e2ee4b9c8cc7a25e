package scorer_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/train"
)

// TestModelWithSideSpecIsVersionedByHash serves a model that carries no
// spec metadata, as one exported elsewhere would, with its feature mapping
// from -model-spec and no version anywhere: outputs must name a version
// derived from the model file's hash.
func TestModelWithSideSpecIsVersionedByHash(t *testing.T) {
	const topic = "sidespec"
	e := newEnv(t, topic)
	id, codec := e.register(topic+"-value", sensorSchema)

	spec := sample.SensorSpec("imported", "")
	data, err := sample.SensorData(spec, 3, 2000)
	if err != nil {
		t.Fatal(err)
	}
	cfg := train.DefaultConfig()
	cfg.MaxIter, cfg.MaxDepth = 5, 3
	ens, err := train.Fit(context.Background(), cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ens.ONNX(nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	modelPath, specPath := filepath.Join(dir, "imported.onnx"), filepath.Join(dir, "imported.json")
	if err := m.WriteFile(modelPath); err != nil {
		t.Fatal(err)
	}
	specJSON, err := spec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(specPath, []byte(specJSON), 0o644); err != nil {
		t.Fatal(err)
	}

	rec, _ := sample.NewSensors(5, 1, 0).Next()
	e.produce(&kgo.Record{Topic: topic, Value: frame(t, id, codec, rec)})
	sc := e.config(topic)
	sc.Model.Path, sc.Model.SpecPath = modelPath, specPath
	_, stop := e.start(sc)
	out := e.consumeUntil(1, topic+".scored")[0]
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	pred := decodeFramed(t, e, out.Value)["prediction"].(map[string]any)
	if pred["model_name"] != "imported" || !strings.HasPrefix(pred["model_version"].(string), "sha256-") {
		t.Fatalf("prediction names %v version %v; want imported, sha256-...", pred["model_name"], pred["model_version"])
	}
}
