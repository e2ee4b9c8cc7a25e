package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/linkedin/goavro/v2"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/train"
	"github.com/streamscore/streamscore/schemas"
)

const (
	nestedTopic  = "bench.sensors.nested"
	groupedTopic = "bench.sensors.grouped"
	// nestedTarget is issue 13's bound: a record with nested fields and
	// categories costs at most 15% more per record than the flat one. It
	// is held to the grouped record, the flat one's values in nested
	// records with two categories; the rich nested record carries twice
	// the flat one's data, and what more data costs is not nesting's.
	nestedTarget = 1.15
)

// recordShape is one record of the nested part and what its model reads.
type recordShape struct {
	bytes       float64 // mean record value, framing included
	columns     int
	categorical int // categorical features
}

// nestedReport is the nested part: the runs of each record and model,
// taken in turns with those of the flat one, and what each record and
// model is. grouped is the record the target is judged on; rich is the
// nested record of schemas/sensor_reading_nested.avsc, reported for
// information, with the flat model on it (decodeRuns) to part what its
// bigger record costs from what its model costs.
type nestedReport struct {
	groupedModel, richModel string
	flat, grouped, rich     recordShape
	flatRuns, groupedRuns   []measurement
	decodeRuns, richRuns    []measurement
}

// prepareNested trains the grouped and the rich nested models on generated
// readings, with the flat model's tree budget, and preloads as many of
// each reading as the flat backlog's Go runs drain.
func (b *bench) prepareNested(ctx context.Context) error {
	b.nested.flat.columns = len(sample.SensorFeatures)
	for _, r := range []struct {
		what, name, file, topic, schema string
		model                           func(context.Context, string, string, train.Config, int) ([]byte, model.Spec, error)
		next                            func() (map[string]any, bool)
		path                            *string
		shape                           *recordShape
	}{
		{"grouped", "sensor-anomaly-grouped", "sensor-grouped.onnx", groupedTopic, schemas.SensorReadingGrouped,
			sample.GroupedSensorModel, sample.NewGroupedSensors(99, 200, 0.05).Next, &b.nested.groupedModel, &b.nested.grouped},
		{"nested", "sensor-anomaly-nested", "sensor-nested.onnx", nestedTopic, schemas.SensorReadingNested,
			sample.NestedSensorModel, sample.NewNestedSensors(99, 200, 0.05).Next, &b.nested.richModel, &b.nested.rich},
	} {
		progress("training the %s model: %d trees of depth %d with category splits, on %d rows", r.what, modelTrees, modelDepth, trainRows)
		onnxBytes, spec, err := r.model(ctx, r.name, "bench", modelConfig(), trainRows)
		if err != nil {
			return fmt.Errorf("%s model: %w", r.what, err)
		}
		*r.path = filepath.Join(b.dir, r.file)
		if err := os.WriteFile(*r.path, onnxBytes, 0o644); err != nil {
			return err
		}
		r.shape.columns, r.shape.categorical = columns(spec.Inputs[0])
		codec, err := goavro.NewCodec(r.schema)
		if err != nil {
			return err
		}
		progress("preloading %d %s records into %s", b.o.records, r.what, r.topic)
		if r.shape.bytes, err = b.produceBacklog(ctx, r.topic, r.schema, codec, b.o.records, r.next); err != nil {
			return err
		}
	}
	return nil
}

// columns counts an input's columns and, of its features, the
// categorical ones.
func columns(in model.Input) (width, categorical int) {
	for _, f := range in.Fields {
		if f.Categorical() {
			categorical++
		}
	}
	return in.Width(), categorical
}

// beside is one record and model's runs beside the flat ones: the medians
// of CPU per record and throughput, and their ratio to the flat ones' in
// CPU per record, as the ratio of the medians and as the lowest and
// highest of the runs' pairs (run i beside flat run i).
type beside struct {
	cpu, rate         float64 // us per record; records per second
	ratio             float64 // cpu / the flat cpu
	pairLow, pairHigh float64
	wallRatio         float64 // the flat rate / rate: wall time per record
}

// costs is the nested part's verdict, each variant beside the flat runs.
type costs struct {
	flat                  beside
	grouped, decode, rich beside // decode: the rich record, the flat model
}

func (r nestedReport) costs() costs {
	return costs{
		flat:    compare(r.flatRuns, r.flatRuns),
		grouped: compare(r.flatRuns, r.groupedRuns),
		decode:  compare(r.flatRuns, r.decodeRuns),
		rich:    compare(r.flatRuns, r.richRuns),
	}
}

