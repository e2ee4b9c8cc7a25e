// Package connect turns connection settings for Kafka and the schema
// registry into clients. The scorer and the trainer share it, so both speak
// to secured clusters the same way.
package connect

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// DefaultMaxDecompressedBatchBytes bounds what one fetched record batch may
// decompress to, for the scorer's and the trainer's consumers: 32 times the
// largest batch a producer sends by default (1 MiB), room for any real
// compression ratio, and a bound on a bomb. franz-go's own is 1 GiB.
const DefaultMaxDecompressedBatchBytes = 32 << 20

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
	for _, b := range k.Brokers {
		if err := checkBroker(b); err != nil {
			problems = append(problems, "brokers: "+err.Error())
		}
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

// checkBroker refuses a seed broker that is not host, host:port or an IPv6
// address with or without a port. franz-go would take anything else for
// an IPv6 literal and print it whole in its dial errors, so a pasted
// "SASL_SSL://user:password@host:9092" would show its password. The error
// quotes b redacted, and without a port that is not a number ("user:pw").
func checkBroker(b string) error {
	shown := strconv.Quote(Redact(b))
	if err := brokerProblem(b); err != nil {
		if errors.Is(err, errBadPort) {
			host, _, _ := strings.Cut(b, ":")
			if end := strings.Index(b, "]"); strings.HasPrefix(b, "[") && end > 0 {
				host = b[:end+1]
			}
			shown = strconv.Quote(host + ":" + redacted)
		}
		return fmt.Errorf("%s %w", shown, err)
	}
	return nil
}

var errBadPort = errors.New("has a port that is not between 1 and 65535")

func brokerProblem(b string) error {
	if b == "" || strings.ContainsFunc(b, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return errors.New("is empty or holds a space or control character")
	}
	if strings.ContainsAny(b, "@/?#") {
		return errors.New("is not host:port: brokers take no scheme or credentials (use sasl-username and sasl-password)")
	}
	host, port := b, ""
	switch {
	case strings.HasPrefix(b, "["):
		end := strings.Index(b, "]")
		if end < 0 {
			return errors.New("is not [IPv6]:port: no closing bracket")
		}
		host, port = b[1:end], strings.TrimPrefix(b[end+1:], ":")
		if b[end+1:] != "" && !strings.HasPrefix(b[end+1:], ":") {
			return errors.New("is not [IPv6]:port")
		}
		if net.ParseIP(host) == nil {
			return errors.New("is not [IPv6]:port: not an IPv6 address in the brackets")
		}
	case strings.Count(b, ":") > 1:
		// A bare IPv6 address; franz-go adds the default port.
		if net.ParseIP(b) == nil {
			return errors.New("is not host:port")
		}
		return nil
	case strings.Contains(b, ":"):
		host, port, _ = strings.Cut(b, ":")
	}
	if host == "" {
		return errors.New("names no host")
	}
	if port != "" || strings.HasSuffix(b, ":") {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return errBadPort
		}
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
