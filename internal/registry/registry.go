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

// MaxRequestBytes bounds a request body; larger ones get 413.
const MaxRequestBytes = 4 << 20

// Config configures a Registry. The zero value is a memory-only registry
// with BACKWARD compatibility and no authentication.
type Config struct {
	// Dir is where the registry keeps its snapshot (created if missing).
	// Empty keeps everything in memory only.
	Dir string
	// DefaultCompatibility is the global level until PUT /config sets one;
	// empty means BACKWARD, Confluent's default.
	DefaultCompatibility Compatibility
	// BasicAuth, when its User is set, is required on every request.
	BasicAuth BasicAuth
	// Logger receives the registry's logs; nil discards them.
	Logger *slog.Logger
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
	return nil
}

// Registry holds the schemas and serves them over HTTP. It is safe for
// concurrent use.
type Registry struct {
	defaultLevel Compatibility
	log          *slog.Logger
	store        *snapshotStore // nil when memory-only
	handler      http.Handler

	mu     sync.RWMutex
	state  *state
	closed bool
}

// New opens the registry, loading cfg.Dir's snapshot if there is one.
func New(cfg Config) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Registry{
		defaultLevel: Backward,
		log:          cfg.Logger,
		state:        newState(),
	}
	if cfg.DefaultCompatibility != "" {
		r.defaultLevel, _ = ParseCompatibility(string(cfg.DefaultCompatibility))
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.log = r.log.With("component", "registry")
	if cfg.Dir != "" {
		r.store = &snapshotStore{dir: cfg.Dir}
		st, err := r.store.load()
		if err != nil {
			return nil, fmt.Errorf("registry: open %s: %w", cfg.Dir, err)
		}
		r.state = st
		r.log.Info("loaded", "dir", cfg.Dir, "schemas", len(st.schemas), "subjects", len(st.subjects))
	}
	r.handler = r.routes(cfg.BasicAuth)
	return r, nil
}

// Handler serves the Confluent REST API.
func (r *Registry) Handler() http.Handler { return r.handler }

// Close stops accepting writes. Every accepted write is already durable, so
// there is nothing to flush; reads keep working for in-flight requests.
func (r *Registry) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	return nil
}

// Serve answers HTTP on ln until ctx is done, then shuts the server down
// gracefully (waiting up to 5s for in-flight requests) and returns nil. It
// does not Close the registry.
func (r *Registry) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           r.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(r.log.Handler(), slog.LevelWarn),
	}
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

// update runs fn on a copy of the state and, when fn reports a change,
// persists the copy and publishes it. Readers never see a change that is not
// yet durable, and a failed fn or save leaves the state untouched.
func (r *Registry) update(fn func(*state) (changed bool, err error)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errStore(ErrClosed)
	}
	next := r.state.clone()
	changed, err := fn(next)
	if err != nil || !changed {
		return err
	}
	if r.store != nil {
		if err := r.store.save(next); err != nil {
			return errStore(err)
		}
	}
	r.state = next
	return nil
}
