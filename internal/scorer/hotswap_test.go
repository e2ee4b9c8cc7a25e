package scorer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/follow"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/scorer"
	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/internal/testkit"
	"github.com/streamscore/streamscore/internal/train"
)

// catalogModel is the catalog name the hot-swap tests serve.
const catalogModel = "sensor-anomaly"

// models is a test's model catalog on the embedded broker.
type models struct {
	t   *testing.T
	e   *env
	cat *catalog.Catalog
}

func (e *env) models() *models {
	e.t.Helper()
	cat, err := catalog.New([]kgo.Opt{kgo.SeedBrokers(e.stack.Brokers()...)}, catalog.DefaultTopic, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(cat.Close)
	return &models{t: e.t, e: e, cat: cat}
}

// sensorONNX trains a sensor model; models of different sizes score
// differently.
func sensorONNX(t *testing.T, trees, depth int) []byte {
	t.Helper()
	cfg := train.DefaultConfig()
	cfg.MaxIter, cfg.MaxDepth = trees, depth
	onnxBytes, err := sample.SensorModel(context.Background(), sample.SensorSpec(catalogModel, ""), cfg, 2000)
	if err != nil {
		t.Fatal(err)
	}
	return onnxBytes
}

// publish stores artifact as the next version of the test model, with
// spec (the sensor spec if nil), and returns its number.
func (m *models) publish(artifact []byte, spec *model.Spec) int {
	m.t.Helper()
	v := catalog.Version{Name: catalogModel, Family: "gbdt", Spec: sample.SensorSpec(catalogModel, "")}
	if spec != nil {
		v.Spec = *spec
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := m.cat.Publish(ctx, v, artifact)
	if err != nil {
		m.t.Fatalf("publish: %v", err)
	}
	return got.Version
}

// point moves alias to version.
func (m *models) point(alias string, version int) {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := m.cat.SetAlias(ctx, catalogModel, alias, version, "test", false); err != nil {
		m.t.Fatalf("set %s to %d: %v", alias, version, err)
	}
}

// catalogConfig serves the test model's champion from the catalog.
func (e *env) catalogConfig(topic string) scorer.Config {
	cfg := e.config(topic)
	cfg.Model.Path, cfg.Model.Name = "", catalogModel
	return cfg
}

// streamer produces sensor readings to topic, 10 every 2 ms at most (the
// pace of a live stream, not a backlog), until stopped.
type streamer struct {
	stop func() int // stops producing; returns how many records were produced
}

func (e *env) stream(topic string, id uint32) *streamer {
	e.t.Helper()
	codec := mustCodec(e.t, sensorSchema)
	gen := sample.NewSensors(3, 30, 0.05)
	ctx, cancel := context.WithCancel(context.Background())
	var produced int
	done := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		defer close(done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for ctx.Err() == nil {
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
			var records []*kgo.Record
			for range 10 {
				rec, _ := gen.Next()
				value, err := codec.BinaryFromNative(serde.AppendFrame(nil, uint32(id)), rec)
				if err != nil {
					errs <- err
					return
				}
				records = append(records, &kgo.Record{Topic: topic, Key: []byte(rec["device_id"].(string)), Value: value})
			}
			// Not ctx: a batch begun is finished, so produced counts it.
			if err := e.client.ProduceSync(context.Background(), records...).FirstErr(); err != nil {
				errs <- err
				return
			}
			produced += len(records)
		}
	}()
	s := &streamer{}
	s.stop = func() int {
		cancel()
		<-done
		select {
		case err := <-errs:
			e.t.Fatalf("producing: %v", err)
		default:
		}
		return produced
	}
	e.t.Cleanup(func() { s.stop() })
	return s
}

// version returns the model version an output names, checking that its
// header and its prediction agree.
func version(t *testing.T, e *env, out *kgo.Record) string {
	t.Helper()
	pred := decodeFramed(t, e, out.Value)["prediction"].(map[string]any)
	v := pred["model_version"].(string)
	if h := header(out, deadletter.HeaderModel); h != pred["model_name"].(string)+"@"+v {
		t.Fatalf("%s: header names %s, prediction %s@%s", sourceOf(out), h, pred["model_name"], v)
	}
	return v
}

// TestHotSwapMidStream streams records into a scorer serving the
// catalog's champion, moves the champion to a new version while records
// flow, and checks by offsets that every input has exactly one output:
// none lost or repeated at the swap. Outputs before the move name v1,
// those produced after the swap was seen name v2, and in each partition
// the version changes once, from v1 to v2, never back.
func TestHotSwapMidStream(t *testing.T) {
	for _, exactlyOnce := range []bool{false, true} {
		t.Run(map[bool]string{false: "at least once", true: "exactly once"}[exactlyOnce], func(t *testing.T) {
			const topic = "hotswap"
			e := newEnv(t, topic)
			id, _ := e.register(topic+"-value", sensorSchema)
			m := e.models()
			v1 := m.publish(sensorONNX(t, 10, 3), nil)
			m.point("champion", v1)
			cfg := e.catalogConfig(topic)
			read := e.consumeUntil
			if exactlyOnce {
				cfg.Stream.ExactlyOnce, cfg.Stream.TransactionalID = true, "hotswap-test"
				read = e.consumeCommitted
			}
			svc, stop := e.start(cfg)

			producer := e.stream(topic, id)
			before := read(200, topic+".scored")
			v2 := m.publish(sensorONNX(t, 30, 5), nil)
			m.point("champion", v2)
			testkit.WaitFor(t, "the scorer swapped models", func() bool {
				return metricValue(t, svc.Metrics(), "streamscore_model_swaps_total") == 1
			})
			if code, body := getReady(t, svc); code != http.StatusOK || !strings.Contains(body, "version "+strconv.Itoa(v2)) {
				t.Errorf("/readyz after the swap: %d %q, want 200 naming version %d", code, body, v2)
			}
			produced := producer.stop()
			after := e.produceReadings(topic, id, 300) // polled after the swap: in batches begun after it
			read(produced+len(after), topic+".scored")
			if err := stop(); err != nil {
				t.Fatalf("scorer run: %v", err)
			}

			// Everything there is, duplicates included, now that the scorer
			// stopped (transaction markers take offsets: read to a fence).
			var outputs []*kgo.Record
			if exactlyOnce {
				outputs = e.readAllCommitted(topic + ".scored")
			} else {
				outputs = e.consumeAvailable(topic + ".scored")
			}
			if lost, duplicated := e.tally(topic, outputs); lost > 0 || duplicated > 0 || len(outputs) != produced+len(after) {
				t.Fatalf("%d outputs for %d inputs: %d inputs without one, %d duplicates", len(outputs), produced+len(after), lost, duplicated)
			}
			for _, out := range before {
				if v := version(t, e, out); v != strconv.Itoa(v1) {
					t.Fatalf("%s, scored before the champion moved, names version %s, want %d", sourceOf(out), v, v1)
				}
			}
			afterSources := map[string]bool{}
			for _, r := range after {
				afterSources[coordinates(r)] = true
			}
			switchesOnce(t, e, outputs, v1, v2, afterSources)
			if got := metricValue(t, svc.Metrics(), "streamscore_model_load_failures_total"); got != 0 {
				t.Errorf("%v load failures", got)
			}
		})
	}
}

// switchesOnce checks that in each partition, in offset order, outputs
// name version v1 and then v2, switching once and never back, that some
// partition switched, and that the outputs of the inputs in after all name v2.
func switchesOnce(t *testing.T, e *env, outputs []*kgo.Record, v1, v2 int, after map[string]bool) {
	t.Helper()
	perPartition := map[string][]*kgo.Record{}
	for _, out := range outputs {
		p := header(out, deadletter.HeaderSourcePartition)
		perPartition[p] = append(perPartition[p], out)
	}
	swapped := 0
	for p, outs := range perPartition {
		slices.SortFunc(outs, func(a, b *kgo.Record) int {
			return compareOffsets(header(a, deadletter.HeaderSourceOffset), header(b, deadletter.HeaderSourceOffset))
		})
		changes, last := 0, strconv.Itoa(v1)
		for _, out := range outs {
			v := version(t, e, out)
			if after[sourceOf(out)] && v != strconv.Itoa(v2) {
				t.Fatalf("%s, produced after the swap, names version %s, want %d", sourceOf(out), v, v2)
			}
			if v != last {
				changes++
				if v != strconv.Itoa(v2) || changes > 1 {
					t.Fatalf("partition %s: version %s follows %s at offset %s: versions interleave", p, v, last, header(out, deadletter.HeaderSourceOffset))
				}
				last = v
			}
		}
		swapped += changes
	}
	if swapped == 0 {
		t.Fatal("no partition changed version")
	}
}

// getReady asks the scorer's /readyz.
func getReady(t *testing.T, svc *scorer.Service) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + svc.Addr() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func compareOffsets(a, b string) int {
	x, _ := strconv.ParseInt(a, 10, 64)
	y, _ := strconv.ParseInt(b, 10, 64)
	return int(x - y)
}

// produceReadings produces n sensor readings synchronously and returns them.
func (e *env) produceReadings(topic string, id uint32, n int) []*kgo.Record {
	e.t.Helper()
	codec := mustCodec(e.t, sensorSchema)
	gen := sample.NewSensors(9, 30, 0.05)
	records := make([]*kgo.Record, n)
	for i := range records {
		rec, _ := gen.Next()
		records[i] = &kgo.Record{Topic: topic, Key: []byte(rec["device_id"].(string)), Value: frame(e.t, id, codec, rec)}
	}
	return e.produce(records...)
}

// TestCorruptVersionRefused moves the champion to versions that must not
// serve, one after another: an artifact that is not ONNX, a model whose
// spec reads a field the input schema lacks, and an artifact altered in the
// catalog topic after it was published. Each is refused and counted under
// its reason while v1 keeps serving; a good version after them is taken.
func TestCorruptVersionRefused(t *testing.T) {
	const topic = "refuse"
	e := newEnv(t, topic)
	id, _ := e.register(topic+"-value", sensorSchema)
	m := e.models()
	good := sensorONNX(t, 10, 3)
	v1 := m.publish(good, nil)
	m.point("champion", v1)
	svc, stop := e.start(e.catalogConfig(topic))
	scored := 0
	// expectServing produces readings and checks that their outputs name want.
	expectServing := func(want int, what string) {
		t.Helper()
		fresh := map[string]bool{}
		for _, r := range e.produceReadings(topic, id, 50) {
			fresh[coordinates(r)] = true
		}
		scored += len(fresh)
		for _, out := range e.consumeUntil(scored, topic+".scored") {
			if !fresh[sourceOf(out)] {
				continue
			}
			delete(fresh, sourceOf(out))
			if v := version(t, e, out); v != strconv.Itoa(want) {
				t.Fatalf("%s: %s names version %s, want %d", what, sourceOf(out), v, want)
			}
		}
		if len(fresh) > 0 {
			t.Fatalf("%s: %d inputs without an output", what, len(fresh))
		}
	}
	expectServing(v1, "at start")

	misfit := sample.SensorSpec(catalogModel, "")
	misfit.Inputs[0].Fields[0].Field = "temperature_kelvin" // not in the schema, no default
	cases := []struct {
		name    string
		publish func() int
		reason  string
	}{
		{"artifact is not ONNX", func() int { return m.publish([]byte("this is not an ONNX model"), nil) }, follow.FailBadModel},
		{"spec does not fit the input schema", func() int { return m.publish(good, &misfit) }, follow.FailSchema},
		{"artifact altered in the catalog", func() int { v := m.publish(good, nil); m.alterChunk(v); return v }, follow.FailCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := c.publish()
			m.point("champion", v)
			testkit.WaitFor(t, "version "+strconv.Itoa(v)+" was refused", func() bool {
				return labeledValue(t, svc.Metrics(), "streamscore_model_load_failures_total", "reason", c.reason) == 1
			})
			expectServing(v1, "after refusing "+c.name)
		})
	}
	if got := metricValue(t, svc.Metrics(), "streamscore_model_load_failures_total"); got != float64(len(cases)) {
		t.Errorf("%v load failures counted, want %d", got, len(cases))
	}
	if got := metricValue(t, svc.Metrics(), "streamscore_model_swaps_total"); got != 0 {
		t.Errorf("%v swaps while only bad versions came", got)
	}

	v5 := m.publish(sensorONNX(t, 30, 5), nil)
	m.point("champion", v5)
	testkit.WaitFor(t, "the good version was swapped in", func() bool {
		return metricValue(t, svc.Metrics(), "streamscore_model_swaps_total") == 1
	})
	expectServing(v5, "after a good version")
	if err := stop(); err != nil {
		t.Fatalf("scorer run: %v", err)
	}
	if lost, duplicated := e.tally(topic, e.consumeUntil(scored, topic+".scored")); lost > 0 || duplicated > 0 {
		t.Fatalf("%d inputs without an output, %d duplicates", lost, duplicated)
	}
}

// alterChunk rewrites the first artifact chunk of version v in the catalog
// topic with other bytes, as a bad write or a tampering would.
func (m *models) alterChunk(v int) {
	m.t.Helper()
	prefix := fmt.Sprintf("%s/v/%d/", catalogModel, v)
	var key []byte
	for _, r := range m.e.consumeAvailable(catalog.DefaultTopic) {
		if k := string(r.Key); strings.HasPrefix(k, prefix) && strings.HasSuffix(k, "/chunk/0") {
			key = r.Key
		}
	}
	if key == nil {
		m.t.Fatalf("no chunk 0 of version %d in the catalog topic", v)
	}
	m.e.produce(&kgo.Record{Topic: catalog.DefaultTopic, Partition: 0, Key: key, Value: []byte("altered bytes")})
}

// TestShadowScoring serves the champion with the challenger as shadow:
// every input gets a primary output naming the champion and a shadow
// output, on the shadow topic, naming the challenger; when the challenger
// moves, the records scored after it are shadowed by the new one.
func TestShadowScoring(t *testing.T) {
	const topic, n = "shadowed", 600
	e := newEnv(t, topic)
	id, _ := e.register(topic+"-value", sensorSchema)
	m := e.models()
	champion := m.publish(sensorONNX(t, 10, 3), nil)
	challenger := m.publish(sensorONNX(t, 30, 5), nil)
	m.point("champion", champion)
	m.point("challenger", challenger)
	cfg := e.catalogConfig(topic)
	cfg.Model.ShadowAlias = "challenger"
	e.produceReadings(topic, id, n)
	svc, stop := e.start(cfg)

	e.consumeUntil(n, topic+".scored")
	e.consumeUntil(n, topic+".shadow")

	// The challenger moves: records scored from then on are shadowed by it.
	next := m.publish(sensorONNX(t, 20, 4), nil)
	m.point("challenger", next)
	testkit.WaitFor(t, "the new challenger shadows", func() bool {
		return labeledValue(t, svc.Metrics(), "streamscore_shadow_model_info", "version", strconv.Itoa(next)) == 1
	})
	later := map[string]bool{}
	for _, r := range e.produceReadings(topic, id, 50) {
		later[coordinates(r)] = true
	}
	primary := e.consumeUntil(n+50, topic+".scored")
	shadows := e.consumeUntil(n+50, topic+".shadow")
	if err := stop(); err != nil {
		t.Fatalf("scorer run: %v", err)
	}

	checks := []struct {
		name              string
		results           []*kgo.Record
		version, laterVer int
	}{{"primary", primary, champion, champion}, {"shadow", shadows, challenger, next}}
	for _, c := range checks {
		if lost, duplicated := e.tally(topic, c.results); lost > 0 || duplicated > 0 {
			t.Errorf("%s: %d inputs without a result, %d duplicates", c.name, lost, duplicated)
		}
		for _, r := range c.results {
			want := c.version
			if later[sourceOf(r)] {
				want = c.laterVer
			}
			if v := version(t, e, r); v != strconv.Itoa(want) {
				t.Fatalf("%s result for %s names version %s, want %d", c.name, sourceOf(r), v, want)
			}
		}
	}
	if got := labeledValue(t, svc.Metrics(), "streamscore_shadow_model_info", "version", strconv.Itoa(challenger)); got != 0 {
		t.Errorf("the old challenger is still shown as shadowing")
	}
	differ := 0
	shadowOf := map[string]*kgo.Record{}
	for _, r := range shadows {
		shadowOf[sourceOf(r)] = r
	}
	for _, p := range primary {
		s := shadowOf[sourceOf(p)]
		if s != nil && decodeFramed(t, e, p.Value)["prediction"].(map[string]any)["scores"].(map[string]any)["anomaly"] !=
			decodeFramed(t, e, s.Value)["prediction"].(map[string]any)["scores"].(map[string]any)["anomaly"] {
			differ++
		}
	}
	if differ == 0 {
		t.Error("no shadow score differs from its primary one")
	}
	if got := metricValue(t, svc.Metrics(), "streamscore_shadow_failures_total"); got != 0 {
		t.Errorf("%v shadow failures", got)
	}
	if got := metricValue(t, svc.Metrics(), "streamscore_shadow_records_out_total"); got != n+50 {
		t.Errorf("%v shadow results counted, want %d", got, n+50)
	}
}

// TestCatalogModelMissingAtStart checks that a scorer told to serve a
// model or an alias the catalog lacks does not start, and says which.
func TestCatalogModelMissingAtStart(t *testing.T) {
	const topic = "missing"
	e := newEnv(t, topic)
	e.register(topic+"-value", sensorSchema)
	m := e.models()
	m.point("champion", m.publish(sensorONNX(t, 5, 2), nil))
	cases := []struct {
		name, model, alias string
		want               []string
	}{
		{"unknown model", "no-such-model", "champion", []string{`model-name "no-such-model"`, `model "no-such-model": not found`}},
		{"unknown alias", catalogModel, "stable", []string{`model-alias "stable"`, `alias "stable": not found`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := e.catalogConfig(topic)
			cfg.Model.Name, cfg.Model.Alias = c.model, c.alias
			_, err := scorer.New(cfg, nil)
			if !errors.Is(err, catalog.ErrNotFound) {
				t.Fatalf("scorer.New = %v, want catalog.ErrNotFound", err)
			}
			for _, want := range c.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

// TestVersionRetriedAfterRegistryOutage moves the champion while the
// schema registry is down: the new version cannot be checked against the
// input schema, which says nothing about it, so it is counted as
// unavailable and tried again, and swapped in once the registry is back.
func TestVersionRetriedAfterRegistryOutage(t *testing.T) {
	o := newOutage(t, "swap-outage")
	m := o.models()
	v1 := m.publish(sensorONNX(t, 10, 3), nil)
	m.point("champion", v1)
	cfg := o.config()
	cfg.Model.Path, cfg.Model.Name = "", catalogModel
	svc, stop := o.start(cfg)
	scored := o.topic + ".scored"
	o.produce(0, 5, o.known)
	o.consumeUntil(5, scored)

	o.down.Store(true)
	v2 := m.publish(sensorONNX(t, 30, 5), nil)
	m.point("champion", v2)
	testkit.WaitFor(t, "the new version failed for want of the registry", func() bool {
		return labeledValue(t, svc.Metrics(), "streamscore_model_load_failures_total", "reason", follow.FailUnavailable) >= 1
	})
	if got := metricValue(t, svc.Metrics(), "streamscore_model_swaps_total"); got != 0 {
		t.Fatalf("%v swaps while the new version could not be checked", got)
	}
	o.produce(0, 5, o.known) // cached schema: scored by v1 meanwhile
	o.down.Store(false)
	testkit.WaitFor(t, "the new version was swapped in after the outage", func() bool {
		return metricValue(t, svc.Metrics(), "streamscore_model_swaps_total") == 1
	})
	o.produce(0, 5, o.known)
	outputs := o.consumeUntil(15, scored)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for i, out := range fromPartition(outputs, "0") {
		want := v1
		if i >= 10 {
			want = v2
		}
		if v := version(t, o.env, out); v != strconv.Itoa(want) {
			t.Fatalf("output %d names version %s, want %d", i, v, want)
		}
	}
}

// TestVersionCheckedAgainstTheLatestSchema evolves the input schema after
// the scorer started, dropping a field, then moves the champion to a
// version that reads that field: it is checked against the schema latest
// now, not at start, and refused.
func TestVersionCheckedAgainstTheLatestSchema(t *testing.T) {
	const topic = "evolving"
	e := newEnv(t, topic)
	id, _ := e.register(topic+"-value", sensorSchema)
	m := e.models()
	v1 := m.publish(sensorONNX(t, 10, 3), nil)
	m.point("champion", v1)
	svc, stop := e.start(e.catalogConfig(topic))
	e.produceReadings(topic, id, 5)
	e.consumeUntil(5, topic+".scored")

	e.register(topic+"-value", strings.Replace(sensorSchema, `{"name": "co2", "type": "double", "doc": "CO2 concentration, ppm."},`, "", 1))
	m.point("champion", m.publish(sensorONNX(t, 30, 5), nil)) // reads co2
	testkit.WaitFor(t, "the version was refused", func() bool {
		return labeledValue(t, svc.Metrics(), "streamscore_model_load_failures_total", "reason", follow.FailSchema) == 1
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := metricValue(t, svc.Metrics(), "streamscore_model_swaps_total"); got != 0 {
		t.Fatalf("%v swaps to a version the latest schema cannot feed", got)
	}
}
