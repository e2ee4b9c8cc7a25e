package stream

// Output encoding: a scored row becomes an output record, its input body
// untouched, followed by the prediction, with the source's coordinates and
// the model in its headers.

import (
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/serde"
)

// encoder writes scored rows as output records; each stage that scores has
// its own, for its scratch space.
type encoder struct {
	scores  []serde.ClassScore
	margins []serde.ClassScore
	outs    []result
}

// encodeOutputs encodes scored rows: each input body, untouched, followed
// by its prediction by g's model, under the row's output schema; same key,
// timestamp and headers as the input, plus the source coordinates and the
// model. One slab holds the values and header bytes of the whole batch:
// one allocation, not one per record. The results it returns are the
// encoder's scratch, valid until its next call; nothing is emitted, so a
// panic halfway leaves no row half done.
func (e *encoder) encodeOutputs(g *generation, rows []row, results []model.Result, scoredAt time.Time) []result {
	spec := &g.spec
	perRow := 128 + 16*len(spec.Labels)
	if spec.Outputs.Margin != "" {
		perRow += 16 * len(spec.Labels)
	}
	size, headerCount := 0, 0
	for _, r := range rows {
		size += len(r.checked.Body) + perRow
		headerCount += len(r.source.Headers) + 4
	}
	slab := make([]byte, 0, size)
	headerSlab := make([]kgo.RecordHeader, 0, headerCount)
	e.outs = e.outs[:0]
	for i, r := range rows {
		res := &results[i]
		pred := serde.Prediction{ModelName: spec.Name, ModelVersion: spec.Version, ScoredAt: scoredAt}
		if spec.Task == model.Classification {
			pred.Label = &res.Label
		}
		if res.HasValue {
			pred.Value = &res.Value
		}
		e.scores = e.scores[:0]
		for c, s := range res.Scores {
			e.scores = append(e.scores, serde.ClassScore{Label: spec.Labels[c], Score: float64(s)})
		}
		pred.Scores = e.scores
		if res.Margin != nil {
			// Keyed as the REST answer is: a single margin is the logit
			// of the last label.
			labels := spec.Labels[len(spec.Labels)-len(res.Margin):]
			e.margins = e.margins[:0]
			for c, m := range res.Margin {
				e.margins = append(e.margins, serde.ClassScore{Label: labels[c], Score: float64(m)})
			}
			pred.Margin = e.margins
		}

		start := len(slab)
		slab = serde.AppendOutput(slab, r.output, r.checked.Body, &pred)
		value := slab[start:len(slab):len(slab)]

		first := len(headerSlab)
		headerSlab, slab = appendSourceHeaders(headerSlab, slab, r.source)
		headerSlab = append(headerSlab, kgo.RecordHeader{Key: deadletter.HeaderModel, Value: g.header})
		e.outs = append(e.outs, result{source: r.source, seg: r.seg, out: &kgo.Record{
			Topic:     r.outTopic,
			Key:       r.source.Key,
			Value:     value,
			Headers:   headerSlab[first:len(headerSlab):len(headerSlab)],
			Timestamp: r.source.Timestamp,
		}})
	}
	return e.outs
}

// appendSourceHeaders appends the input's own headers and its coordinates
// to headers, writing the coordinates' bytes into buf, and returns both.
func appendSourceHeaders(headers []kgo.RecordHeader, buf []byte, rec *kgo.Record) ([]kgo.RecordHeader, []byte) {
	headers = append(headers, rec.Headers...)
	start := len(buf)
	buf = append(buf, rec.Topic...)
	topic := buf[start:len(buf):len(buf)]
	start = len(buf)
	buf = strconv.AppendInt(buf, int64(rec.Partition), 10)
	partition := buf[start:len(buf):len(buf)]
	start = len(buf)
	buf = strconv.AppendInt(buf, rec.Offset, 10)
	offset := buf[start:len(buf):len(buf)]
	return append(headers,
		kgo.RecordHeader{Key: deadletter.HeaderSourceTopic, Value: topic},
		kgo.RecordHeader{Key: deadletter.HeaderSourcePartition, Value: partition},
		kgo.RecordHeader{Key: deadletter.HeaderSourceOffset, Value: offset},
	), buf
}
