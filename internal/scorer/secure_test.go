package scorer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
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
)

// TestSecuredKafka runs the scorer against a broker that requires
// SASL/SCRAM-SHA-256 over TLS: it scores with the right credentials and CA,
// and refuses to start, saying why, with a wrong password or without the CA.
func TestSecuredKafka(t *testing.T) {
	const topic, user, password = "secured", "scorer", "s3cret-pass"
	caFile, serverTLS := testCA(t)
	stack, err := embedded.Start(embedded.Config{KafkaOpts: []kfake.Opt{
		kfake.TLS(serverTLS), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", user, password),
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()

	pool := x509.NewCertPool()
	pem, _ := os.ReadFile(caFile)
	pool.AppendCertsFromPEM(pem)
	producer, err := kgo.NewClient(kgo.SeedBrokers(stack.Brokers()...), kgo.AllowAutoTopicCreation(),
		kgo.DialTLSConfig(&tls.Config{RootCAs: pool}),
		kgo.SASL(scram.Auth{User: user, Pass: password}.AsSha256Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	reg := srclient.NewSchemaRegistryClient(stack.RegistryURL())
	schema, err := reg.CreateSchema(topic+"-value", sensorSchema, srclient.Avro)
	if err != nil {
		t.Fatal(err)
	}
	codec := mustCodec(t, sensorSchema)
	rec, _ := sample.NewSensors(2, 1, 0).Next()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := producer.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: frame(t, uint32(schema.ID()), codec, rec)}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	modelPath := trainSmallModel(t)
	config := func(pass, ca string) scorer.Config {
		cfg := scorer.DefaultConfig()
		cfg.Kafka.Brokers = stack.Brokers()
		cfg.Kafka.SASL = connectSASL("SCRAM-SHA-256", user, pass)
		cfg.Kafka.TLS.Enabled, cfg.Kafka.TLS.CAFile = true, ca
		cfg.Registry.URL = stack.RegistryURL()
		cfg.Stream.Topics, cfg.Stream.DeadLetterTopic = []string{topic}, topic+".dlq"
		cfg.Model.Path, cfg.HTTPAddr = modelPath, "127.0.0.1:0"
		return cfg
	}

	t.Run("right credentials", func(t *testing.T) {
		svc, err := scorer.New(config(password, caFile), nil)
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
		stop()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
	refusals := []struct{ name, pass, ca, want string }{
		{"wrong password", "wrong", caFile, "check sasl-mechanism, sasl-username and sasl-password"},
		{"untrusted certificate", password, "", "not signed by a trusted CA: check tls-ca-file"},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			_, err := scorer.New(config(r.pass, r.ca), nil)
			if err == nil || !strings.Contains(err.Error(), r.want) {
				t.Fatalf("scorer.New = %v; want an error mentioning %s", err, r.want)
			}
			if strings.Contains(err.Error(), r.pass) {
				t.Fatalf("the error reveals the password: %v", err)
			}
		})
	}
}

// testCA writes a CA certificate to a file and returns it with a server
// TLS config for 127.0.0.1 signed by it.
func testCA(t *testing.T) (string, *tls.Config) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "streamscore test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "broker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return caFile, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}
