package connect

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"syscall"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrUnreachable marks a Kafka cluster that could not be reached or that
// refused the client; the message says which setting to check.
var ErrUnreachable = errors.New("cannot use Kafka")

// Ping connects to the cluster once, so that bad credentials, an untrusted
// certificate or a wrong address stop a service at start with a message
// that names the setting to check, instead of retries later on.
func (k Kafka) Ping(ctx context.Context) error {
	opts, err := k.Opts()
	if err != nil {
		return err
	}
	client, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer client.Close()
	if err := client.Ping(ctx); err != nil {
		return k.explain(err)
	}
	return nil
}

// explain wraps a connection error with the likely cause. The settings'
// secrets never appear in it.
func (k Kafka) explain(err error) error {
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	hint := ""
	switch {
	case errors.As(err, &unknownAuthority):
		hint = "the broker's certificate is not signed by a trusted CA: check tls-ca-file"
	case errors.As(err, &hostname):
		hint = "the broker's certificate does not name the address dialed: check brokers or tls-server-name"
	case errors.As(err, &invalid):
		hint = "the broker's certificate is invalid (expired or not for servers)"
	case errors.Is(err, kerr.SaslAuthenticationFailed) || errors.Is(err, kerr.IllegalSaslState):
		hint = "SASL authentication failed: check sasl-username and sasl-password"
	case errors.Is(err, kerr.UnsupportedSaslMechanism):
		hint = "the broker does not offer sasl-mechanism " + k.SASL.Mechanism
	case k.SASL.Mechanism != "" && errors.Is(err, io.EOF):
		hint = "the broker closed the connection during authentication: check sasl-mechanism, sasl-username and sasl-password"
	case k.SASL.Mechanism == "" && errors.Is(err, io.EOF):
		hint = "the broker closed the connection: it may require SASL or TLS"
	case errors.Is(err, syscall.ECONNREFUSED):
		hint = "nothing listens there: check brokers"
	default:
		return fmt.Errorf("%w at %v: %w", ErrUnreachable, redactAll(k.Brokers), err)
	}
	return fmt.Errorf("%w at %v: %s: %w", ErrUnreachable, redactAll(k.Brokers), hint, err)
}
