package connect_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/riferrei/srclient"

	"github.com/streamscore/streamscore/internal/connect"
	"github.com/streamscore/streamscore/internal/securetest"
)

// The secrets the tests below plant in URLs; none may ever be printed.
const (
	secretPassword = "Pa%ssw0rdSECRET"
	secretToken    = "t0kenSECRET"
)

func TestRedact(t *testing.T) {
	cases := []struct{ name, raw, want string }{
		{"no user info", "http://registry:8081", "http://registry:8081"},
		{"with a path", "https://proxy/registry/", "https://proxy/registry/"},
		{"user and password", "http://admin:s3cret@host:8081", "http://xxxxx@host:8081"},
		{"a bare % in the password, which does not parse", "http://admin:" + secretPassword + "@host:8081", "http://xxxxx@host:8081"},
		{"an @ in the password", "http://admin:p@ss@host:8081/x", "http://xxxxx@host:8081/x"},
		{"a / in the password", "http://admin:12/ss@host", "http://xxxxx@host"},
		{"a # in the password", "http://admin:pa#ss@host", "http://xxxxx@host"},
		{"a token as the user", "https://" + secretToken + "@host", "https://xxxxx@host"},
		{"no scheme", "admin:pw@host:8081", "xxxxx@host:8081"},
		{"no //", "http:admin:pw@host", "xxxxx@host"},
		{"// after the @", "admin:pw@host//x", "xxxxx@host//x"},
		{"a token in the query", "http://host:8081/?api_key=SECRET", "http://host:8081/?xxxxx"},
		{"a token in the fragment", "http://host#SECRET", "http://host#xxxxx"},
		{"user info and query", "http://u:p@host?k=SECRET", "http://xxxxx@host?xxxxx"},
		{"a broker", "kafka-0.kafka:9092", "kafka-0.kafka:9092"},
		{"a broker pasted as a URL", "SASL_SSL://user:pw@kafka:9092", "SASL_SSL://xxxxx@kafka:9092"},
		{"empty", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := connect.Redact(c.raw); got != c.want {
				t.Errorf("Redact(%q) = %q, want %q", c.raw, got, c.want)
			}
		})
	}
}

// TestRegistryValidate checks that every URL a registry client cannot use
// is refused by name, and that the refusal never shows the credentials:
// neither the password nor a user that may be a token.
func TestRegistryValidate(t *testing.T) {
	cases := []struct {
		name        string
		reg         connect.Registry
		errContains string // empty: valid
	}{
		{"plain", connect.Registry{URL: "http://registry:8081"}, ""},
		{"https with a path and a trailing slash", connect.Registry{URL: "https://proxy.example/registry/"}, ""},
		{"credentials in the URL", connect.Registry{URL: "http://admin:Pa%25ssw0rdSECRET@host:8081"}, ""},
		{"credentials in the settings", connect.Registry{URL: "http://host:8081", Username: "admin", Password: "pw"}, ""},
		{"empty", connect.Registry{}, "registry-url: required"},
		{"a bare % in the password", connect.Registry{URL: "http://admin:" + secretPassword + "@host:8081"},
			`registry-url: "http://xxxxx@host:8081" is not a valid URL: a "%" not followed by two hex digits: write a literal "%" as %25`},
		{"a / in the password", connect.Registry{URL: "http://admin:pa/SECRET@host:8081"}, `registry-url: "http://xxxxx@host:8081" is not a valid URL: the port is not a number`},
		{"a / in a numeric password", connect.Registry{URL: "http://admin:12/SECRET@host:8081"}, `registry-url: "http://xxxxx@host:8081" has an @ outside its user info`},
		{"a # in the password", connect.Registry{URL: "http://admin:pa#SECRET@host:8081"}, "registry-url:"},
		{"a ? in the password", connect.Registry{URL: "http://admin:pa?SECRET@host:8081"}, "registry-url:"},
		{"no scheme", connect.Registry{URL: "registry:8081"}, `registry-url: "registry:8081" is not an http(s) URL`},
		{"an IP without scheme", connect.Registry{URL: "127.0.0.1:8081"}, `registry-url: "127.0.0.1:8081" is not a valid URL: no scheme`},
		{"credentials without scheme", connect.Registry{URL: "admin:SECRET@registry:8081"}, `registry-url: "xxxxx@registry:8081"`},
		{"another scheme", connect.Registry{URL: "ftp://admin:SECRET@registry"}, `registry-url: "ftp://xxxxx@registry" is not an http(s) URL`},
		{"no host", connect.Registry{URL: "http:///subjects"}, "registry-url: \"http:///subjects\" names no host"},
		{"only a port", connect.Registry{URL: "http://:8081"}, "names no host"},
		{"port out of range", connect.Registry{URL: "http://registry:99999"}, "the port is not between 1 and 65535"},
		{"a query", connect.Registry{URL: "http://registry:8081/?api_key=SECRET"}, `registry-url: "http://registry:8081/?xxxxx" has a query or fragment`},
		{"a fragment", connect.Registry{URL: "http://registry:8081#SECRET"}, "has a query or fragment"},
		{"a token alone", connect.Registry{URL: "https://" + secretToken + "@registry"}, `registry-url: "https://xxxxx@registry": the user info needs a user and a password`},
		{"an empty password", connect.Registry{URL: "https://admin:@registry"}, "the user info needs a user and a password"},
		{"credentials twice", connect.Registry{URL: "http://admin:SECRET@registry", Username: "admin", Password: "SECRET"}, "give the credentials in one place"},
		{"a control character", connect.Registry{URL: "http://registry\n:8081"}, "a control character"},
		{"a negative timeout", connect.Registry{URL: "http://registry", Timeout: -1}, "registry-timeout: -1ns is negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.reg.Validate()
			if c.errContains == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, connect.ErrBadConnection) {
				t.Fatalf("Validate() = %v, want ErrBadConnection", err)
			}
			if !strings.Contains(err.Error(), c.errContains) {
				t.Errorf("error %q lacks %q", err, c.errContains)
			}
			securetest.NoSecrets(t, "the error", err.Error(), "SECRET", "ssw0rd", "%ss", "admin:", "Pa%", c.reg.Password)
		})
	}
}

