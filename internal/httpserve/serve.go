// Package httpserve runs a service's HTTP endpoints for as long as the
// service runs; the scorer and the trainer serve theirs through it, with
// the same limits on slow and oversized requests.
package httpserve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Config bounds what one client can hold: a connection that sends its
// request slowly, reads its response slowly or sits idle is closed, and
// headers are capped. Zero fields take the defaults (Serve); a
// configuration file or flag cannot turn a limit off (Validate).
type Config struct {
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, headers and body. It
	// ends when the body has been read: a handler may then work for as
	// long as it needs (a synchronous training, a pprof profile).
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds each step of writing a response: every
	// writeChunk bytes must reach the client within it. It is not a bound
	// on the whole response, which would cut off a long training answered
	// synchronously, a 30 s CPU profile or a large model download on a
	// slow link; it still frees a connection whose client stops reading.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout closes a keep-alive connection with no request.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxHeaderBytes caps the request line and headers.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
}

// Defaults. ReadTimeout lets a trainer API body of the default 32 MiB
// limit arrive at about 1 MiB/s; raise it for large bodies on slow links.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	// DefaultMaxHeaderBytes is far above what the services' clients send
	// (a bearer token, a scraper's headers) and far below Go's 1 MiB.
	DefaultMaxHeaderBytes = 64 << 10
)

// writeChunk is the most written to the client under one WriteTimeout.
const writeChunk = 64 << 10

// DefaultConfig has every limit at its default.
func DefaultConfig() Config {
	return Config{
		ReadHeaderTimeout: DefaultReadHeaderTimeout, ReadTimeout: DefaultReadTimeout,
		WriteTimeout: DefaultWriteTimeout, IdleTimeout: DefaultIdleTimeout, MaxHeaderBytes: DefaultMaxHeaderBytes,
	}
}

// WithDefaults fills the zero fields with the defaults.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	if c.ReadHeaderTimeout == 0 {
		c.ReadHeaderTimeout = d.ReadHeaderTimeout
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = d.ReadTimeout
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = d.WriteTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	if c.MaxHeaderBytes == 0 {
		c.MaxHeaderBytes = d.MaxHeaderBytes
	}
	return c
}

// Validate reports every limit that is not positive, by its flag name.
func (c Config) Validate() error {
	var errs []error
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{
		{"http-read-header-timeout", c.ReadHeaderTimeout},
		{"http-read-timeout", c.ReadTimeout},
		{"http-write-timeout", c.WriteTimeout},
		{"http-idle-timeout", c.IdleTimeout},
	} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s: %s is not positive", d.flag, d.v))
		}
	}
	if c.ReadTimeout > 0 && c.ReadHeaderTimeout > c.ReadTimeout {
		errs = append(errs, fmt.Errorf("http-read-header-timeout: %s is longer than http-read-timeout %s, which includes the headers", c.ReadHeaderTimeout, c.ReadTimeout))
	}
	if c.MaxHeaderBytes < 1 {
		errs = append(errs, fmt.Errorf("http-max-header-bytes: %d is not positive", c.MaxHeaderBytes))
	}
	return errors.Join(errs...)
}

// BindFlags defines the limits' flags on fs, writing into c, with c's
// current values as the flag defaults. Both services take the same flags.
func (c *Config) BindFlags(fs *flag.FlagSet) {
	fs.DurationVar(&c.ReadHeaderTimeout, "http-read-header-timeout", c.ReadHeaderTimeout, "HTTP: longest a client may take to send a request's headers")
	fs.DurationVar(&c.ReadTimeout, "http-read-timeout", c.ReadTimeout, "HTTP: longest a client may take to send a whole request, body included")
	fs.DurationVar(&c.WriteTimeout, "http-write-timeout", c.WriteTimeout, "HTTP: longest a client may take to read each 64 KiB of a response")
	fs.DurationVar(&c.IdleTimeout, "http-idle-timeout", c.IdleTimeout, "HTTP: how long a keep-alive connection may wait for its next request")
	fs.IntVar(&c.MaxHeaderBytes, "http-max-header-bytes", c.MaxHeaderBytes, "HTTP: largest request line and headers")
}

// Serve serves h on l with cfg's limits until ctx ends, then shuts down,
// letting requests in progress finish for at most grace. It returns nil
// after a clean shutdown, or the error that stopped the server.
func Serve(ctx context.Context, l net.Listener, h http.Handler, cfg Config, grace time.Duration) error {
	cfg = cfg.WithDefaults()
	server := &http.Server{
		Handler:           progressDeadlines(h, cfg.WriteTimeout),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		// The server sets this deadline once the headers are read. It
		// covers what net/http writes itself (a 100 Continue, an error
		// before the handler); progressDeadlines replaces it for the
		// handler.
		WriteTimeout:   cfg.WriteTimeout,
		IdleTimeout:    cfg.IdleTimeout,
		MaxHeaderBytes: cfg.MaxHeaderBytes,
	}
	served := make(chan error, 1)
	go func() { served <- server.Serve(l) }()
	select {
	case err := <-served:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := server.Shutdown(shutdownCtx)
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("http: %w", serveErr))
	}
	return err
}

// progressDeadlines turns the write deadline into one per step of the
// response: none while the handler works, then a fresh one before each
// chunk it writes and once more for the final flush after it returns.
func progressDeadlines(h http.Handler, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pw := &progressWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeout: timeout}
		// A handler may compute for longer than timeout before it writes.
		_ = pw.rc.SetWriteDeadline(time.Time{})
		h.ServeHTTP(pw, r)
		pw.extend()
	})
}

// progressWriter sets the write deadline before each write. It writes at
// most writeChunk bytes under one deadline, so a large body needs steady
// progress rather than all of it within timeout.
type progressWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (p *progressWriter) extend() { _ = p.rc.SetWriteDeadline(time.Now().Add(p.timeout)) }

func (p *progressWriter) WriteHeader(code int) {
	p.extend()
	p.ResponseWriter.WriteHeader(code)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		chunk := b[:min(len(b), writeChunk)]
		p.extend()
		n, err := p.ResponseWriter.Write(chunk)
		written += n
		if err != nil {
			return written, err
		}
		b = b[n:]
	}
	return written, nil
}

// Flush lets handlers that stream (pprof, long polls) flush through the
// wrapper, each flush under a fresh deadline.
func (p *progressWriter) Flush() {
	p.extend()
	_ = p.rc.Flush()
}

// Unwrap gives http.ResponseController (used by net/http/pprof) the
// connection's own writer.
func (p *progressWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }
