package api

import (
	"fmt"
	"maps"
	"net/http"
	"strconv"

	"github.com/streamscore/streamscore/internal/model"
)

// Prediction is one record's answer, at the record's position. A record
// that cannot be scored gets Error (and Field) instead of failing the
// request.
type Prediction struct {
	// Label is a classifier's predicted class.
	Label string `json:"label,omitempty"`
	// Scores are a classifier's class probabilities, by class name.
	Scores map[string]float32 `json:"scores,omitempty"`
	// Value is a regressor's prediction, or a binary classifier's score of
	// its positive (last) class.
	Value *float32 `json:"value,omitempty"`
	// Margin is a classifier's raw scores, by class name, when its spec
	// declares a margin output: the positive (last) class's logit alone
	// for a binary classifier, every class's score for a multiclass one.
	Margin map[string]float32 `json:"margin,omitempty"`
	Error  string             `json:"error,omitempty"`
	Field  string             `json:"field,omitempty"`
}

// PredictResult is POST /models/{name}/predict.
type PredictResult struct {
	Model       string       `json:"model"`
	Version     int          `json:"version"`
	Predictions []Prediction `json:"predictions"`
}

// predict scores records with the model's latest version, exactly as the
// scorer would: through its spec's feature mapping and ONNX Runtime.
func (a *API) predict(w http.ResponseWriter, r *http.Request) error {
	e, err := a.models.get(r.PathValue("name"))
	if err != nil {
		return err
	}
	if err := a.checkBody(r); err != nil {
		return err
	}
	// Records keep only the fields the served version reads; the body is
	// read without holding the model, so it may be replaced meanwhile.
	e.serveMu.Lock()
	decodedFor := e.served
	e.serveMu.Unlock()
	var schema rowSchema
	if decodedFor != nil {
		schema = specSchema(decodedFor.Spec())
	}
	var records []map[string]any
	err = decodeRecords(r.Body, "records", schema.paths, func(_ int, rec map[string]any) error {
		records = append(records, maps.Clone(rec))
		return nil
	})
	if err != nil {
		return err
	}
	if len(records) == 0 {
		return badRequest("records", "records: no records to score")
	}

	// One ONNX Runtime run at a time per model; other models are not held.
	e.serveMu.Lock()
	defer e.serveMu.Unlock()
	m := e.served
	if m == nil {
		return newError(http.StatusConflict, "", "model %q is not trained yet; PUT /models/%s/train", e.name, e.name)
	}
	spec := m.Spec()
	if m != decodedFor && (decodedFor == nil || !specSchema(spec).sameFields(schema)) {
		return newError(http.StatusConflict, "", "model %q was trained again on other fields while the records were read; send them again", e.name)
	}
	schema = specSchema(spec)
	v, err := strconv.Atoi(spec.Version)
	if err != nil {
		return fmt.Errorf("model %s has version %q: %w", e.name, spec.Version, err)
	}
	preds, err := score(m, schema, records)
	if err != nil {
		return err
	}
	writeJSON(w, a.logger, http.StatusOK, PredictResult{Model: e.name, Version: v, Predictions: preds})
	return nil
}

// score runs records through m in batches of its size.
func score(m *model.Model, schema rowSchema, records []map[string]any) ([]Prediction, error) {
	spec := m.Spec()
	preds := make([]Prediction, len(records))
	batch := m.NewBatch()
	defer batch.Close()
	positions := make([]int, 0, 128)
	run := func() error {
		if batch.Len() == 0 {
			return nil
		}
		results, err := m.Run(batch)
		if err != nil {
			return fmt.Errorf("score with %s: %w", spec.Name, err)
		}
		for j, res := range results {
			preds[positions[j]] = prediction(spec, res)
		}
		positions = positions[:0]
		batch.Reset()
		return nil
	}
	for i, rec := range records {
		row, ferr := schema.record(rec)
		if ferr != nil {
			preds[i] = Prediction{Error: ferr.field + ": " + ferr.problem, Field: ferr.field}
			continue
		}
		if err := batch.Add(row); err != nil {
			preds[i] = Prediction{Error: err.Error()}
			continue
		}
		positions = append(positions, i)
		if batch.Full() {
			if err := run(); err != nil {
				return nil, err
			}
		}
	}
	if err := run(); err != nil {
		return nil, err
	}
	return preds, nil
}

func prediction(spec model.Spec, res model.Result) Prediction {
	p := Prediction{Label: res.Label}
	if res.Scores != nil {
		p.Scores = make(map[string]float32, len(res.Scores))
		for c, s := range res.Scores {
			p.Scores[spec.Labels[c]] = s
		}
	}
	if res.HasValue {
		v := float32(res.Value)
		p.Value = &v
	}
	if res.Margin != nil {
		labels := spec.Labels[len(spec.Labels)-len(res.Margin):] // a logit is the last class's
		p.Margin = make(map[string]float32, len(res.Margin))
		for c, s := range res.Margin {
			p.Margin[labels[c]] = s
		}
	}
	return p
}
