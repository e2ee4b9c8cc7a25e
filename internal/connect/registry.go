package connect

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/riferrei/srclient"
)

// Client returns a schema registry client. srclient caches schemas by id
// itself; the scorer's decoder keeps its own cache of compiled codecs on top.
func (r Registry) Client() (*srclient.SchemaRegistryClient, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	client := srclient.NewSchemaRegistryClient(r.URL)
	if r.Username != "" {
		client.SetCredentials(r.Username, r.Password)
	}
	timeout := r.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
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
	at := r.URL
	if u, parseErr := url.Parse(r.URL); parseErr == nil {
		at = u.Redacted()
	}
	return fmt.Errorf("the schema registry at %s refused the credentials: check registry-username and registry-password: %w", at, err)
}
