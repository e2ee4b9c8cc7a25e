package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/online"
	"github.com/streamscore/streamscore/internal/serde"
)

// Label outcomes of streamscore_labels_total beyond the join's own.
const (
	// LabelInvalid: a labels record that is not Confluent-framed Avro, or
	// lacks the key or label field, or whose label is of the wrong type.
	LabelInvalid = "invalid"
)

// Defaults of LabelsConfig.
const (
	DefaultLabelField = "label"
	DefaultJoinBudget = 64 << 20
	DefaultLabelWait  = time.Hour
)

// catchUpPatience is how long the join waits for a partition it is
// re-reading at start to show a record, before taking it as read to its
// end: the end of a partition of transactional records is a commit marker,
// which consumers never see.
const catchUpPatience = 5 * time.Second

// maxClockSkew is how far in the future a label's or a prediction's
// record time may be. The labels' time is the join's clock: one label
// stamped days ahead (a producer's clock, or a hostile one) would close
// every window up to then at once. Later ones are counted invalid.
const maxClockSkew = time.Minute

// heldPredictionBytes is what the join is taken to hold per prediction
// when deciding how far back to re-read the predictions after a restart:
// a typical key and the join's own overhead. Reading a little more than
// fits only costs the reading; the budget still holds.
const heldPredictionBytes = 128

// LabelsConfig is the late-label join of one scorer.
type LabelsConfig struct {
	// Topic names each input's labels topic, "{topic}" standing for the
	// input topic.
	Topic string
	// Inputs are the input topics; OutputFor and ShadowFor give their
	// output and shadow topics (ShadowFor "" when shadow scoring is off).
	Inputs    []string
	OutputFor func(string) string
	ShadowFor func(string) string
	// KeyField, when set, is the field both a labels record and an output
	// record carry the id in (the input record's field); empty joins on the
	// record key, which an output record copies from its input.
	KeyField string
	// LabelField is the labels record's field holding the truth: a string,
	// enum, boolean or integer class, or a number for a regressor.
	LabelField string
	// Window is the online windows' length; Budget the bytes the join may
	// hold; LabelWait how long a label waits for its prediction.
	Window    time.Duration
	Budget    int64
	LabelWait time.Duration
	// MonitorTopic names each input's monitor topic, where the join's
	// windows go and where, after a restart, it finds those it wrote.
	MonitorTopic string
	// Model is the model's name; Task and Labels are its spec's.
	Model  string
	Task   model.Task
	Labels []string
}

// windowSink takes the join's closed windows and label counts; *Writer is
// the one in use.
type windowSink interface {
	Write(Window)
	Labels(topic, outcome string, n int64)
}

// Decoder checks a framed Avro value against its writer schema;
// *serde.Decoder is the one in use.
type Decoder interface {
	Check(value []byte) (serde.Checked, error)
}

// LabelJoin reads the predictions of the output and shadow topics and the
// true labels of the labels topics, joins them (internal/online), and
// writes an online window per version as each closes.
//
// It keeps no state of its own outside memory: at start it re-reads, per
// partition, as many of the newest predictions as the budget holds, and
// the labels from the start of the current window less LabelWait, so the
// windows after a restart come out as they would have without it. It
// reads every partition (no consumer group): each scorer of a group that
// runs it computes the same windows, written under the same keys.
type LabelJoin struct {
	cfg     LabelsConfig
	opts    []kgo.Opt
	decoder Decoder
	writer  windowSink
	logger  *slog.Logger
	now     func() time.Time

	keyPath   avropath.Path
	labelPath avropath.Path
	roles     map[string]topicRole // output, shadow or labels topic -> what it is
	joins     map[string]*online.Join
	latest    map[string]time.Time    // input topic -> the newest label time seen
	counted   map[string]online.Stats // input topic -> the join's counts at the last flush
	patience  time.Duration           // catchUpPatience, but in tests
	// written is, by input topic, the end of the last online window the
	// monitor topic held at start: windows that start before it were
	// written before a restart, and are not written again.
	written map[string]time.Time
}

// topicRole says what a topic the join reads holds, for which input.
type topicRole struct {
	input string
	kind  string // RoleChampion or RoleShadow for predictions, "labels"
}

const labelsKind = "labels"

