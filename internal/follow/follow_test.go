package follow

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/train"
)

// TestSmoke tries candidates on the batches smoke runs: synthetic rows
// before any traffic, the last batch scored after. A candidate that cannot
// map a record the serving model scored (here: a null battery_volts, for
// which it has no default) is refused.
func TestSmoke(t *testing.T) {
	cfg := train.DefaultConfig() // ONNX Runtime is started by TestMain
	cfg.MaxIter, cfg.MaxDepth = 5, 2
	onnxBytes, err := sample.SensorModel(context.Background(), sample.SensorSpec("s", "1"), cfg, 1000)
	if err != nil {
		t.Fatal(err)
	}
	noDefault := sample.SensorSpec("s", "2")
	for i := range noDefault.Inputs[0].Fields {
		noDefault.Inputs[0].Fields[i].Default = nil
	}
	load := func(spec *model.Spec) *model.Model {
		m, err := model.Load(onnxBytes, model.Options{Spec: spec, MaxBatch: 16})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m
	}
	gen := sample.NewSensors(4, 9, 0.1)
	var traffic, battery []map[string]any // every third device is mains powered: null volts
	for len(traffic) < 40 {
		rec, _ := gen.Next()
		traffic = append(traffic, rec)
		if rec["battery_volts"] != nil {
			battery = append(battery, rec)
		}
	}
	cases := []struct {
		name    string
		spec    *model.Spec
		records []map[string]any
		wantErr error
	}{
		{"synthetic rows", nil, nil, nil},
		{"traffic", nil, traffic, nil},
		{"synthetic rows without defaults", &noDefault, nil, nil},
		{"battery traffic without defaults", &noDefault, battery, nil},
		{"mains traffic without defaults", &noDefault, traffic, errSmoke},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := smoke(load(c.spec), c.records, 16)
			if !errors.Is(err, c.wantErr) || (err == nil) != (c.wantErr == nil) {
				t.Fatalf("smoke = %v, want %v", err, c.wantErr)
			}
		})
	}
}

// TestFailureReasons checks how a refused version is counted, and that only
// failures saying nothing about the version are tried again.
func TestFailureReasons(t *testing.T) {
	cases := []struct {
		err    error
		reason string
		retry  bool
	}{
		{fmt.Errorf("artifact: %w", catalog.ErrCorrupt), FailCorrupt, false},
		{fmt.Errorf("load: %w", model.ErrBadModel), FailBadModel, false},
		{fmt.Errorf("check: %w", model.ErrSchemaMismatch), FailSchema, false},
		{fmt.Errorf("%w: row 3", errSmoke), FailSmoke, false},
		{fmt.Errorf("artifact: %w", catalog.ErrNotFound), FailNotFound, false},
		{errors.New("dial tcp: connection refused"), FailUnavailable, true},
		{context.DeadlineExceeded, FailUnavailable, true},
	}
	for _, c := range cases {
		t.Run(c.reason, func(t *testing.T) {
			if reason, retry := failure(c.err); reason != c.reason || retry != c.retry {
				t.Fatalf("failure(%v) = %s, %v; want %s, %v", c.err, reason, retry, c.reason, c.retry)
			}
		})
	}
}
