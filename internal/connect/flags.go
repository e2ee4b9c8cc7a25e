package connect

import (
	"flag"
	"strings"
)

// BindFlags defines the Kafka connection flags on fs, writing into k, with
// k's current values (defaults, a config file's) as the flag defaults. The
// scorer and the trainer take the same flags.
func (k *Kafka) BindFlags(fs *flag.FlagSet) {
	fs.Var((*ListValue)(&k.Brokers), "brokers", "Kafka seed brokers, comma separated")
	fs.StringVar(&k.ClientID, "client-id", k.ClientID, "Kafka client id")
	fs.StringVar(&k.SASL.Mechanism, "sasl-mechanism", k.SASL.Mechanism, "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	fs.StringVar(&k.SASL.Username, "sasl-username", k.SASL.Username, "SASL user")
	fs.Var((*SecretValue)(&k.SASL.Password), "sasl-password", "SASL password (prefer the environment variable)")
	fs.BoolVar(&k.TLS.Enabled, "tls", k.TLS.Enabled, "connect to Kafka over TLS")
	fs.StringVar(&k.TLS.CAFile, "tls-ca-file", k.TLS.CAFile, "PEM file of CAs to trust")
	fs.StringVar(&k.TLS.CertFile, "tls-cert-file", k.TLS.CertFile, "PEM client certificate")
	fs.StringVar(&k.TLS.KeyFile, "tls-key-file", k.TLS.KeyFile, "PEM client key")
	fs.StringVar(&k.TLS.ServerName, "tls-server-name", k.TLS.ServerName, "name to verify in the broker certificate")
}

// BindFlags defines the schema registry flags on fs, writing into r.
func (r *Registry) BindFlags(fs *flag.FlagSet) {
	fs.Var((*URLValue)(&r.URL), "registry-url", "schema registry `URL`; basic-auth credentials here (http://user:password@host, percent-encoded) or in registry-username and registry-password")
	fs.StringVar(&r.Username, "registry-username", r.Username, "schema registry basic-auth user")
	fs.Var((*SecretValue)(&r.Password), "registry-password", "schema registry basic-auth password (prefer the environment variable)")
	fs.DurationVar(&r.Timeout, "registry-timeout", r.Timeout, "schema registry request timeout")
}

// SecretValue is a string flag that never shows its value: usage text
// prints flag defaults, which may come from a file or the environment.
type SecretValue string

func (s *SecretValue) String() string     { return "" }
func (s *SecretValue) Set(v string) error { *s = SecretValue(v); return nil }

// URLValue is a URL flag whose default, shown in usage text and possibly
// read from a file, is printed redacted (see Redact).
type URLValue string

func (u *URLValue) String() string     { return Redact(string(*u)) }
func (u *URLValue) Set(v string) error { *u = URLValue(v); return nil }

// ListValue is a comma-separated flag that replaces, not appends to, the
// list it was given, so a flag overrides a file instead of adding to it.
type ListValue []string

// String is redacted: a broker mistyped as a URL could hold a password.
func (l *ListValue) String() string { return strings.Join(redactAll(*l), ",") }

func (l *ListValue) Set(s string) error {
	*l = nil
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}