// NewLabelJoin checks cfg and builds the join; Run reads.
func NewLabelJoin(cfg LabelsConfig, kafkaOpts []kgo.Opt, decoder Decoder, writer windowSink, logger *slog.Logger) (*LabelJoin, error) {
	if cfg.LabelField == "" {
		cfg.LabelField = DefaultLabelField
	}
	if cfg.Budget <= 0 {
		cfg.Budget = DefaultJoinBudget
	}
	if cfg.LabelWait <= 0 {
		cfg.LabelWait = DefaultLabelWait
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	j := &LabelJoin{
		cfg: cfg, opts: kafkaOpts, decoder: decoder, writer: writer, logger: logger, now: time.Now,
		roles: map[string]topicRole{}, joins: map[string]*online.Join{}, latest: map[string]time.Time{},
		counted: map[string]online.Stats{}, patience: catchUpPatience,
	}
	var err error
	if j.labelPath, err = avropath.Parse(cfg.LabelField); err != nil {
		return nil, fmt.Errorf("label field: %w", err)
	}
	if cfg.KeyField != "" {
		if j.keyPath, err = avropath.Parse(cfg.KeyField); err != nil {
			return nil, fmt.Errorf("label key field: %w", err)
		}
	}
	for _, in := range cfg.Inputs {
		j.roles[cfg.OutputFor(in)] = topicRole{in, RoleChampion}
		if cfg.ShadowFor != nil && cfg.ShadowFor(in) != "" {
			j.roles[cfg.ShadowFor(in)] = topicRole{in, RoleShadow}
		}
		j.roles[TopicFor(cfg.Topic, in)] = topicRole{in, labelsKind}
		join, err := online.NewJoin(online.Config{
			Task: string(cfg.Task), Labels: cfg.Labels, Window: cfg.Window, Budget: cfg.Budget, LabelWait: cfg.LabelWait,
		})
		if err != nil {
			return nil, fmt.Errorf("label join: %w", err)
		}
		j.joins[in] = join
	}
	return j, nil
}

// Run reads until ctx ends. The join is best effort beside the scoring:
// a failure to list offsets at start is retried, never returned, so it
// cannot stop the scorer; Run returns an error only for a Kafka client
// it cannot build (a configuration error).
func (j *LabelJoin) Run(ctx context.Context) error {
	var starts map[string]map[int32]kgo.Offset
	var missing []string
	var caughtUp map[string]map[int32]int64
	for backoff := time.Second; ; backoff = min(2*backoff, time.Minute) {
		var err error
		if starts, missing, caughtUp, err = j.startOffsets(ctx); err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		j.logger.Warn("label join: cannot list the topics' offsets; retrying", "in", backoff, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
	}
	// The online windows this topic's join wrote before a restart are in
	// the monitor topic: the labels read again rebuild the state (matches,
	// duplicates, the comparison), but those windows are not written again.
	for backoff := time.Second; ; backoff = min(2*backoff, time.Minute) {
		var err error
		if j.written, err = j.lastWritten(ctx); err == nil {
			break
		}
		j.logger.Warn("label join: cannot read the monitor topic; retrying", "in", backoff, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
	}
	opts := append(slices.Clone(j.opts), kgo.ConsumePartitions(starts), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if len(missing) > 0 {
		// A topic made after the scorer started is read once it exists,
		// from its first record: every record in it is new.
		opts = append(opts, kgo.ConsumeTopics(missing...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMaxAge(10*time.Second))
	}
	client, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("labels join: kafka client: %w", err)
	}
	defer client.Close()
	j.logger.Info("label join started", "topics", len(starts))
	// When each partition being caught up last showed a record (the
	// process's clock: this is about waiting, not about record times).
	progressed := map[string]map[int32]time.Time{}
	for topic, parts := range caughtUp {
		progressed[topic] = map[int32]time.Time{}
		for p := range parts {
			progressed[topic][p] = time.Now()
		}
	}
	caught := func(topic string, p int32) {
		delete(caughtUp[topic], p)
		if len(caughtUp[topic]) == 0 {
			delete(caughtUp, topic)
		}
	}
	for {
		poll := ctx
		var cancel context.CancelFunc = func() {}
		if len(caughtUp) > 0 {
			// Catching up: poll in steps, to notice a partition that
			// makes no progress.
			poll, cancel = context.WithTimeout(ctx, time.Second)
		}
		fetches := client.PollFetches(poll)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				j.logger.Warn("label join: fetch failed; retrying", "topic", topic, "partition", p, "err", err)
			}
		})
		fetches.EachRecord(func(r *kgo.Record) {
			j.apply(r)
			if end, ok := caughtUp[r.Topic][r.Partition]; ok {
				progressed[r.Topic][r.Partition] = time.Now()
				if r.Offset+1 >= end {
					caught(r.Topic, r.Partition)
				}
			}
		})
		for topic, parts := range caughtUp {
			for p := range parts {
				if time.Since(progressed[topic][p]) > j.patience {
					// Its last records are transaction markers, or
					// aborted: the end offset's record never shows.
					j.logger.Info("label join: a partition with nothing more to read taken as caught up", "topic", topic, "partition", p)
					caught(topic, p)
				}
			}
		}
		// Windows close only once what was there at start has been read:
		// before that, a label read ahead of its prediction would close a
		// window the prediction belongs to.
		if len(caughtUp) == 0 {
			j.flush()
		}
	}
}

// startOffsets is where each partition is read from, the labels topics
// that do not exist yet, and the end offsets at start of the partitions
// that had records to re-read.
func (j *LabelJoin) startOffsets(ctx context.Context) (starts map[string]map[int32]kgo.Offset, missing []string, caughtUp map[string]map[int32]int64, err error) {
	cl, err := kgo.NewClient(j.opts...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("labels join: kafka client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	var predictions, labels []string
	for topic, role := range j.roles {
		if role.kind == labelsKind {
			labels = append(labels, topic)
		} else {
			predictions = append(predictions, topic)
		}
	}
	ends, err := adm.ListEndOffsets(ctx, append(predictions, labels...)...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("labels join: end offsets: %w", err)
	}
	firsts, err := adm.ListStartOffsets(ctx, predictions...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("labels join: start offsets: %w", err)
	}
	since := j.now().Truncate(j.cfg.Window).Add(-j.cfg.LabelWait)
	fromTime, err := adm.ListOffsetsAfterMilli(ctx, since.UnixMilli(), labels...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("labels join: label offsets: %w", err)
	}
	starts, caughtUp = map[string]map[int32]kgo.Offset{}, map[string]map[int32]int64{}
	start := func(topic string, p int32, at, end int64) {
		if starts[topic] == nil {
			starts[topic] = map[int32]kgo.Offset{}
		}
		starts[topic][p] = kgo.NewOffset().At(at)
		if at < end {
			if caughtUp[topic] == nil {
				caughtUp[topic] = map[int32]int64{}
			}
			caughtUp[topic][p] = end
		}
	}
	for _, topic := range predictions {
		parts := listed(ends[topic])
		if len(parts) == 0 {
			j.logger.Info("label join: a prediction topic does not exist yet; it is read once it does", "topic", topic)
			missing = append(missing, topic)
			continue
		}
		// The newest predictions that fit the budget, spread evenly.
		keep := max(j.cfg.Budget/heldPredictionBytes/int64(len(parts)), 1)
		for p, end := range parts {
			first, _ := firsts.Lookup(topic, p)
			start(topic, p, max(first.Offset, end.Offset-keep), end.Offset)
		}
	}
	for _, topic := range labels {
		parts := listed(fromTime[topic])
		if len(parts) == 0 {
			j.logger.Info("label join: a labels topic does not exist yet; it is read once it does", "topic", topic)
			missing = append(missing, topic)
			continue
		}
		for p, at := range parts {
			end, _ := ends.Lookup(topic, p)
			start(topic, p, at.Offset, end.Offset)
		}
	}
	return starts, missing, caughtUp, nil
}

// lastWritten reads the online windows of this model the monitor topics
// hold (since the labels the join reads again), and gives, by input topic,
// the end of the last one.
func (j *LabelJoin) lastWritten(ctx context.Context) (map[string]time.Time, error) {
	written := map[string]time.Time{}
	topics := map[string]string{} // monitor topic -> input
	for _, in := range j.cfg.Inputs {
		topics[TopicFor(j.cfg.MonitorTopic, in)] = in
	}
	cl, err := kgo.NewClient(j.opts...)
	if err != nil {
		return nil, fmt.Errorf("labels join: kafka client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	names := slices.Collect(maps.Keys(topics))
	ends, err := adm.ListEndOffsets(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("monitor topics' end offsets: %w", err)
	}
	since := j.now().Truncate(j.cfg.Window).Add(-j.cfg.LabelWait - j.cfg.Window)
	from, err := adm.ListOffsetsAfterMilli(ctx, since.UnixMilli(), names...)
	if err != nil {
		return nil, fmt.Errorf("monitor topics' offsets: %w", err)
	}
	starts, left := map[string]map[int32]kgo.Offset{}, map[string]map[int32]int64{}
	for topic, parts := range listedAll(from) {
		for p, o := range parts {
			if end, ok := ends.Lookup(topic, p); ok && end.Err == nil && o.Offset < end.Offset {
				if starts[topic] == nil {
					starts[topic], left[topic] = map[int32]kgo.Offset{}, map[int32]int64{}
				}
				starts[topic][p], left[topic][p] = kgo.NewOffset().At(o.Offset), end.Offset
			}
		}
	}
	if len(starts) == 0 {
		return written, nil
	}
	reader, err := kgo.NewClient(append(slices.Clone(j.opts), kgo.ConsumePartitions(starts))...)
	if err != nil {
		return nil, fmt.Errorf("labels join: kafka client: %w", err)
	}
	defer reader.Close()
	for len(left) > 0 {
		poll, cancel := context.WithTimeout(ctx, j.patience)
		fetches := reader.PollFetches(poll)
		cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if fetches.Empty() {
			break // the rest are transaction markers, or nothing more comes
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if r.Offset+1 >= left[r.Topic][r.Partition] {
				delete(left[r.Topic], r.Partition)
				if len(left[r.Topic]) == 0 {
					delete(left, r.Topic)
				}
			}
			rec, err := j.decode(r.Value)
			if err != nil || rec["kind"] != KindOnline || rec["model_name"] != j.cfg.Model {
				return
			}
			in := topics[r.Topic]
			if end, ok := rec["window_end"].(time.Time); ok && rec["topic"] == in && end.After(written[in]) {
				written[in] = end
			}
		})
	}
	return written, nil
}

// listedAll is listed over every topic of a listing.
func listedAll(l kadm.ListedOffsets) map[string]map[int32]kadm.ListedOffset {
	out := map[string]map[int32]kadm.ListedOffset{}
	for topic, parts := range l {
		if ok := listed(parts); len(ok) > 0 {
			out[topic] = ok
		}
	}
	return out
}

// listed keeps the partitions an offset listing answered for: a topic that
// does not exist comes back as one entry with an error.
func listed(parts map[int32]kadm.ListedOffset) map[int32]kadm.ListedOffset {
	ok := make(map[int32]kadm.ListedOffset, len(parts))
	for p, o := range parts {
		if p >= 0 && o.Err == nil {
			ok[p] = o
		}
	}
	return ok
}

// apply feeds one record to its input's join.
func (j *LabelJoin) apply(r *kgo.Record) {
	role, ok := j.roles[r.Topic]
	if !ok {
		return
	}
	join := j.joins[role.input]
	if ahead := r.Timestamp.After(j.now().Add(maxClockSkew)); ahead && role.kind == labelsKind {
		j.writer.Labels(role.input, LabelInvalid, 1)
		j.logger.Debug("label join: a label stamped in the future is left out", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "timestamp", r.Timestamp)
		return
	} else if ahead {
		// A prediction's time is its input's, which a producer with a
		// clock ahead sets: taken as now, it still meets its label.
		r.Timestamp = j.now()
	}
	if role.kind == labelsKind {
		l, err := j.label(r)
		if err != nil {
			j.writer.Labels(role.input, LabelInvalid, 1)
			j.logger.Debug("label join: a labels record is unusable", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
			return
		}
		join.AddLabel(l)
		if l.At.After(j.latest[role.input]) {
			j.latest[role.input] = l.At
		}
		return
	}
	p, err := j.prediction(r, role.kind)
	if err != nil {
		j.logger.Debug("label join: an output record is unusable", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
		return
	}
	join.AddPrediction(p)
}

// flush writes the windows the newest label time has closed, and counts
// the labels' outcomes since the last flush.
func (j *LabelJoin) flush() {
	for input, join := range j.joins {
		watermark, ok := j.latest[input]
		if !ok {
			continue
		}
		for _, rep := range join.Flush(watermark) {
			if rep.Start.Before(j.written[input]) || rep.Labelled+rep.Unmatched+rep.Late+rep.Duplicate == 0 {
				// Before the cutoff: written before a restart. With no
				// label at all: a version no longer predicting, whose
				// comparison, if it has one, did not move.
				continue
			}
			j.writer.Write(Window{
				Kind: KindOnline, Topic: input, Model: j.cfg.Model, Version: rep.Version, Role: rep.Role,
				Start: rep.Start, End: rep.End, Online: &rep,
			})
		}
		now, last := join.Stats(), j.counted[input]
		j.writer.Labels(input, "matched", now.MatchedLabels-last.MatchedLabels)
		j.writer.Labels(input, "unmatched", now.Unmatched-last.Unmatched)
		j.writer.Labels(input, "late", now.Late-last.Late)
		j.writer.Labels(input, "duplicate", now.Duplicate-last.Duplicate)
		j.writer.Labels(input, LabelInvalid, now.Invalid-last.Invalid)
		j.counted[input] = now
	}
}

// errUnusable marks a record the join cannot use.
var errUnusable = errors.New("unusable record")

// decode reads a Confluent-framed Avro record.
func (j *LabelJoin) decode(value []byte) (map[string]any, error) {
	checked, err := j.decoder.Check(value)
	if err != nil {
		return nil, err
	}
	return checked.Decode()
}

// key is the join key of a decoded record: its KeyField, or the record
// key.
func (j *LabelJoin) key(r *kgo.Record, rec map[string]any) (string, error) {
	if j.keyPath.IsZero() {
		if len(r.Key) == 0 {
			return "", fmt.Errorf("%w: no record key to join on", errUnusable)
		}
		return string(r.Key), nil
	}
	v, present, err := j.keyPath.Read(rec)
	if err != nil || !present || v == nil {
		return "", fmt.Errorf("%w: key field %s: missing or unreadable", errUnusable, j.cfg.KeyField)
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case int32:
		return strconv.FormatInt(int64(v), 10), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case []byte:
		return string(v), nil
	}
	return "", fmt.Errorf("%w: key field %s is a %T, not a string, int, long or bytes", errUnusable, j.cfg.KeyField, v)
}

// label reads a labels record.
func (j *LabelJoin) label(r *kgo.Record) (online.Label, error) {
	rec, err := j.decode(r.Value)
	if err != nil {
		return online.Label{}, err
	}
	key, err := j.key(r, rec)
	if err != nil {
		return online.Label{}, err
	}
	v, present, err := j.labelPath.Read(rec)
	if err != nil || !present || v == nil {
		return online.Label{}, fmt.Errorf("%w: label field %s: missing or unreadable", errUnusable, j.cfg.LabelField)
	}
	l := online.Label{Key: key, At: r.Timestamp}
	if j.cfg.Task == model.Regression {
		switch v := v.(type) {
		case float64:
			l.Value = v
		case float32:
			l.Value = float64(v)
		case int32:
			l.Value = float64(v)
		case int64:
			l.Value = float64(v)
		default:
			return online.Label{}, fmt.Errorf("%w: label field %s is a %T, not a number", errUnusable, j.cfg.LabelField, v)
		}
		return l, nil
	}
	switch v := v.(type) {
	case string:
		l.Class = v
	case bool:
		l.Class = strconv.FormatBool(v)
	case int32:
		l.Class = strconv.FormatInt(int64(v), 10)
	case int64:
		l.Class = strconv.FormatInt(v, 10)
	default:
		return online.Label{}, fmt.Errorf("%w: label field %s is a %T, not a class", errUnusable, j.cfg.LabelField, v)
	}
	return l, nil
}

// prediction reads an output or shadow record's prediction.
func (j *LabelJoin) prediction(r *kgo.Record, role string) (online.Prediction, error) {
	rec, err := j.decode(r.Value)
	if err != nil {
		return online.Prediction{}, err
	}
	key, err := j.key(r, rec)
	if err != nil {
		return online.Prediction{}, err
	}
	pred, ok := rec[serde.PredictionField].(map[string]any)
	if !ok {
		return online.Prediction{}, fmt.Errorf("%w: no %s field", errUnusable, serde.PredictionField)
	}
	version, _ := pred["model_version"].(string)
	p := online.Prediction{Key: key, Version: version, Role: role, At: r.Timestamp}
	if label, ok := pred["label"].(map[string]any); ok {
		p.Label, _ = label["string"].(string)
	}
	if value, ok := pred["value"].(map[string]any); ok {
		p.Score, _ = value["double"].(float64)
	}
	if scores, ok := pred["scores"].(map[string]any); ok && len(j.cfg.Labels) > 2 {
		p.Scores = make([]float64, len(j.cfg.Labels))
		for i, class := range j.cfg.Labels {
			p.Scores[i], _ = scores[class].(float64)
		}
	}
	return p, nil
}
