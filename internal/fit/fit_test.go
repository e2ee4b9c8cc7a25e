package fit_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/model"
)

func TestFitFamilies(t *testing.T) {
	multiclass := sensorRows(3, 3000)
	for _, r := range multiclass {
		// Three classes from the temperature: cold, normal, hot.
		switch temp := r["temperature"].(float64); {
		case temp < 20:
			r["band"] = "cold"
		case temp < 23:
			r["band"] = "normal"
		default:
			r["band"] = "hot"
		}
	}
	tests := []struct {
		name    string
		options string
		rows    []map[string]any
		labels  []string
		metric  string
		atLeast float64 // the metric on the holdout
		atMost  float64 // for error metrics
		params  string  // if set, a part of the effective parameters
	}{
		{
			name:    "gbdt binary",
			options: `{"family": "gbdt", "features": ["temperature", "humidity", "vibration", "rssi", "battery_volts", "sound"], "defaults": {"battery_volts": 3.3}, "label": "anomaly", "params": {"num_trees": 30, "max_depth": 4}}`,
			rows:    sensorRows(1, 4000), labels: []string{"false", "true"}, metric: fit.MetricAUC, atLeast: 0.9,
		},
		{
			name:    "gbdt multiclass",
			options: `{"family": "gbdt", "features": ["temperature", "humidity"], "label": "band", "params": {"num_trees": 20, "max_depth": 3}}`,
			rows:    multiclass, labels: []string{"cold", "hot", "normal"}, metric: fit.MetricAccuracy, atLeast: 0.95,
		},
		{
			name:    "gbdt regression",
			options: `{"family": "gbdt", "task": "regression", "features": ["humidity", "vibration", "sound"], "label": "temperature", "params": {"num_trees": 30}}`,
			rows:    sensorRows(2, 3000), metric: fit.MetricRMSE, atMost: 5,
		},
		{
			name:    "linear binary",
			options: `{"family": "linear", "features": ["temperature", "humidity", "vibration", "rssi", "sound"], "label": "anomaly"}`,
			rows:    sensorRows(1, 4000), labels: []string{"false", "true"}, metric: fit.MetricAUC, atLeast: 0.8,
		},
		{
			name:    "linear multiclass",
			options: `{"family": "linear", "features": ["temperature", "humidity"], "label": "band"}`,
			rows:    multiclass, labels: []string{"cold", "hot", "normal"}, metric: fit.MetricAccuracy, atLeast: 0.6,
		},
		{
			name:    "linear regression",
			options: `{"family": "linear", "task": "regression", "features": ["humidity", "vibration", "sound"], "label": "temperature", "params": {"alpha": 0.5}}`,
			rows:    sensorRows(2, 3000), metric: fit.MetricRMSE, atMost: 5,
		},
		{
			name:    "text",
			options: `{"family": "text", "text": "text", "label": "label"}`,
			rows:    textRows(1, 3000), labels: []string{"ham", "spam"}, metric: fit.MetricAUC, atLeast: 0.95,
		},
		{
			name:    "text with char n-grams",
			options: `{"family": "text", "text": "text", "label": "label", "params": {"analyzer": "word+char", "char_min_ngram": 3, "char_max_ngram": 5}}`,
			rows:    textRows(1, 3000), labels: []string{"ham", "spam"}, metric: fit.MetricAUC, atLeast: 0.95,
			params: `"analyzer":"word+char","char_min_ngram":3,"char_max_ngram":5`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := fit.ParseOptions([]byte(tt.options))
			if err != nil {
				t.Fatal(err)
			}
			var steps, total int
			res, err := fit.Fit(context.Background(), "m", opts, tt.rows, func(done, n int) { steps, total = done, n })
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Spec.Labels, tt.labels) {
				t.Errorf("labels %q, want %q", res.Spec.Labels, tt.labels)
			}
			if steps == 0 || steps > total {
				t.Errorf("progress reported %d of %d steps", steps, total)
			}
			wantHoldout := len(tt.rows) / 5
			if res.Evaluation.Rows != wantHoldout || res.TrainRows != len(tt.rows)-wantHoldout {
				t.Errorf("trained on %d and evaluated %d rows, want %d and %d", res.TrainRows, res.Evaluation.Rows, len(tt.rows)-wantHoldout, wantHoldout)
			}
			if tt.params != "" && !strings.Contains(string(res.Params), tt.params) {
				t.Errorf("effective params %s, want them to include %s", res.Params, tt.params)
			}
			if res.Divergence > fit.ParityTolerance {
				t.Errorf("ONNX Runtime differs from Go by %g", res.Divergence)
			}
			got, ok := res.Evaluation.Metrics[tt.metric]
			if !ok {
				t.Fatalf("no %s in %v", tt.metric, res.Evaluation.Metrics)
			}
			if (tt.atLeast != 0 && got < tt.atLeast) || (tt.atMost != 0 && got > tt.atMost) {
				t.Errorf("%s = %.4f, want >= %v / <= %v", tt.metric, got, tt.atLeast, tt.atMost)
			}
			// The artifact is what the scorer loads: it must serve with the
			// spec it carries, and score the holdout as the evaluation did.
			m, err := model.Load(res.ONNX, model.Options{DefaultVersion: "1"})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			ev, err := fit.Evaluate(m, tt.rows[len(tt.rows)-wantHoldout:], opts.Label)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Metrics[tt.metric] != got {
				t.Errorf("reloaded model scores %s %v, the training's evaluation %v", tt.metric, ev.Metrics[tt.metric], got)
			}
		})
	}
}

func TestFitSkipsUnreadableRowsAndCountsThem(t *testing.T) {
	rows := sensorRows(4, 2000)
	delete(rows[0], "anomaly")     // no label
	rows[1]["anomaly"] = 2.5       // not a class
	rows[2]["temperature"] = nil   // null feature, no default
	rows[3]["humidity"] = "wet"    // wrong type
	rows[4]["battery_volts"] = nil // null, but it has a default: kept
	res, err := fit.Fit(context.Background(), "m", gbdtOptions(t, `{"num_trees": 5}`), rows, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"bad_label": 2, "missing_feature": 1, "wrong_type": 1}
	if !mapsEqual(res.Skipped, want) {
		t.Errorf("skipped %v, want %v", res.Skipped, want)
	}
	if res.TrainRows != 1600-4 {
		t.Errorf("trained on %d rows, want %d", res.TrainRows, 1600-4)
	}
}

func TestFitRefusesWhatCannotBeTrained(t *testing.T) {
	oneClass := sensorRows(5, 100)
	for _, r := range oneClass {
		r["anomaly"] = false
	}
	threeClasses := textRows(1, 100)
	threeClasses[0]["label"] = "phishing"
	tests := []struct {
		name    string
		options fit.Options
		rows    []map[string]any
		want    error
	}{
		{"no rows", gbdtOptions(t, ""), nil, fit.ErrNotEnoughData},
		{"one row", gbdtOptions(t, ""), sensorRows(1, 1), fit.ErrNotEnoughData},
		{"a single class", gbdtOptions(t, ""), oneClass, fit.ErrNotEnoughData},
		{"a text model of three classes", fit.Options{Family: fit.Text, TextField: "text", Label: "label"}, threeClasses, fit.ErrInvalidOptions},
		{"invalid options", fit.Options{Family: "forest"}, sensorRows(1, 100), fit.ErrInvalidOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fit.Fit(context.Background(), "m", tt.options, tt.rows, nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
