package connect

import (
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