// compare is runs beside the flat runs; without runs, the zero beside.
func compare(flat, runs []measurement) beside {
	if len(runs) == 0 || len(flat) == 0 {
		return beside{}
	}
	c := beside{cpu: medianOf(runs, measurement.cpuPerRecord), rate: medianOf(runs, measurement.rate)}
	c.ratio = c.cpu / medianOf(flat, measurement.cpuPerRecord)
	c.wallRatio = medianOf(flat, measurement.rate) / c.rate
	for i := range min(len(flat), len(runs)) {
		p := runs[i].cpuPerRecord() / flat[i].cpuPerRecord()
		if i == 0 || p < c.pairLow {
			c.pairLow = p
		}
		c.pairHigh = max(c.pairHigh, p)
	}
	return c
}

// medianOf is the median of f over the runs; of an even count, the mean
// of the middle two.
func medianOf(runs []measurement, f func(measurement) float64) float64 {
	v := make([]float64, len(runs))
	for i, m := range runs {
		v[i] = f(m)
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// print writes the nested part's table and verdict: the grouped record
// against the target, the rich one for information.
func (r nestedReport) print(w io.Writer, runs, records int) {
	c := r.costs()
	fmt.Fprintf(w, "Nested records beside flat ones: %d runs each of %d records, taken in turns; medians\n", runs, records)
	fmt.Fprintf(w, "  %-44s %6s %8s %10s %14s %11s %13s\n", "record and model", "bytes", "columns", "records/s", "CPU us/record", "CPU / flat", "run pairs")
	row := func(name string, s recordShape, b beside) {
		fmt.Fprintf(w, "  %-44s %6.0f %8d %10.0f %14.2f %11.3f %6.3f-%.3f\n", name, s.bytes, s.columns, b.rate, b.cpu, b.ratio, b.pairLow, b.pairHigh)
	}
	row("SensorReading, flat", r.flat, c.flat)
	if len(r.groupedRuns) > 0 {
		row(fmt.Sprintf("GroupedSensorReading, paths, %d categorical", r.grouped.categorical), r.grouped, c.grouped)
	}
	if len(r.decodeRuns) > 0 {
		row("NestedSensorReading, the flat model", recordShape{bytes: r.rich.bytes, columns: r.flat.columns}, c.decode)
	}
	if len(r.richRuns) > 0 {
		row(fmt.Sprintf("NestedSensorReading, paths, %d categorical", r.rich.categorical), r.rich, c.rich)
	}
	if len(r.groupedRuns) > 0 {
		verdict := "PASS"
		if c.grouped.ratio > nestedTarget {
			// The stages apart (decode, mapping, ONNX Runtime) are a
			// benchmark of their own, quicker than the scorer and steadier.
			verdict = "NOT MET (each stage's share: go test -run '^$' -bench Stages ./bench/scorebench)"
		}
		fmt.Fprintf(w, "  grouped / flat CPU per record: %.3f (run pairs %.3f to %.3f); target at most %.2f: %s\n",
			c.grouped.ratio, c.grouped.pairLow, c.grouped.pairHigh, nestedTarget, verdict)
		fmt.Fprintf(w, "  grouped / flat wall time per record: %.3f\n", c.grouped.wallRatio)
		fmt.Fprintf(w, "  (GroupedSensorReading: the flat record's values in nested records, a nullable one among them, with a site and a status)\n")
	}
	if len(r.richRuns) > 0 {
		fmt.Fprintf(w, "  for information, NestedSensorReading: %.1fx the flat record's bytes, %d columns to its %d; nested / flat CPU per record %.3f, wall time %.3f\n",
			r.rich.bytes/r.flat.bytes, r.rich.columns, r.flat.columns, c.rich.ratio, c.rich.wallRatio)
	}
	if len(r.richRuns) > 0 && len(r.decodeRuns) > 0 {
		// The flat model on nested records parts the extra cost into the
		// bigger record's (decode, GC, the output's copy of it) and the
		// nested model's (paths, categories, its trees in ONNX Runtime).
		fmt.Fprintf(w, "    of its extra %.2f us per record: %.2f the nested record's, read by the flat model; %.2f the nested model's paths, categories and trees\n",
			c.rich.cpu-c.flat.cpu, c.decode.cpu-c.flat.cpu, c.rich.cpu-c.decode.cpu)
	}
	fmt.Fprintf(w, "  (every model %d trees of depth %d; bytes: mean record value, framing included)\n", modelTrees, modelDepth)
}
