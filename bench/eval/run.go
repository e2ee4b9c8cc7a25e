package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/datasets"
	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/serde"
)

// errTolerance means a metric differs from scikit-learn's by more than
// the tolerance.
var errTolerance = errors.New("streamscore differs from scikit-learn by more than the tolerance")

const partitions = 3

// env is one run's broker, registry and clients.
type env struct {
	o        options
	dir      string
	logger   *slog.Logger
	stack    *embedded.Stack
	client   *kgo.Client
	admin    *kadm.Client
	registry *srclient.SchemaRegistryClient
	decoder  *serde.Decoder
	// histories holds each topic's rows once read: sets that share a
	// topic (syllables and miscounts) produce and read it once.
	histories map[string]*jobs.History
}

func run(ctx context.Context, o options, logger *slog.Logger, out io.Writer) error {
	if datasets.MaxTextBytes > model.DefaultMaxTextBytes {
		return fmt.Errorf("datasets.MaxTextBytes %d is over the model's text limit %d", datasets.MaxTextBytes, model.DefaultMaxTextBytes)
	}
	if err := model.Init(model.LibraryPath("")); err != nil {
		return fmt.Errorf("ONNX Runtime (run `make setup`): %w", err)
	}
	dir, err := os.MkdirTemp("", "streamscore-eval-")
	if err != nil {
		return err
	}
	if o.keep {
		logger.Info("work directory kept", "dir", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	stack, err := embedded.Start(embedded.Config{Dir: filepath.Join(dir, "stack"), Partitions: partitions})
	if err != nil {
		return err
	}
	defer stack.Close()
	client, err := kgo.NewClient(kgo.SeedBrokers(stack.Brokers()...))
	if err != nil {
		return err
	}
	defer client.Close()
	registry := srclient.NewSchemaRegistryClient(stack.RegistryURL())
	registry.CodecCreationEnabled(false)
	decoder, err := serde.NewDecoder(registry, serde.DecoderConfig{})
	if err != nil {
		return err
	}
	e := &env{o: o, dir: dir, logger: logger, stack: stack, client: client, admin: kadm.NewClient(client), registry: registry, decoder: decoder,
		histories: make(map[string]*jobs.History)}

	var results []result
	for _, name := range o.sets {
		r, err := e.evaluate(ctx, dataSets[name])
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		results = append(results, r)
	}
	return report(out, results, o.tolerance)
}

// result is one data set's outcome on both sides.
type result struct {
	set                         dataSet
	rows, trainRows, holdRows   int
	trainPositive, holdPositive int // binary only
	classes                     int // classifiers
	holdout                     float64
	ours, theirs                side
	params                      json.RawMessage
	// categories are a categorical set's tables, by feature in column
	// order: the trainer's, which scikit-learn's equal (evaluate checks).
	categories []table
	// numericOnly is the set's numeric-only twin's result.
	numericOnly *result
}

// table is one categorical feature's category table.
type table struct {
	feature    string
	categories []string
}

// side is one implementation's metrics and time.
type side struct {
	auc, f1  float64
	hasAUC   bool
	r2, rmse float64 // regression
	// iterations is the number of boosting iterations grown (scikit-learn's
	// n_iter_); 0 when not known. stopped says early stopping ended the
	// fit before its last iteration.
	iterations int
	stopped    bool
	duration   time.Duration
	// params are the estimator's parameters as the side reports them.
	params string
	// categories are scikit-learn's tables of the categorical columns, in
	// column order, as reference.py learnt them.
	categories [][]string
}

func (e *env) evaluate(ctx context.Context, set dataSet) (result, error) {
	log := e.logger.With("set", set.name)
	history, err := e.history(ctx, set)
	if err != nil {
		return result{}, err
	}
	opts, err := set.options(history.Rows)
	if err != nil {
		return result{}, err
	}
	if opts.Family == fit.GBDT && e.o.randomState != 0 {
		if opts.Params, err = withParam(opts.Params, "random_state", e.o.randomState); err != nil {
			return result{}, err
		}
	}
	// As a job does: every path checked against the topic's latest schema,
	// its strings and enums made categorical.
	opts, _, err = fit.ResolveSchema(ctx, jobs.RegistrySchemas{Registry: e.registry}, jobs.TopicSubject(set.topic), opts)
	if err != nil {
		return result{}, err
	}
	caps, err := categoryCaps(set, opts)
	if err != nil {
		return result{}, err
	}
	trainRows, holdRows := fit.Split(history.Rows, opts.Holdout)
	log.Info("training", "family", opts.Family, "train", len(trainRows), "holdout", len(holdRows))
	fitted, err := fit.Fit(ctx, set.name, opts, history.Rows, nil)
	if err != nil {
		return result{}, fmt.Errorf("train: %w", err)
	}
	// Both sides must see the same rows: a row the trainer left out would
	// make the comparison unequal.
	if fitted.TrainRows != len(trainRows) || fitted.Evaluation.Rows != len(holdRows) {
		return result{}, fmt.Errorf("the trainer used %d of %d training rows and %d of %d holdout rows (skipped: %v, %v)",
			fitted.TrainRows, len(trainRows), fitted.Evaluation.Rows, len(holdRows), fitted.Skipped, fitted.Evaluation.Skipped)
	}
	metrics := fitted.Evaluation.Metrics
	r := result{
		set: set, rows: len(history.Rows), trainRows: len(trainRows), holdRows: len(holdRows), holdout: opts.Holdout,
		classes: len(fitted.Spec.Labels), params: fitted.Params,
		ours: side{
			duration: fitted.Duration, f1: metrics[fit.MetricF1],
			r2: metrics[fit.MetricR2], rmse: metrics[fit.MetricRMSE], params: string(fitted.Params),
		},
	}
	r.ours.auc, r.ours.hasAUC = metrics[fit.MetricAUC]
	if fitted.Fit != nil {
		r.ours.iterations, r.ours.stopped = fitted.Fit.Iterations, fitted.Fit.EarlyStopped
	}

	path := filepath.Join(e.dir, set.name+".jsonl")
	if r.trainPositive, r.holdPositive, err = writeRows(path, set, trainRows, holdRows); err != nil {
		return result{}, err
	}
	if r.theirs, err = e.reference(ctx, set, path, fitted.Params, caps); err != nil {
		return result{}, err
	}
	if r.categories, err = sameCategories(set, fitted.Spec, r.theirs.categories); err != nil {
		return result{}, err
	}
	if set.numericOnly != nil {
		n, err := e.evaluate(ctx, *set.numericOnly)
		if err != nil {
			return result{}, fmt.Errorf("%s: %w", set.numericOnly.name, err)
		}
		r.numericOnly = &n
	}
	if set.task == regressionTask {
		log.Info("done", "r2", r.ours.r2, "sklearn_r2", r.theirs.r2, "rmse", r.ours.rmse, "sklearn_rmse", r.theirs.rmse)
	} else {
		log.Info("done", "auc", r.ours.auc, "sklearn_auc", r.theirs.auc, "f1", r.ours.f1, "sklearn_f1", r.theirs.f1)
	}
	return r, nil
}

// history returns the rows of the set's topic as the trainer reads them,
// producing the data set first unless another set already did.
func (e *env) history(ctx context.Context, set dataSet) (*jobs.History, error) {
	if h, ok := e.histories[set.topic]; ok {
		e.logger.Info("topic already read", "set", set.name, "topic", set.topic, "rows", len(h.Rows))
		return h, nil
	}
	recs, err := set.load(filepath.Join(set.root(e.o), set.dir))
	if err != nil {
		return nil, fmt.Errorf("load (run scripts/datasets.sh): %w", err)
	}
	e.logger.Info("loaded", "set", set.name, "records", len(recs))
	if err := e.produce(ctx, set, recs); err != nil {
		return nil, err
	}
	h, err := jobs.Read(ctx, []kgo.Opt{kgo.SeedBrokers(e.stack.Brokers()...)}, e.decoder, catalog.Source{Topic: set.topic})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", set.topic, err)
	}
	if len(h.Rows) != len(recs) {
		return nil, fmt.Errorf("read %d rows of the %d produced (skipped: %v)", len(h.Rows), len(recs), h.Skipped)
	}
	e.logger.Info("read back through the trainer", "set", set.name, "topic", set.topic, "rows", len(h.Rows))
	e.histories[set.topic] = h
	return h, nil
}

// withParam returns the trainer's params with one more set.
func withParam(params json.RawMessage, name string, value any) (json.RawMessage, error) {
	m := map[string]any{}
	if len(params) > 0 {
		if err := json.Unmarshal(params, &m); err != nil {
			return nil, fmt.Errorf("params %s: %w", params, err)
		}
	}
	m[name] = value
	return json.Marshal(m)
}

// produce creates the topic, registers the schema under <topic>-value and
// writes the records in time order, each framed the Confluent way and
// stamped with its event time.
func (e *env) produce(ctx context.Context, set dataSet, recs []datasets.Record) error {
	text, err := os.ReadFile(filepath.Join(e.o.schemas, set.schema))
	if err != nil {
		return err
	}
	codec, err := goavro.NewCodec(string(text))
	if err != nil {
		return fmt.Errorf("%s: %w", set.schema, err)
	}
	if _, err := e.admin.CreateTopic(ctx, partitions, -1, nil, set.topic); err != nil {
		return fmt.Errorf("create %s: %w", set.topic, err)
	}
	schema, err := e.registry.CreateSchema(set.topic+"-value", string(text), srclient.Avro)
	if err != nil {
		return fmt.Errorf("register %s: %w", set.schema, err)
	}
	recs = slices.Clone(recs)
	slices.SortStableFunc(recs, func(a, b datasets.Record) int { return a.Time.Compare(b.Time) })
	var (
		mu    sync.Mutex
		first error
	)
	promise := func(_ *kgo.Record, err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = err
		}
	}
	for _, rec := range recs {
		value := binary.BigEndian.AppendUint32([]byte{0}, uint32(schema.ID()))
		if value, err = codec.BinaryFromNative(value, rec.Value); err != nil {
			return fmt.Errorf("encode %s: %w", rec.Key, err)
		}
		e.client.Produce(ctx, &kgo.Record{Topic: set.topic, Key: []byte(rec.Key), Value: value, Timestamp: rec.Time}, promise)
	}
	if err := e.client.Flush(ctx); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	if first != nil {
		return fmt.Errorf("produce to %s: %w", set.topic, first)
	}
	e.logger.Info("produced", "set", set.name, "topic", set.topic, "records", len(recs), "schema_id", schema.ID())
	return nil
}

