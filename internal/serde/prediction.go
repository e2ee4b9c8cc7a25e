package serde

import (
	"encoding/binary"
	"math"
	"time"
)

// Prediction is what the scorer adds to a record: the Go form of the
// Prediction record in schemas/prediction.avsc (PredictionSchema).
type Prediction struct {
	ModelName    string
	ModelVersion string
	// Label is the predicted class, for classifiers; nil for regressors.
	// Pointing it at the model's own class-name slice costs no allocation.
	Label *string
	// Value is the predicted value, for regressors, or the positive class's
	// score for binary classifiers; nil when absent. Pointing it at a field
	// of a reused struct avoids an allocation per record.
	Value *float64
	// Scores is the score of every class, for classifiers; empty for
	// regressors. Labels should be distinct: an Avro map keeps one value
	// per key, and readers keep the last.
	Scores []ClassScore
	// ScoredAt is encoded with millisecond precision (timestamp-millis).
	ScoredAt time.Time
	// Margin is a classifier's raw scores, by label like Scores: the
	// positive (last) class's logit alone for a binary classifier, every
	// class for a multiclass one. Nil encodes null (a regressor, or a model
	// without a margin output); a non-nil empty slice, an empty map.
	Margin []ClassScore
}

// ClassScore is the score of one class.
type ClassScore struct {
	Label string
	Score float64
}

// AppendOutput appends a whole output value to dst: the frame for the output
// schema's id, the input record's body unchanged, then the encoded
// prediction, without its margin if out.NoMargin. That is the Avro encoding
// of the output record because Avro writes a record's fields in order and
// the output schema is the input schema with prediction appended last. It
// allocates nothing when dst has the capacity.
func AppendOutput(dst []byte, out Output, inputBody []byte, p *Prediction) []byte {
	dst = AppendFrame(dst, out.ID)
	dst = append(dst, inputBody...)
	return appendPrediction(dst, p, !out.NoMargin)
}

// AppendPrediction appends the Avro binary encoding of p to dst, following
// PredictionSchema field by field. It allocates nothing when dst has the
// capacity.
func AppendPrediction(dst []byte, p *Prediction) []byte {
	return appendPrediction(dst, p, true)
}

// appendPrediction is AppendPrediction, for the Prediction without the
// margin field when margin is false.
func appendPrediction(dst []byte, p *Prediction, margin bool) []byte {
	dst = appendString(dst, p.ModelName)
	dst = appendString(dst, p.ModelVersion)
	// The unions are ["null", T]: branch 0 is null, branch 1 the value.
	if p.Label == nil {
		dst = appendLong(dst, 0)
	} else {
		dst = appendLong(dst, 1)
		dst = appendString(dst, *p.Label)
	}
	if p.Value == nil {
		dst = appendLong(dst, 0)
	} else {
		dst = appendLong(dst, 1)
		dst = appendDouble(dst, *p.Value)
	}
	dst = appendScores(dst, p.Scores)
	dst = appendLong(dst, p.ScoredAt.UnixMilli())
	if !margin {
		return dst
	}
	if p.Margin == nil {
		return appendLong(dst, 0)
	}
	dst = appendLong(dst, 1)
	return appendScores(dst, p.Margin)
}

// appendScores appends an Avro map of doubles. A map is a sequence of
// blocks, each a count then that many key/value pairs, ended by an empty
// block: here one block, or none when empty.
func appendScores(dst []byte, scores []ClassScore) []byte {
	if len(scores) > 0 {
		dst = appendLong(dst, int64(len(scores)))
		for _, s := range scores {
			dst = appendString(dst, s.Label)
			dst = appendDouble(dst, s.Score)
		}
	}
	return appendLong(dst, 0)
}

// appendLong appends an Avro int or long: zig-zag, then a base-128 varint,
// low groups first (the same varint as encoding/binary's).
func appendLong(dst []byte, v int64) []byte {
	return binary.AppendUvarint(dst, uint64(v<<1)^uint64(v>>63))
}

// appendString appends an Avro string: its byte length, then its UTF-8 bytes.
func appendString(dst []byte, s string) []byte {
	dst = appendLong(dst, int64(len(s)))
	return append(dst, s...)
}

// appendDouble appends an Avro double: IEEE 754 binary64, little-endian.
func appendDouble(dst []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
}
