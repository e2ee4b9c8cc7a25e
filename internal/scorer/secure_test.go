package scorer_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/scorer"
	"github.com/streamscore/streamscore/internal/securetest"
	"github.com/streamscore/streamscore/internal/testkit/stackkit"
)

// TestSecuredKafka runs the scorer against a broker that requires
// SASL/SCRAM-SHA-256 over TLS and a schema registry that requires basic
// auth: it scores with the right credentials and CA, and refuses to start,
// saying why, with a wrong password or without the CA; no password appears
// in its logs, its metrics or its errors.
func TestSecuredKafka(t *testing.T) {
	const topic, user, password = "secured", "scorer", "s3cret-pass"
	const registryUser, registryPassword = "reader", "r3gistry-pass"
	caFile, pool, serverTLS := securetest.CA(t)
	registryURL := securetest.Registry(t, registryUser, registryPassword)
	logs := &securetest.Logs{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	stack := stackkit.Start(t, embedded.Config{KafkaOpts: []kfake.Opt{
		kfake.TLS(serverTLS), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", user, password),
	}})
	producer := stack.Client(t, kgo.DialTLSConfig(&tls.Config{RootCAs: pool}),
		kgo.SASL(scram.Auth{User: user, Pass: password}.AsSha256Mechanism()))
	reg := srclient.NewSchemaRegistryClient(registryURL)
	reg.SetCredentials(registryUser, registryPassword)
	schema := stackkit.Register(t, reg, topic+"-value", sensorSchema)
	rec, _ := sample.NewSensors(2, 1, 0).Next()
	stackkit.ProduceSync(t, producer, &kgo.Record{Topic: topic, Value: schema.Frame(t, rec)})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	modelPath := trainSmallModel(t)
	config := func(pass, ca string) scorer.Config {
		cfg := scorer.DefaultConfig()
		cfg.Kafka.Brokers = stack.Brokers()
		cfg.Kafka.SASL = connectSASL("SCRAM-SHA-256", user, pass)
		cfg.Kafka.TLS.Enabled, cfg.Kafka.TLS.CAFile = true, ca
		cfg.Registry.URL, cfg.Registry.Username, cfg.Registry.Password = registryURL, registryUser, registryPassword
		cfg.Stream.Topics, cfg.Stream.DeadLetterTopic = []string{topic}, topic+".dlq"
		cfg.Model.Path, cfg.HTTPAddr = modelPath, "127.0.0.1:0"
		return cfg
	}

	t.Run("right credentials", func(t *testing.T) {
		svc, err := scorer.New(config(password, caFile), logger)
		if err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- svc.Run(runCtx) }()
		consumer, err := kgo.NewClient(kgo.SeedBrokers(stack.Brokers()...), kgo.ConsumeTopics(topic+".scored"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DialTLSConfig(&tls.Config{RootCAs: pool}),
			kgo.SASL(scram.Auth{User: user, Pass: password}.AsSha256Mechanism()))
		if err != nil {
			t.Fatal(err)
		}
		defer consumer.Close()
		if fetches := consumer.PollRecords(ctx, 1); len(fetches.Records()) != 1 {
			t.Fatalf("no scored record over SASL/TLS: %v", fetches.Errors())
		}
		resp, err := http.Get("http://" + svc.Addr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		stop()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		securetest.NoSecrets(t, "metrics", string(metrics), password, registryPassword)
	})
	refusals := []struct{ name, pass, ca, want string }{
		{"wrong password", "wr0ng-pass", caFile, "check sasl-mechanism, sasl-username and sasl-password"},
		{"untrusted certificate", password, "", "not signed by a trusted CA: check tls-ca-file"},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			_, err := scorer.New(config(r.pass, r.ca), logger)
			if err == nil || !strings.Contains(err.Error(), r.want) {
				t.Fatalf("scorer.New = %v; want an error mentioning %s", err, r.want)
			}
			securetest.NoSecrets(t, "the error", err.Error(), password, registryPassword, r.pass)
		})
	}
	if logs.String() == "" {
		t.Fatal("the scorer logged nothing: the search for secrets would prove nothing")
	}
	securetest.NoSecrets(t, "logs", logs.String(), password, registryPassword, "wr0ng-pass")
}
