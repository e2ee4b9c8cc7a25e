package fit_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/drift"
	"github.com/streamscore/streamscore/internal/fit"
)

// TestProfileDescribesTheTrainingRows: a version's drift reference counts
// exactly its training rows (the oldest, once a table read out of order
// is sorted), has one feature per spec column in order, a numeric
// feature's null rate exact where its default stood in for nulls, its
// extremes those of the training values, a categorical feature's shares
// per code, and the prediction's bins.
func TestProfileDescribesTheTrainingRows(t *testing.T) {
	opts, err := fit.ParseOptions([]byte(`{"family": "gbdt", "features": ["temperature", "battery_volts", "device_id"], "defaults": {"battery_volts": 3.3}, "categorical": {"device_id": {}}, "label": "anomaly", "params": {"num_trees": 5}}`))
	if err != nil {
		t.Fatal(err)
	}
	rows := sensorRows(11, 3000)
	// Read out of time order, so that sorting moves every row, null
	// bits included.
	times := rand.New(rand.NewPCG(1, 2)).Perm(len(rows))
	table, err := fit.NewTable(opts, fit.TableConfig{}, len(rows))
	if err != nil {
		t.Fatal(err)
	}
	for i, rec := range rows {
		if err := table.Add(rec, int64(times[i]), 0, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	table.Finish()
	res, err := fit.FitTable(context.Background(), "sensor", opts, table, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := res.Profile
	if p == nil || p.Rows != int64(res.TrainRows) {
		t.Fatalf("profile %+v of %d training rows", p, res.TrainRows)
	}
	if err := p.Check(res.Spec); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range p.Features {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, []string{"temperature", "battery_volts", "device_id"}) {
		t.Fatalf("features %v", names)
	}

	training := make([]map[string]any, len(rows))
	for i, rec := range rows {
		training[times[i]] = rec // the rows in time order
	}
	training = training[:res.TrainRows]
	battery, temperature := avropath.MustParse("battery_volts"), avropath.MustParse("temperature")
	nulls, lo, hi := 0, math.Inf(1), math.Inf(-1)
	for _, rec := range training {
		if _, present, _ := battery.Read(rec); !present {
			nulls++
		}
		v, _, _ := temperature.Read(rec)
		x := float64(float32(v.(float64)))
		lo, hi = min(lo, x), max(hi, x)
	}
	wantNull := math.Round(float64(nulls)/float64(len(training))*1e6) / 1e6
	if nulls == 0 || p.Features[1].NullRate != wantNull || p.Features[0].NullRate != 0 {
		t.Fatalf("null rates %v and %v, want %v (%d nulls) and 0", p.Features[1].NullRate, p.Features[0].NullRate, wantNull, nulls)
	}
	if p.Features[0].Min != lo || p.Features[0].Max != hi || len(p.Features[0].Edges) != 19 {
		t.Fatalf("temperature min %v max %v edges %v; want %v %v and 19 edges", p.Features[0].Min, p.Features[0].Max, p.Features[0].Edges, lo, hi)
	}
	device := p.Features[2]
	if device.Kind != drift.KindCategorical || len(device.Shares) != len(res.Spec.Inputs[0].Fields[2].Categories)+2 {
		t.Fatalf("device_id %+v", device)
	}
	if pr := p.Prediction; len(pr.Shares) != len(pr.Edges)+1 || len(pr.Edges) == 0 || math.Abs(pr.ClassShares["false"]+pr.ClassShares["true"]-1) > 1e-5 {
		t.Fatalf("prediction %+v", pr)
	}
}

// TestProfileOfATextModel: a text model's reference holds its vocabulary,
// which every word of its training texts is in (none is pruned without
// min_df or max_features), and the texts' lengths.
func TestProfileOfATextModel(t *testing.T) {
	opts, err := fit.ParseOptions([]byte(`{"family": "text", "text": "text", "label": "label"}`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := fit.Fit(context.Background(), "spam", opts, textRows(5, 600), nil)
	if err != nil {
		t.Fatal(err)
	}
	f := res.Profile.Features[0]
	if res.Profile.Rows != int64(res.TrainRows) || f.Kind != drift.KindText || f.Vocabulary == "" || f.OOVRate == nil || *f.OOVRate != 0 || f.Max <= f.Min {
		t.Fatalf("rows %d of %d, feature %+v", res.Profile.Rows, res.TrainRows, f)
	}
	if err := res.Profile.Check(res.Spec); err != nil {
		t.Fatal(err)
	}
}
