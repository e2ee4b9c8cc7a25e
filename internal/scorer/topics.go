package scorer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/stream"
)

// ensureTopics creates missing output, shadow and dead-letter topics. An
// output (or shadow) topic gets its input's partition count, so with the same key partitioner
// an input partition's records land in one output partition. Clusters that
// forbid topic creation answer with an authorization error; topics that
// exist already are left alone.
//
// Monitor topics get one partition: a few records per window, read in
// order.
func ensureTopics(ctx context.Context, opts []kgo.Opt, cfg stream.Config, monitorTopics []string, logger *slog.Logger) error {
	client, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer client.Close()
	adm := kadm.NewClient(client)

	inputs, err := adm.ListTopics(ctx, cfg.Topics...)
	if err != nil {
		return fmt.Errorf("list input topics: %w", err)
	}
	// -1 partitions asks the broker for its default, for an input that
	// does not exist yet.
	want := map[string]int32{}
	var most int32 = -1
	for _, topic := range cfg.Topics {
		n := int32(-1)
		if detail, ok := inputs[topic]; ok && detail.Err == nil {
			n = int32(len(detail.Partitions))
		} else {
			logger.Warn("input topic does not exist yet; its output topic gets the broker's default partition count", "topic", topic)
		}
		want[cfg.OutputFor(topic)] = n
		if cfg.ShadowTopic != "" {
			want[cfg.ShadowFor(topic)] = n
		}
		most = max(most, n)
	}
	for _, t := range monitorTopics {
		want[t] = 1
	}
	if n, ok := want[cfg.DeadLetterTopic]; !ok || n < most {
		want[cfg.DeadLetterTopic] = most
	}

	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	existing, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return fmt.Errorf("list output topics: %w", err)
	}
	for name, partitions := range want {
		if existing.Has(name) {
			continue
		}
		resp, err := adm.CreateTopic(ctx, partitions, -1, nil, name)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", name, err)
		}
		logger.Info("created topic", "topic", name, "partitions", partitions)
	}
	return nil
}
