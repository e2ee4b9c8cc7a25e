// Package embedded runs streamscore's stand-in infrastructure in process: a
// Kafka-protocol broker (kfake) and a Confluent-compatible schema registry,
// both persisted to a data directory so a restart keeps topics, offsets and
// schema ids. The demo, the tests and the benchmark run on it, and
// `cmd/stack` serves it to other processes.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/streamscore/streamscore/internal/registry"
)

// Config says where the stack keeps its data and listens.
type Config struct {
	// Dir holds the broker's log and the registry's snapshot; empty keeps
	// everything in memory.
	Dir string
	// KafkaPort is the broker's port on 127.0.0.1; 0 picks a free one.
	KafkaPort int
	// RegistryAddr is the registry's listen address; empty means
	// 127.0.0.1 on a free port.
	RegistryAddr string
	// Partitions is the partition count of topics created on first use.
	Partitions int
	// Logger receives the registry's logs; nil discards them.
	Logger *slog.Logger
	// KafkaOpts are extra broker options, such as SASL users or TLS.
	KafkaOpts []kfake.Opt
}

// Stack is a running broker and registry.
type Stack struct {
	cluster  *kfake.Cluster
	registry *registry.Registry
	server   *http.Server
	listener net.Listener
	served   chan error
}

// Start brings the broker and the registry up.
func Start(cfg Config) (*Stack, error) {
	if cfg.Partitions == 0 {
		cfg.Partitions = 3
	}
	if cfg.RegistryAddr == "" {
		cfg.RegistryAddr = "127.0.0.1:0"
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(cfg.KafkaPort),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(cfg.Partitions),
	}
	registryDir := ""
	if cfg.Dir != "" {
		opts = append(opts, kfake.DataDir(filepath.Join(cfg.Dir, "kafka")))
		registryDir = filepath.Join(cfg.Dir, "registry")
	}
	cluster, err := kfake.NewCluster(append(opts, cfg.KafkaOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("start broker: %w", err)
	}
	reg, err := registry.New(registry.Config{Dir: registryDir, Logger: cfg.Logger})
	if err != nil {
		cluster.Close()
		return nil, fmt.Errorf("start registry: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.RegistryAddr)
	if err != nil {
		cluster.Close()
		reg.Close()
		return nil, fmt.Errorf("registry listen: %w", err)
	}
	s := &Stack{
		cluster: cluster, registry: reg, listener: ln, served: make(chan error, 1),
		server: reg.HTTPServer(), // the registry's timeouts and header cap
	}
	go func() { s.served <- s.server.Serve(ln) }()
	return s, nil
}

// Brokers are the broker's addresses.
func (s *Stack) Brokers() []string { return s.cluster.ListenAddrs() }

// RegistryURL is the registry's base URL.
func (s *Stack) RegistryURL() string { return "http://" + s.listener.Addr().String() }

// Cluster exposes the broker, for tests that inject faults.
func (s *Stack) Cluster() *kfake.Cluster { return s.cluster }

// Close stops the registry, then the broker, which persists its state.
func (s *Stack) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.server.Shutdown(ctx)
	if serveErr := <-s.served; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	err = errors.Join(err, s.registry.Close())
	s.cluster.Close()
	return err
}