// writeRows writes the rows for reference.py, training rows first, each in
// the trainer's order, and counts the positives of each split of a binary
// set.
func writeRows(path string, set dataSet, trainRows, holdRows []map[string]any) (trainPositive, holdPositive int, err error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	write := func(split string, rows []map[string]any) (int, error) {
		positive := 0
		for i, row := range rows {
			line, err := set.python(row)
			if err != nil {
				return 0, fmt.Errorf("%s row %d: %w", split, i, err)
			}
			line["split"] = split
			if y, ok := line["y"].(int); ok && set.task == binaryTask {
				positive += y
			}
			if err := enc.Encode(line); err != nil {
				return 0, err
			}
		}
		return positive, nil
	}
	if trainPositive, err = write("train", trainRows); err != nil {
		return 0, 0, err
	}
	if holdPositive, err = write("holdout", holdRows); err != nil {
		return 0, 0, err
	}
	if err := w.Flush(); err != nil {
		return 0, 0, err
	}
	return trainPositive, holdPositive, f.Close()
}

// categoryCaps are the most categories the trainer keeps of each of the
// set's categorical features (by opts, resolved against the schema), which
// reference.py's tables keep too; it checks that the trainer reads as
// categories exactly the features the set says.
func categoryCaps(set dataSet, opts fit.Options) ([]int, error) {
	var names []string
	var caps []int
	for _, f := range opts.FeatureReads() {
		if f.Kind == fit.CategoryFeature {
			names = append(names, f.Given)
			caps = append(caps, f.MaxCategories)
		}
	}
	if !slices.Equal(names, set.categorical) {
		return nil, fmt.Errorf("the trainer reads %q as categories, want %q", names, set.categorical)
	}
	return caps, nil
}

