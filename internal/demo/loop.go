package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/trainer"
)

// The closed loop's topics and model: the sensor scorer serves the
// catalog's sensorModel, its challenger's results to shadowTopic, writes
// its monitoring windows to monitorTopic and joins the true labels of
// labelsTopic; the trainer retrains from
// historyTopic, the readings with their label.
const (
	sensorModel  = "sensor-anomaly"
	historyTopic = sensorTopic + ".history"
	labelsTopic  = sensorTopic + ".labels"
	monitorTopic = sensorTopic + ".monitor"
	shadowTopic  = sensorTopic + ".shadow"
)

// How the loop's rules relate to the monitoring window: the drift must
// last driftWindows windows before the trainer retrains, and a training
// reads the last trainWindows windows of history. With trainWindows at
// most driftWindows - 1, a training the drift asked for reads only records
// from after the shift: a run of drifting windows starts at most one
// window before the shift, and lasts driftWindows. The retrained version's
// reference is then the new normal, and its own windows do not drift.
const (
	driftWindows = 4
	trainWindows = 3
)

// sensorJob is the trainer's job for the sensor model: gradient-boosted
// trees over the ten sensor fields, retrained when the champion's inputs
// drift, promoted when live labels show the new version better.
//
// A drift window counts if it holds a quarter of the readings the rate
// offers in it, at most the trainer's default: at low rates the default
// would never be met, and the loop never close.
func sensorJob(window time.Duration, rate int) (jobs.Job, error) {
	features, err := json.Marshal(sample.SensorFeatures)
	if err != nil {
		return jobs.Job{}, err
	}
	opts, err := fit.ParseOptions([]byte(`{"family": "gbdt", "features": ` + string(features) +
		`, "defaults": {"battery_volts": 3.3}, "label": "anomaly"}`))
	if err != nil {
		return jobs.Job{}, err
	}
	return jobs.Job{
		Name: sensorModel, Source: catalog.Source{Topic: historyTopic}, Options: opts,
		Window:  trainWindows * window,
		Promote: jobs.PromoteOnline,
		// A thousand labelled readings hold about fifty anomalies: enough
		// for DeLong's test to tell the models apart after the shift.
		Online: &jobs.Online{MinLabelled: 1000, Alpha: 0.05},
		OnDrift: &jobs.OnDrift{Topic: monitorTopic, PSI: jobs.DefaultDriftPSI, For: driftWindows * window,
			MinRecords: max(1, min(jobs.DefaultDriftMinRecords, int64(float64(rate)*window.Seconds()/4)))},
	}, nil
}

// newTrainer builds the trainer service with the sensor job, listening on
// the configured address.
func newTrainer(ctx context.Context, cfg Config, stack *embedded.Stack, job jobs.Job) (*trainer.Service, error) {
	tc := trainer.DefaultConfig()
	tc.Kafka.Brokers = stack.Brokers()
	tc.Registry.URL = stack.RegistryURL()
	tc.HTTPAddr = cfg.TrainerHTTPAddr
	tc.ORTLibrary = cfg.Library
	tc.Jobs = []jobs.Job{job}
	svc, err := trainer.New(ctx, tc, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	if err := svc.Listen(); err != nil {
		svc.Close()
		return nil, fmt.Errorf("trainer: %w", err)
	}
	return svc, nil
}

// firstVersion writes a training window of unshifted history and trains
// the champion from it, so that the scorer starts with a model that fits
// the stream until the shift. A later run of the demo finds a champion
// from the last one, fitted to the shifted stream: its training is forced.
func firstVersion(ctx context.Context, cfg Config, svc *trainer.Service, prod *producer) error {
	_, err := svc.Catalog().Resolve(sensorModel, jobs.AliasChampion)
	earlier := err == nil
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		return err
	}
	start := time.Now()
	n := int(float64(cfg.Rate) * (trainWindows * cfg.MonitorWindow).Seconds())
	if err := prod.history(ctx, n); err != nil {
		return err
	}
	out, err := svc.TrainOnce(ctx, sensorModel, earlier)
	if err != nil {
		return err
	}
	fmt.Fprintf(cfg.Out, "model     %s v%d from the catalog: trained on %d readings of %s in %v, holdout AUC %.3f; champion (%s)\n",
		sensorModel, out.Version.Version, out.Records, historyTopic, time.Since(start).Round(time.Millisecond),
		out.Version.Metrics[fit.MetricAUC], out.Reason)
	return nil
}

// labelSchema is a true label, written to labelsTopic some seconds after
// its reading under the reading's key.
const labelSchema = `{"type": "record", "name": "SensorLabel", "namespace": "io.streamscore.sensors",
 "doc": "The truth about one sensor reading, learnt after it was scored; keyed as the reading was.",
 "fields": [{"name": "label", "type": "boolean", "doc": "Whether the reading was an anomaly."}]}`
