// Command demo runs streamscore end to end on this machine, with nothing to
// install: an embedded Kafka broker and schema registry, a trainer and its
// model catalog, streams of sample sensor readings and text messages with
// some bad records mixed in, and the scorers, with a live view. Midway the
// readings shift: the view shows the drift, the retraining, the shadow
// scoring, the late labels and the online promotion. Ctrl-C stops it
// cleanly.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/streamscore/streamscore/internal/demo"
)

func main() {
	cfg := demo.Config{Out: os.Stdout}
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.StringVar(&cfg.Dir, "dir", "demo-data", "where topics, offsets, schemas, the model catalog and the text model are kept between runs")
	fs.IntVar(&cfg.KafkaPort, "kafka-port", 9092, "broker port on 127.0.0.1")
	fs.StringVar(&cfg.RegistryAddr, "registry-addr", "127.0.0.1:8081", "schema registry address")
	fs.StringVar(&cfg.HTTPAddrs[0], "http-addr", "127.0.0.1:8080", "sensor scorer's /metrics, /healthz and /readyz")
	fs.StringVar(&cfg.HTTPAddrs[1], "text-http-addr", "127.0.0.1:8082", "text scorer's /metrics, /healthz and /readyz")
	fs.StringVar(&cfg.TrainerHTTPAddr, "trainer-http-addr", "127.0.0.1:8083", "trainer's REST API and /metrics")
	fs.DurationVar(&cfg.ShiftAfter, "shift-after", time.Minute, "when the sensor readings shift (8 °C warmer)")
	fs.DurationVar(&cfg.MonitorWindow, "monitor-window", 10*time.Second, "sensor scorer's monitoring window; drift retrains after 4 of them")
	fs.DurationVar(&cfg.LabelDelay, "label-delay", 3*time.Second, "how late the true label of a reading arrives")
	fs.IntVar(&cfg.Rate, "rate", 2000, "sensor readings per second to produce (messages: a quarter of it)")
	fs.IntVar(&cfg.BadEvery, "bad-every", 500, "make every Nth record a bad one (0: none)")
	fs.DurationVar(&cfg.Duration, "duration", 0, "stop after this long (0: run until Ctrl-C)")
	logLevel := fs.String("log-level", "warn", "log level of the components")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintln(os.Stderr, "demo: -log-level:", err)
		os.Exit(2)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Ctrl-C while the demo is still setting up ends it as cleanly as later.
	if err := demo.Run(ctx, cfg); err != nil && !(ctx.Err() != nil && errors.Is(err, context.Canceled)) {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}
