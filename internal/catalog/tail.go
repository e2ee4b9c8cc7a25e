package catalog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
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
			c.state.apply(string(r.Key), r.Value, r.Offset)
		})
		c.state.notify()
		c.mu.Unlock()
	}
}

// Sync returns once the catalog has read every record written before the
// call, so that what it lists is current. A topic that does not exist yet
// is an empty catalog.
func (c *Catalog) Sync(ctx context.Context) error {
	end, err := c.endOffset(ctx)
	if err != nil {
		return err
	}
	return c.waitFor(ctx, end)
}

// endOffset is the partition's end offset, 0 if the topic does not exist.
// A topic created by another client moments ago may be missing from this
// client's cached metadata, which answers "unknown topic" without asking
// the broker (seen under load: a Sync right after another catalog's
// publish returned at once); so an unknown topic is asked about once more
// after a metadata request of its own.
func (c *Catalog) endOffset(ctx context.Context) (int64, error) {
	adm := kadm.NewClient(c.client)
	for attempt := 0; ; attempt++ {
		listed, err := adm.ListEndOffsets(ctx, c.topic)
		if err != nil {
			return 0, fmt.Errorf("list end offset of %s: %w", c.topic, err)
		}
		o, ok := listed.Lookup(c.topic, 0)
		unknown := !ok || errors.Is(o.Err, kerr.UnknownTopicOrPartition)
		switch {
		case unknown && attempt == 0:
			if _, err := adm.Metadata(ctx, c.topic); err != nil {
				return 0, fmt.Errorf("metadata of %s: %w", c.topic, err)
			}
			continue
		case unknown:
			return 0, nil
		case o.Err != nil:
			return 0, fmt.Errorf("list end offset of %s: %w", c.topic, o.Err)
		}
		return o.Offset, nil
	}
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
