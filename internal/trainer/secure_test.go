package trainer_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/connect"
	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/securetest"
	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/internal/testkit"
	"github.com/streamscore/streamscore/internal/testkit/stackkit"
	"github.com/streamscore/streamscore/internal/trainer"
	"github.com/streamscore/streamscore/schemas"
)

// TestSecuredTrainer runs the trainer against a broker that requires
// SASL/SCRAM-SHA-256 over TLS and a registry that requires basic auth: a
// job trains from a topic and publishes to the catalog, and the catalog
// commands read it back. A wrong Kafka password or an untrusted CA stops
// New with the setting to check; a wrong registry password fails the
// training and names the registry. The API wants its token everywhere but
// /healthz, /readyz and /metrics. No secret reaches the logs, the metrics
// or an error.
func TestSecuredTrainer(t *testing.T) {
	const (
		topic        = "sensors.secured"
		kafkaUser    = "trainer"
		kafkaPass    = "kafka-pw-3f9c1e"
		registryUser = "trainer-sr"
		registryPass = "registry-pw-8d27aa"
		token        = "api-token-51b0c4"
	)
	secrets := []string{kafkaPass, registryPass, token}
	caFile, pool, serverTLS := securetest.CA(t)
	otherCAFile, _, _ := securetest.CA(t)
	stack := stackkit.Start(t, embedded.Config{Partitions: 2, KafkaOpts: []kfake.Opt{
		kfake.TLS(serverTLS), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", kafkaUser, kafkaPass),
	}})
	registryURL := securetest.Registry(t, registryUser, registryPass)
	clientOpts := []kgo.Opt{
		kgo.SeedBrokers(stack.Brokers()...), kgo.DialTLSConfig(&tls.Config{RootCAs: pool}),
		kgo.SASL(scram.Auth{User: kafkaUser, Pass: kafkaPass}.AsSha256Mechanism()),
	}
	produceSecured(t, clientOpts, registryURL, registryUser, registryPass, topic, 2000)

	// Everything the trainers log, as cmd/trainer's JSON logs would hold it.
	logs := &securetest.Logs{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var opts fit.Options
	if err := json.Unmarshal([]byte(`{"family": "gbdt", "features": ["temperature", "humidity", "vibration", "rssi", "sound"], "label": "anomaly", "params": {"num_trees": 10}}`), &opts); err != nil {
		t.Fatal(err)
	}
	config := func(kafkaPassword, ca, registryPassword string) trainer.Config {
		cfg := trainer.DefaultConfig()
		cfg.Kafka.Brokers = stack.Brokers()
		cfg.Kafka.SASL = connect.SASL{Mechanism: "SCRAM-SHA-256", Username: kafkaUser, Password: kafkaPassword}
		cfg.Kafka.TLS = connect.TLS{Enabled: true, CAFile: ca}
		cfg.Registry = connect.Registry{URL: registryURL, Username: registryUser, Password: registryPassword}
		cfg.HTTPAddr, cfg.APIToken = "127.0.0.1:0", token
		cfg.Jobs = []jobs.Job{{Name: "sensors", Source: catalog.Source{Topic: topic}, Options: opts}}
		return cfg
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errorTexts []string // every error seen, searched for secrets at the end

	refusals := []struct{ name, pass, ca, want string }{
		{"wrong Kafka password", "wrong-pw", caFile, "sasl-password"},
		{"untrusted CA", kafkaPass, otherCAFile, "not signed by a trusted CA: check tls-ca-file"},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			svc, err := trainer.New(ctx, config(r.pass, r.ca, registryPass), logger)
			if err == nil {
				svc.Close()
				t.Fatalf("New succeeded; want an error mentioning %s", r.want)
			}
			errorTexts = append(errorTexts, err.Error())
			if !errors.Is(err, connect.ErrUnreachable) || !strings.Contains(err.Error(), r.want) {
				t.Fatalf("New = %v; want ErrUnreachable mentioning %s", err, r.want)
			}
		})
	}

	// The registry is first asked when a job checks its paths against the
	// topic's latest schema, so a wrong registry password passes New and
	// fails the training.
	t.Run("wrong registry password", func(t *testing.T) {
		svc, err := trainer.New(ctx, config(kafkaPass, caFile, "wrong-pw"), logger)
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Close()
		_, err = svc.TrainOnce(ctx, "sensors", false)
		if err == nil {
			t.Fatal("the training succeeded with a wrong registry password")
		}
		errorTexts = append(errorTexts, err.Error())
		if !errors.Is(err, serde.ErrRegistryUnavailable) || !strings.Contains(err.Error(), "registry-password") {
			t.Fatalf("training failed with %q; want it to name the schema registry and registry-password", err)
		}
	})

	var metrics string
	t.Run("right credentials", func(t *testing.T) {
		svc, err := trainer.New(ctx, config(kafkaPass, caFile, registryPass), logger)
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Listen(); err != nil {
			svc.Close()
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- svc.Run(runCtx) }()
		defer func() {
			stop()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}()
		base := "http://" + svc.Addr()

		// The token guards the API; liveness, readiness and the metrics
		// (scraped by Prometheus, which holds no token: as in the scorer)
		// are open.
		auth := []struct {
			name, method, path, header string
			want                       int
		}{
			{"no token", "GET", "/models", "", http.StatusUnauthorized},
			{"wrong token", "GET", "/models", "Bearer not-" + token, http.StatusUnauthorized},
			{"not a bearer token", "GET", "/jobs", "Basic " + token, http.StatusUnauthorized},
			{"no token, trigger", "POST", "/jobs/sensors/train", "", http.StatusUnauthorized},
			{"right token", "GET", "/models", "Bearer " + token, http.StatusOK},
			{"right token, jobs", "GET", "/jobs", "Bearer " + token, http.StatusOK},
			{"healthz needs none", "GET", "/healthz", "", http.StatusOK},
			{"readyz needs none", "GET", "/readyz", "", http.StatusOK},
			{"metrics need none", "GET", "/metrics", "", http.StatusOK},
		}
		for _, a := range auth {
			if code, body := call(t, a.method, base+a.path, a.header); code != a.want {
				t.Errorf("%s: %s %s answered %d, want %d: %s", a.name, a.method, a.path, code, a.want, body)
			}
		}

		// A job, triggered over HTTP, trains through the secured
		// connections; Follow returns once the champion is published.
		if code, body := call(t, "POST", base+"/jobs/sensors/train", "Bearer "+token); code != http.StatusAccepted {
			t.Fatalf("trigger: %d %s", code, body)
		}
		followCtx, found := context.WithCancel(ctx)
		var champion catalog.Version
		err = svc.Catalog().Follow(followCtx, "sensors", "champion", func(v catalog.Version) { champion = v; found() })
		if ctx.Err() != nil || !errors.Is(err, context.Canceled) {
			t.Fatalf("no champion published: %v", err)
		}
		if champion.Version != 1 || champion.Source.Topic != topic {
			t.Fatalf("champion %+v", champion)
		}
		// The refused requests are counted, with no trace of the tokens.
		code, body := call(t, "GET", base+"/metrics", "")
		if want := `streamscore_api_requests_total{code="401",route="GET /models"} 2`; code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("metrics: %d, without %s", code, want)
		}
		metrics = body
	})

	// `trainer models` reads the catalog over the same connections, with
	// no jobs and so no registry.
	t.Run("models list", func(t *testing.T) {
		cfg := config(kafkaPass, caFile, registryPass)
		cfg.Jobs, cfg.Registry = nil, connect.Registry{}
		svc, err := trainer.New(ctx, cfg, logger)
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Close()
		c := svc.Catalog()
		if err := c.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(c.Models(), "sensors") || c.Aliases("sensors")[jobs.AliasChampion] != 1 {
			t.Errorf("models %q, aliases of sensors %v", c.Models(), c.Aliases("sensors"))
		}
	})

	securetest.NoSecrets(t, "the logs", logs.String(), secrets...)
	securetest.NoSecrets(t, "the metrics", metrics, secrets...)
	securetest.NoSecrets(t, "the errors", strings.Join(errorTexts, "\n"), secrets...)
	if !strings.Contains(logs.String(), `"component":"catalog"`) {
		t.Errorf("the trainers logged nothing: the search for secrets saw no logs:\n%s", logs.String())
	}
}