// sameCategories returns the trainer's category table of each of set's
// categorical features, in column order, and checks that the trainer read
// as categories exactly those features, and that scikit-learn's tables
// (theirs, in the same order) hold the same categories in the same order:
// both models must see the same codes for the comparison to be fair.
func sameCategories(set dataSet, spec model.Spec, theirs [][]string) ([]table, error) {
	// The spec read as JSON: its category field is all this needs.
	data, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	var s struct {
		Inputs []struct {
			Fields []struct {
				Field      string    `json:"field"`
				Categories *[]string `json:"categories"`
			} `json:"fields"`
		} `json:"inputs"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	var ours []table
	for _, in := range s.Inputs {
		for _, f := range in.Fields {
			if f.Categories != nil {
				ours = append(ours, table{f.Field, *f.Categories})
			}
		}
	}
	var names []string
	for _, t := range ours {
		names = append(names, t.feature)
	}
	if !slices.Equal(names, set.categorical) {
		return nil, fmt.Errorf("the trainer read %q as categories, want %q", names, set.categorical)
	}
	if len(theirs) != len(ours) {
		return nil, fmt.Errorf("reference.py learnt %d category tables, the trainer %d", len(theirs), len(ours))
	}
	for i, t := range ours {
		if !slices.Equal(t.categories, theirs[i]) {
			return nil, fmt.Errorf("%s: the trainer's categories %q, scikit-learn's %q", t.feature, t.categories, theirs[i])
		}
	}
	return ours, nil
}

// reference runs reference.py on the rows and reads its one line of JSON.
func (e *env) reference(ctx context.Context, set dataSet, path string, params json.RawMessage, caps []int) (side, error) {
	args := []string{e.o.reference, "--model", set.model, "--task", string(set.task),
		"--data", path, "--params", string(params), "--random-state", strconv.FormatUint(e.o.randomState, 10)}
	if len(set.categorical) > 0 {
		var columns, limits []string
		for i, f := range set.features {
			if j := slices.Index(set.categorical, f); j >= 0 {
				columns = append(columns, strconv.Itoa(i))
				limits = append(limits, strconv.Itoa(caps[j]))
			}
		}
		args = append(args, "--categorical", strings.Join(columns, ","), "--max-categories", strings.Join(limits, ","))
	}
	cmd := exec.CommandContext(ctx, e.o.python, args...)
	// scikit-learn's gradient boosting runs OpenMP threads, which libgomp
	// keeps spinning between parallel regions: on a busy two-core machine
	// that made one fit 100 times slower (0.6 s against 72 s for syllables).
	// Waiting threads that sleep change no result.
	cmd.Env = os.Environ()
	if os.Getenv("OMP_WAIT_POLICY") == "" {
		cmd.Env = append(cmd.Env, "OMP_WAIT_POLICY=PASSIVE")
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	e.logger.Info("scikit-learn fitting", "set", set.name)
	if err := cmd.Run(); err != nil {
		return side{}, fmt.Errorf("%s %s: %w: %s", e.o.python, e.o.reference, err, bytes.TrimSpace(stderr.Bytes()))
	}
	if stderr.Len() > 0 {
		e.logger.Info("scikit-learn said", "set", set.name, "stderr", string(bytes.TrimSpace(stderr.Bytes())))
	}
	var got struct {
		AUC         *float64        `json:"auc"`
		F1          float64         `json:"f1"`
		R2          float64         `json:"r2"`
		RMSE        float64         `json:"rmse"`
		NIter       int             `json:"n_iter"`
		Stopped     bool            `json:"early_stopped"`
		FitSeconds  float64         `json:"fit_seconds"`
		TrainRows   int             `json:"train_rows"`
		HoldoutRows int             `json:"holdout_rows"`
		Params      json.RawMessage `json:"params"`
		Categories  [][]string      `json:"categories"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		return side{}, fmt.Errorf("reference.py printed %q: %w", stdout.String(), err)
	}
	s := side{
		f1: got.F1, r2: got.R2, rmse: got.RMSE, iterations: got.NIter, stopped: got.Stopped,
		duration: time.Duration(got.FitSeconds * float64(time.Second)), params: string(got.Params),
		categories: got.Categories,
	}
	if got.AUC != nil {
		s.auc, s.hasAUC = *got.AUC, true
	}
	return s, nil
}
