// Package registry is an embedded, durable schema registry that speaks the
// Confluent Schema Registry REST API for Avro schemas.
//
// streamscore's embedded stack runs it in-process next to a fake Kafka
// broker, and real clients (srclient, confluent_kafka's
// SchemaRegistryClient) talk to it over HTTP. Unlike a memory-only fake it
// enforces Avro compatibility levels for real and keeps ids, versions and
// settings across restarts when given a directory.
//
// Routes (Confluent's; errors are {"error_code", "message"} bodies):
//
//	GET    /                                         {}
//	GET    /schemas/types                            ["AVRO"]
//	GET    /schemas/ids/{id}[/schema|/versions|/subjects]
//	GET    /subjects[?deleted=true&subjectPrefix=]
//	POST   /subjects/{subject}                       lookup a schema
//	DELETE /subjects/{subject}[?permanent=true]
//	GET    /subjects/{subject}/versions[?deleted=true]
//	POST   /subjects/{subject}/versions              register
//	GET    /subjects/{subject}/versions/{v|latest|-1}[/schema|/referencedby]
//	DELETE /subjects/{subject}/versions/{v|latest}[?permanent=true]
//	GET|PUT|DELETE /config, /config/{subject}[?defaultToGlobal=true]
//	POST   /compatibility/subjects/{subject}/versions[/{v|latest}][?verbose=true]
//	GET    /mode                                     {"mode":"READWRITE"}
//
// Only Avro is stored: other schema types and schema references are
// refused with 42201.
package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// MaxRequestBytes bounds a request body; larger ones get 413. It leaves
// room for a MaxSchemaBytes schema escaped as a JSON string (at most twice
// its size) and the metadata newer clients send with it.
const MaxRequestBytes = 4 << 20

// maxConcurrentSchemaWork is how many requests may parse and check a
// schema at once; the others wait their turn. Each may take about 50 MiB
// and a core for up to a second (see the limits in schema.go), so this
// bounds the registry's peak memory whatever the number of clients.
const maxConcurrentSchemaWork = 2

// Config configures a Registry. The zero value is a memory-only registry
// with BACKWARD compatibility and no authentication.
type Config struct {
	// Dir is where the registry keeps its log (created if missing; see
	// persist.go). Empty keeps everything in memory only.
	Dir string
	// DefaultCompatibility is the global level until PUT /config sets one;
	// empty means BACKWARD, Confluent's default.
	DefaultCompatibility Compatibility
	// BasicAuth, when its User is set, is required on every request.
	BasicAuth BasicAuth
	// Logger receives the registry's logs; nil discards them.
	Logger *slog.Logger
	// Server bounds the connections of the server HTTPServer builds;
	// zero fields take the defaults.
	Server ServerLimits
}

// BasicAuth is a single user allowed to call the registry.
type BasicAuth struct {
	User     string
	Password string
}

func (a BasicAuth) enabled() bool { return a.User != "" }

// Validate reports the first problem with c.
func (c Config) Validate() error {
	if c.DefaultCompatibility != "" {
		if _, err := ParseCompatibility(string(c.DefaultCompatibility)); err != nil {
			return fmt.Errorf("%w: DefaultCompatibility: %w", ErrInvalidConfig, err)
		}
	}
	if c.BasicAuth.enabled() && c.BasicAuth.Password == "" {
		return fmt.Errorf("%w: BasicAuth.Password is empty for user %q", ErrInvalidConfig, c.BasicAuth.User)
	}
	if !c.BasicAuth.enabled() && c.BasicAuth.Password != "" {
		return fmt.Errorf("%w: BasicAuth.Password set without BasicAuth.User", ErrInvalidConfig)
	}
	return c.Server.validate()
}

// Registry holds the schemas and serves them over HTTP. It is safe for
// concurrent use.
type Registry struct {
	defaultLevel Compatibility
	log          *slog.Logger
	store        *logStore // nil when memory-only
	handler      http.Handler
	limits       ServerLimits
	// schemaWork holds a token per request parsing or checking a schema.
	schemaWork chan struct{}

	mu     sync.RWMutex
	state  *state
	closed bool
}

// New opens the registry, replaying cfg.Dir's log if there is one (or
// migrating the snapshot an older version kept there).
func New(cfg Config) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Registry{
		defaultLevel: Backward,
		log:          cfg.Logger,
		state:        newState(),
		limits:       cfg.Server.withDefaults(),
		schemaWork:   make(chan struct{}, maxConcurrentSchemaWork),
	}
	if cfg.DefaultCompatibility != "" {
		r.defaultLevel, _ = ParseCompatibility(string(cfg.DefaultCompatibility))
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.log = r.log.With("component", "registry")
	if cfg.Dir != "" {
		store, st, err := openLog(cfg.Dir, r.log)
		if err != nil {
			return nil, fmt.Errorf("registry: open %s: %w", cfg.Dir, err)
		}
		r.store, r.state = store, st
		r.log.Info("loaded", "dir", cfg.Dir, "schemas", len(st.schemas), "subjects", len(st.subjects))
	}
	r.handler = r.routes(cfg.BasicAuth)
	return r, nil
}

// Handler serves the Confluent REST API.
func (r *Registry) Handler() http.Handler { return r.handler }

// Close stops accepting writes and closes the log. Every accepted write is
// already durable, so there is nothing to flush; reads keep working for
// in-flight requests.
func (r *Registry) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	if r.store != nil {
		return r.store.close()
	}
	return nil
}

// Serve answers HTTP on ln, with the server HTTPServer builds, until ctx
// is done, then shuts the server down gracefully (waiting up to 5s for
// in-flight requests) and returns nil. It does not Close the registry.
func (r *Registry) Serve(ctx context.Context, ln net.Listener) error {
	srv := r.HTTPServer()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("registry: serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	if err != nil {
		return fmt.Errorf("registry: shut down %s: %w", ln.Addr(), err)
	}
	return nil
}

// view runs fn against the current state under the read lock.
func (r *Registry) view(fn func(*state) error) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return fn(r.state)
}

// current returns the published state. It is never changed once
// published, so the caller may read it at leisure, without the lock.
func (r *Registry) current() *state {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.state
}

// errUnchanged is what a plan returns when the request changes nothing
// (a level set to the one in force): update then writes nothing and
// reports success.
var errUnchanged = errors.New("registry: nothing to change")

// update asks plan, given the current state (to read, not to change), for
// one change; applies it to a copy, appends it to the log and publishes
// the copy. Readers never see a change that is not yet durable, and a
// failed plan or append leaves the state untouched.
func (r *Registry) update(plan func(*state) (*change, error)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errStore(ErrClosed)
	}
	c, err := plan(r.state)
	if errors.Is(err, errUnchanged) {
		return nil
	}
	if err != nil {
		return err
	}
	next := r.state.clone()
	if err := next.apply(c); err != nil {
		return errStore(err)
	}
	if r.store != nil {
		if err := r.store.append(c, r.state); err != nil {
			return errStore(err)
		}
	}
	r.state = next
	return nil
}
