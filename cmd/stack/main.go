// Command stack runs the embedded Kafka broker and schema registry on their
// own, for the benchmark and for trying the scorer against something local:
//
//	go run ./cmd/stack -dir stack-data
//
// It prints one line, "ready kafka=HOST:PORT registry=URL", once both
// listen, and stops cleanly, persisting its state, on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/streamscore/streamscore/internal/embedded"
)

func main() {
	var cfg embedded.Config
	fs := flag.NewFlagSet("stack", flag.ContinueOnError)
	fs.StringVar(&cfg.Dir, "dir", "stack-data", "data directory (empty: memory only)")
	fs.IntVar(&cfg.KafkaPort, "kafka-port", 9092, "broker port on 127.0.0.1 (0: any free port)")
	fs.StringVar(&cfg.RegistryAddr, "registry-addr", "127.0.0.1:8081", "schema registry listen address")
	fs.IntVar(&cfg.Partitions, "partitions", 3, "partitions of topics created on first use")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	stack, err := embedded.Start(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stack:", err)
		os.Exit(1)
	}
	fmt.Printf("ready kafka=%s registry=%s\n", stack.Brokers()[0], stack.RegistryURL())
	<-ctx.Done()
	if err := stack.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "stack:", err)
		os.Exit(1)
	}
}
