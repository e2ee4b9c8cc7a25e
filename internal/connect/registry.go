package connect

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/riferrei/srclient"
)

// Registry holds the settings to reach a Confluent-compatible schema
// registry. Basic-auth credentials come from Username and Password, or
// from the URL's user info (https://user:password@host, percent-encoded,
// as Confluent's clients take them), not from both. Either way they are
// taken out of the URL before a client sees it, so no error or log line
// built from the URL can show them.
type Registry struct {
	URL      string        `yaml:"url"`
	Username string        `yaml:"username"`
	Password string        `yaml:"password"`
	Timeout  time.Duration `yaml:"timeout"`
}

// DefaultRegistryTimeout bounds a registry request when Timeout is 0.
const DefaultRegistryTimeout = 10 * time.Second

// Validate checks the settings without connecting.
func (r Registry) Validate() error {
	_, err := r.endpoint()
	return err
}

// Redacted is the registry URL as it may be printed.
func (r Registry) Redacted() string { return Redact(r.URL) }

// endpoint is what a client is built from: the URL without user info or a
// trailing slash, and the credentials from wherever they were given.
type endpoint struct {
	base, user, password string
	// fromURL says the credentials came from the URL's user info.
	fromURL bool
}

// endpoint checks the settings and splits the credentials out of the URL.
// Its errors quote the URL redacted, and describe a parse failure in their
// own words: url.Parse's quote the input, and its EscapeError quotes the
// bytes after a bad "%", which may be part of a password.
func (r Registry) endpoint() (endpoint, error) {
	bad := func(format string, args ...any) (endpoint, error) {
		return endpoint{}, fmt.Errorf("%w: %s", ErrBadConnection, fmt.Sprintf(format, args...))
	}
	if r.Timeout < 0 {
		return bad("registry-timeout: %s is negative", r.Timeout)
	}
	if r.URL == "" {
		return bad("registry-url: required")
	}
	shown := Redact(r.URL)
	u, err := url.Parse(r.URL)
	if err != nil {
		return bad("registry-url: %q is not a valid URL: %s", shown, parseProblem(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return bad("registry-url: %q is not an http(s) URL", shown)
	}
	if u.Host == "" || u.Hostname() == "" {
		return bad("registry-url: %q names no host", shown)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("registry-url: %q: the port is not between 1 and 65535", shown)
		}
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return bad("registry-url: %q has a query or fragment: the client appends API paths to the URL", shown)
	}
	// An "@" past the user info means a password with a "/", "?" or "#"
	// that url.Parse took for the end of the host: the rest of it would
	// be sent, and printed, as a path.
	if strings.Contains(u.EscapedPath(), "@") || (u.User == nil && strings.Contains(r.URL, "@")) {
		return bad("registry-url: %q has an @ outside its user info: percent-encode \"@\", \"/\", \"?\" and \"#\" in a user or password (%%40, %%2F, %%3F, %%23)", shown)
	}
	ep := endpoint{user: r.Username, password: r.Password}
	if u.User != nil {
		password, hasPassword := u.User.Password()
		switch {
		case r.Username != "":
			return bad("registry-url and registry-username: give the credentials in one place, not both")
		case u.User.Username() == "" || !hasPassword || password == "":
			return bad("registry-url: %q: the user info needs a user and a password (user:password@host), or use registry-username and registry-password", shown)
		}
		ep.user, ep.password, ep.fromURL = u.User.Username(), password, true
		u.User = nil
	}
	ep.base = strings.TrimRight(u.String(), "/")
	return ep, nil
}

// parseProblem says what is wrong with a URL that did not parse, without
// quoting any of it.
func parseProblem(err error) string {
	var escape url.EscapeError
	var host url.InvalidHostError
	switch msg := err.Error(); {
	case errors.As(err, &escape):
		return `a "%" not followed by two hex digits: write a literal "%" as %25`
	case errors.As(err, &host):
		return "an invalid character in the host"
	case strings.Contains(msg, "invalid port"):
		return "the port is not a number (percent-encode \"/\", \"?\" and \"#\" in a password)"
	case strings.Contains(msg, "invalid userinfo"):
		return "an invalid character in the user info: percent-encode it"
	case strings.Contains(msg, "control character"):
		return "a control character"
	case strings.Contains(msg, "missing protocol scheme"), strings.Contains(msg, "first path segment"):
		return "no scheme (http:// or https://)"
	}
	return "it does not parse"
}

// Client returns a schema registry client. srclient caches schemas by id
// itself; the scorer's decoder keeps its own cache of compiled codecs on top.
func (r Registry) Client() (*srclient.SchemaRegistryClient, error) {
	ep, err := r.endpoint()
	if err != nil {
		return nil, err
	}
	// srclient builds its requests from this URL, and net/http quotes the
	// request URL in its errors: it must hold no credentials.
	client := srclient.NewSchemaRegistryClient(ep.base)
	if ep.user != "" {
		client.SetCredentials(ep.user, ep.password)
	}
	timeout := r.Timeout
	if timeout == 0 {
		timeout = DefaultRegistryTimeout
	}
	client.SetTimeout(timeout)
	return client, nil
}

// Explain wraps a registry client's error with the settings to check when
// the registry refused the credentials (HTTP 401 or 403, or Confluent's
// 40101 and 40301); other errors are returned as they are. The settings'
// secrets never appear in it.
func (r Registry) Explain(err error) error {
	var srErr srclient.Error
	refused := false
	if errors.As(err, &srErr) {
		refused = srErr.Code == 401 || srErr.Code == 403 || srErr.Code == 40101 || srErr.Code == 40301
	} else if err != nil {
		// srclient reports an answer that is not the registry's JSON by
		// its HTTP status line alone.
		refused = strings.HasPrefix(err.Error(), "401 ") || strings.HasPrefix(err.Error(), "403 ")
	}
	if !refused {
		return err
	}
	check := "registry-username and registry-password"
	if ep, epErr := r.endpoint(); epErr == nil && ep.fromURL {
		check = "the user info of registry-url"
	}
	return fmt.Errorf("the schema registry at %s refused the credentials: check %s: %w", r.Redacted(), check, err)
}
