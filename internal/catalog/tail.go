package catalog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// tail applies the topic's records to the state until ctx ends. Fetch
// errors are logged; franz-go retries them itself.
func (c *Catalog) tail(ctx context.Context) {
	defer close(c.tailing)
	for {
		fetches := c.client.PollFetches(ctx)
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			if errors.Is(err, context.Canceled) {
				return
			}
			c.logger.Warn("reading the catalog topic", "partition", partition, "err", err)
		})
		if fetches.NumRecords() == 0 {
			continue
		}
		c.mu.Lock()
		fetches.EachRecord(func(r *kgo.Record) {
			// A restarted consumer (restartTail) can deliver records
			// again that were polled before the restart. Offsets only
			// grow on a partition, so nothing else is dropped; a catalog
			// topic deleted and made anew under a running catalog is
			// not followed (its history went with it).
			if r.Offset < c.state.next {
				return
			}
			c.state.apply(string(r.Key), r.Value, r.Offset)
		})
		c.state.notify()
		c.mu.Unlock()
	}
}

// restartTail makes the tail's consumer look for the partition again now,
// for EnsureTopic to call once it has created the topic.
//
// A consumer that starts before the topic exists lists the partition's
// offsets, is told the partition is unknown, and kgo lists them again only
// after a fixed second (the reload timer in consumerSession.listOrEpoch,
// franz-go consumer.go), however soon its metadata learns of the topic:
// a trainer's first publish on a new cluster waited that second to read
// its version back. Purging the topic from consuming stops the consumer
// session, and with it the pending list; adding the partition back
// triggers a metadata update at once (AddConsumePartitions), which assigns
// the partition and lists its offsets. If the broker still does not know
// the topic, that list fails and kgo retries it a second later, as before.
//
// The consumer resumes at the first offset not applied. Records the tail
// polled before the purge but applies after reading that offset come again
// and are skipped (see tail).
func (c *Catalog) restartTail() {
	c.mu.RLock()
	next := c.state.next
	c.mu.RUnlock()
	c.client.PurgeTopicsFromConsuming(c.topic)
	c.client.AddConsumePartitions(map[string]map[int32]kgo.Offset{c.topic: {0: kgo.NewOffset().At(next)}})
}

// Sync returns once the catalog has read every record written before the
// call, so that what it lists is current. A topic that does not exist yet
// is an empty catalog, unless EnsureTopic has created or found it: then a
// broker's "unknown topic" means it has not learned of the topic yet, and
// Sync waits for it (see endOffset), until ctx ends.
func (c *Catalog) Sync(ctx context.Context) error {
	end, err := c.endOffset(ctx)
	if err != nil {
		return err
	}
	return c.waitFor(ctx, end)
}

// endOffset is the partition's end offset, 0 if the topic does not exist.
//
// "Unknown topic" is not always the truth about a topic created moments
// ago. Brokers learn of a new topic asynchronously, and this client's
// cached metadata (kept MetadataMinAge) can say the topic is missing:
// the tail's consumer asks about the topic every MetadataMinAge while it
// is missing, and an answer it got before the topic was created can be
// stored after a fresher one. Then ListEndOffsets either lists the topic
// as unknown or, when the listing saw the topic but the metadata kgo
// routes the ListOffsets request by did not, fails with
// UNKNOWN_TOPIC_OR_PARTITION, which kgo does not retry (a trainer failed
// to start on that, under load). So an unknown topic is asked about again
// with a metadata request of the catalog's own, which skips the cache. A
// catalog that has not ensured the topic takes a second "unknown" as an
// empty catalog: the topic may well not exist yet. One that has
// (EnsureTopic created the topic or found it) knows the topic exists, so
// it keeps asking, with backoff, until the broker knows it too or ctx
// ends. A partition without a leader yet is waited for the same way.
func (c *Catalog) endOffset(ctx context.Context) (int64, error) {
	adm := kadm.NewClient(c.client)
	backoff := 10 * time.Millisecond
	for attempt := 0; ; attempt++ {
		end, err := c.listEnd(ctx, adm)
		switch {
		case err == nil:
			return end, nil
		case errors.Is(err, kerr.UnknownTopicOrPartition) && attempt > 0 && !c.ensured.Load():
			return 0, nil
		case !errors.Is(err, kerr.UnknownTopicOrPartition) && !errors.Is(err, kerr.LeaderNotAvailable):
			return 0, fmt.Errorf("list end offset of %s: %w", c.topic, err)
		}
		if attempt > 0 {
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return 0, fmt.Errorf("list end offset of %s: the broker does not know the topic yet (%w): %w", c.topic, err, ctx.Err())
			case <-c.closed:
				t.Stop()
				return 0, ErrClosed
			}
			backoff = min(2*backoff, 500*time.Millisecond)
		}
		if err := c.refreshMetadata(ctx); err != nil {
			return 0, err
		}
	}
}