// call sends a body-less request with the Authorization header given (none
// if empty) and returns the status and body.
func call(t *testing.T, method, url, authorization string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// historySchema is the sensor reading schema with an "anomaly" label
// added, its record still named SensorReading.
func historySchema(t *testing.T) string {
	t.Helper()
	var s map[string]any
	if err := json.Unmarshal([]byte(schemas.SensorReading), &s); err != nil {
		t.Fatal(err)
	}
	s["fields"] = append(s["fields"].([]any), map[string]any{"name": "anomaly", "type": "boolean", "default": false})
	text, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(text)
}

// produceSecured is produceHistory through a broker reached with
// kafkaOpts and a registry that wants user and password.
func produceSecured(t *testing.T, kafkaOpts []kgo.Opt, registryURL, user, password, topic string, n int) {
	t.Helper()
	registry := srclient.NewSchemaRegistryClient(registryURL)
	registry.SetCredentials(user, password)
	registry.CodecCreationEnabled(false)
	sch := stackkit.Register(t, registry, topic+"-value", historySchema(t))
	client, err := kgo.NewClient(append(slices.Clip(kafkaOpts), kgo.AllowAutoTopicCreation())...)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	stackkit.ProduceSync(t, client, stackkit.Records(t, topic, sch, testkit.SensorRows(1, n))...)
}