func TestKafkaValidateBrokers(t *testing.T) {
	cases := []struct {
		name        string
		brokers     []string
		errContains string // empty: valid
	}{
		{"host and port", []string{"kafka-0.kafka:9092", "10.0.0.1:19092"}, ""},
		{"host alone", []string{"localhost"}, ""},
		{"IPv6 with port", []string{"[::1]:9092"}, ""},
		{"IPv6 without port", []string{"[::1]", "::1"}, ""},
		{"a URL with credentials", []string{"SASL_SSL://user:SECRET@kafka:9092"}, `brokers: "SASL_SSL://xxxxx@kafka:9092" is not host:port: brokers take no scheme or credentials`},
		{"credentials without scheme", []string{"user:SECRET@kafka:9092"}, `brokers: "xxxxx@kafka:9092" is not host:port`},
		{"a path", []string{"kafka:9092/x"}, "is not host:port"},
		{"a port that is not a number", []string{"kafka:SECRET"}, "has a port that is not between 1 and 65535"},
		{"port zero", []string{"kafka:0"}, `"kafka:xxxxx" has a port that is not between 1 and 65535`},
		{"IPv6 with a bad port", []string{"[::1]:SECRET"}, `"[::1]:xxxxx" has a port`},
		{"an empty port", []string{"kafka:"}, "has a port that is not between 1 and 65535"},
		{"no host", []string{":9092"}, "names no host"},
		{"a space", []string{"kafka :9092"}, "holds a space or control character"},
		{"empty", []string{""}, "is empty"},
		{"unclosed bracket", []string{"[::1:9092"}, "no closing bracket"},
		{"not IPv6 in brackets", []string{"[kafka]:9092"}, "not an IPv6 address"},
		{"colons but not IPv6", []string{"a:b:c"}, "is not host:port"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := connect.Kafka{Brokers: c.brokers}.Validate()
			if c.errContains == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, connect.ErrBadConnection) || !strings.Contains(err.Error(), c.errContains) {
				t.Fatalf("Validate() = %v, want ErrBadConnection containing %q", err, c.errContains)
			}
			securetest.NoSecrets(t, "the error", err.Error(), "SECRET")
		})
	}
}

// TestRegistryClientErrorsHideCredentials sends requests with credentials
// in the URL to a listener that hangs up, and to a registry that refuses
// them: net/http quotes the request's URL in its errors (with the password
// starred but the user, which may be a token, in clear), so the client
// must be built from the URL without them.
func TestRegistryClientErrorsHideCredentials(t *testing.T) {
	hangsUp := securetest.HangUp(t)
	refuses := securetest.Registry(t, "reader", "right-pass")

	cases := []struct {
		name, url string
		// secrets may appear nowhere; want is in the error.
		secrets []string
		want    string
	}{
		{"password, connection dropped", strings.Replace(hangsUp, "//", "//tokenuserSECRET:pw%25SECRET@", 1),
			[]string{"tokenuserSECRET", "pw%SECRET", "pw%25SECRET"}, strings.TrimPrefix(hangsUp, "http://")},
		{"password, login refused", strings.Replace(refuses, "//", "//reader:wr0ngSECRET@", 1),
			[]string{"wr0ngSECRET", "reader:"}, "check the user info of registry-url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			settings := connect.Registry{URL: c.url}
			client, err := settings.Client()
			if err != nil {
				t.Fatal(err)
			}
			_, err = client.GetLatestSchema("in-value")
			err = settings.Explain(err)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			securetest.NoSecrets(t, "the error", err.Error(), c.secrets...)
		})
	}

	t.Run("credentials in the URL are sent", func(t *testing.T) {
		settings := connect.Registry{URL: strings.Replace(refuses, "//", "//reader:right-pass@", 1)}
		client, err := settings.Client()
		if err != nil {
			t.Fatal(err)
		}
		_, err = client.GetLatestSchema("in-value")
		var srErr srclient.Error
		// The registry let the request in: the subject is unknown.
		if !errors.As(err, &srErr) || srErr.Code != 40401 {
			t.Fatalf("GetLatestSchema = %v, want the registry's subject-not-found", err)
		}
	})
}
