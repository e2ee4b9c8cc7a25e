package serde

import (
	"sync"
	"sync/atomic"
	"time"
)

// cowMap is a map read on every record and written a handful of times in a
// process's life (once per schema id). Readers load an immutable map through
// an atomic pointer, with no lock and no allocation; a writer copies the map
// under a mutex and publishes the copy.
type cowMap[K comparable, V any] struct {
	mu sync.Mutex // serializes writers
	m  atomic.Pointer[map[K]V]
}

func (c *cowMap[K, V]) load(k K) (V, bool) {
	var zero V
	p := c.m.Load()
	if p == nil {
		return zero, false
	}
	v, ok := (*p)[k]
	return v, ok
}

func (c *cowMap[K, V]) store(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var old map[K]V
	if p := c.m.Load(); p != nil {
		old = *p
	}
	next := make(map[K]V, len(old)+1)
	for ok, ov := range old {
		next[ok] = ov
	}
	next[k] = v
	c.m.Store(&next)
}

// negativeCache remembers failures for a while. It sits on the miss path
// only, so a plain mutex is enough; it can grow with a flood of distinct bad
// keys, so expired entries are swept whenever it has doubled since the last
// sweep.
type negativeCache[K comparable] struct {
	ttl       time.Duration
	mu        sync.Mutex
	m         map[K]negativeEntry
	sweepSize int
}

type negativeEntry struct {
	err     error
	expires time.Time
}

// minSweepSize is the size under which the negative cache is never swept.
const minSweepSize = 1024

func newNegativeCache[K comparable](ttl time.Duration) *negativeCache[K] {
	return &negativeCache[K]{ttl: ttl, m: make(map[K]negativeEntry), sweepSize: minSweepSize}
}

// get returns the remembered error for k, if it has not expired at now.
func (c *negativeCache[K]) get(k K, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return nil
	}
	if !now.Before(e.expires) {
		delete(c.m, k)
		return nil
	}
	return e.err
}

// put remembers err for k until now plus the TTL.
func (c *negativeCache[K]) put(k K, err error, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[k] = negativeEntry{err: err, expires: now.Add(c.ttl)}
	if len(c.m) < c.sweepSize {
		return
	}
	for key, e := range c.m {
		if !now.Before(e.expires) {
			delete(c.m, key)
		}
	}
	c.sweepSize = max(minSweepSize, 2*len(c.m))
}