// listEnd lists the partition's end offset. A topic the metadata does not
// know is kerr.UnknownTopicOrPartition, whether kadm lists it so or fails
// the request with it.
func (c *Catalog) listEnd(ctx context.Context, adm *kadm.Client) (int64, error) {
	listed, err := adm.ListEndOffsets(ctx, c.topic)
	if err != nil {
		return 0, err
	}
	o, ok := listed.Lookup(c.topic, 0)
	if !ok {
		return 0, kerr.UnknownTopicOrPartition
	}
	return o.Offset, o.Err
}

// refreshMetadata asks a broker about the topic. A metadata request of our
// own is never answered from the client's cache, and its answer replaces
// what the cache holds, which the next ListEndOffsets routes by.
func (c *Catalog) refreshMetadata(ctx context.Context) error {
	req := kmsg.NewPtrMetadataRequest()
	topic := kmsg.NewMetadataRequestTopic()
	topic.Topic = kmsg.StringPtr(c.topic)
	req.Topics = append(req.Topics, topic)
	if _, err := req.RequestWith(ctx, c.client); err != nil {
		return fmt.Errorf("metadata of %s: %w", c.topic, err)
	}
	return nil
}

// waitFor returns once every record before offset end has been applied.
func (c *Catalog) waitFor(ctx context.Context, end int64) error {
	refreshed := false
	for {
		c.mu.RLock()
		next, changed := c.state.next, c.state.changed
		c.mu.RUnlock()
		if next >= end {
			return nil
		}
		if !refreshed {
			// The topic may have been created after the client last
			// looked; without this the consumer notices only at its next
			// periodic metadata refresh.
			c.client.ForceMetadataRefresh()
			refreshed = true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("sync catalog %s to offset %d (at %d): %w", c.topic, end, next, ctx.Err())
		case <-c.closed:
			return ErrClosed
		}
	}
}

// Follow calls fn with the version that name's alias points at, once the
// catalog has caught up with the topic, and again every time the alias
// moves to another version, until ctx ends; it then returns ctx.Err(). fn
// runs on Follow's goroutine, so a slow fn delays only later calls. If the
// alias does not exist yet, the first call comes when it is first set.
// Errors reading the topic are logged and retried with backoff, never
// returned; Follow returns ErrInvalid for a bad name or alias and ErrClosed
// if the Catalog is closed.
func (c *Catalog) Follow(ctx context.Context, name, alias string, fn func(Version)) error {
	if err := ValidName(name); err != nil {
		return err
	}
	if err := ValidAlias(alias); err != nil {
		return err
	}
	logger := c.logger.With("name", name, "alias", alias)
	backoff := 100 * time.Millisecond
	for {
		err := c.Sync(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, ErrClosed) {
			return err
		}
		logger.Warn("catalog not reachable; retrying", "err", err, "backoff", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		backoff = min(2*backoff, 5*time.Second)
	}
	last := 0
	for {
		c.mu.RLock()
		v, err := c.state.resolve(name, alias)
		changed := c.state.changed
		c.mu.RUnlock()
		if err == nil && v.Version != last {
			last = v.Version
			fn(v)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.closed:
			return ErrClosed
		}
	}
}
