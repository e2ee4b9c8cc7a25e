// Package connect turns connection settings for Kafka and the schema
// registry into clients. The scorer and the trainer share it, so both speak
// to secured clusters the same way.
package connect

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Kafka holds the settings to reach a Kafka cluster.
type Kafka struct {
	Brokers  []string `yaml:"brokers"`
	ClientID string   `yaml:"client_id"`
	SASL     SASL     `yaml:"sasl"`
	TLS      TLS      `yaml:"tls"`
}

// SASL authentication. Mechanism is empty (none), PLAIN, SCRAM-SHA-256 or
// SCRAM-SHA-512.
type SASL struct {
	Mechanism string `yaml:"mechanism"`
	Username  string `yaml:"username"`
	Password  string `yaml:"password"`
}

// TLS settings. CAFile adds a trusted CA; CertFile and KeyFile give a client
// certificate for mutual TLS.
type TLS struct {
	Enabled  bool   `yaml:"enabled"`
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName overrides the name checked in the broker's certificate.
	ServerName string `yaml:"server_name"`
}

// ErrBadConnection marks connection settings that cannot work.
var ErrBadConnection = errors.New("invalid connection settings")

// Validate checks the settings without connecting.
func (k Kafka) Validate() error {
	var problems []string
	if len(k.Brokers) == 0 {
		problems = append(problems, "brokers: at least one seed broker is required")
	}
	switch strings.ToUpper(k.SASL.Mechanism) {
	case "":
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if k.SASL.Username == "" {
			problems = append(problems, "sasl-username: required with a SASL mechanism")
		}
	default:
		problems = append(problems, fmt.Sprintf("sasl-mechanism: %q is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", k.SASL.Mechanism))
	}
	if (k.TLS.CertFile == "") != (k.TLS.KeyFile == "") {
		problems = append(problems, "tls-cert-file and tls-key-file: give both or neither")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrBadConnection, strings.Join(problems, "; "))
	}
	return nil
}

// Opts returns the franz-go options for these settings.
func (k Kafka) Opts() ([]kgo.Opt, error) {
	if err := k.Validate(); err != nil {
		return nil, err
	}
	opts := []kgo.Opt{kgo.SeedBrokers(k.Brokers...)}
	if k.ClientID != "" {
		opts = append(opts, kgo.ClientID(k.ClientID))
	}
	if k.TLS.enabled() {
		cfg, err := k.TLS.config()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	switch strings.ToUpper(k.SASL.Mechanism) {
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: k.SASL.Username, Pass: k.SASL.Password}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: k.SASL.Username, Pass: k.SASL.Password}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: k.SASL.Username, Pass: k.SASL.Password}.AsSha512Mechanism()))
	}
	return opts, nil
}

func (t TLS) enabled() bool { return t.Enabled || t.CAFile != "" || t.CertFile != "" }

func (t TLS) config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: tls-ca-file: %w", ErrBadConnection, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: tls-ca-file %s holds no PEM certificate", ErrBadConnection, t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: client certificate: %w", ErrBadConnection, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// Registry holds the settings to reach a Confluent-compatible schema
// registry.
type Registry struct {
	URL      string        `yaml:"url"`
	Username string        `yaml:"username"`
	Password string        `yaml:"password"`
	Timeout  time.Duration `yaml:"timeout"`
}

// Validate checks the settings without connecting.
func (r Registry) Validate() error {
	if r.URL == "" {
		return fmt.Errorf("%w: registry-url: required", ErrBadConnection)
	}
	if !strings.HasPrefix(r.URL, "http://") && !strings.HasPrefix(r.URL, "https://") {
		return fmt.Errorf("%w: registry-url: %q is not an http(s) URL", ErrBadConnection, r.URL)
	}
	return nil
}
