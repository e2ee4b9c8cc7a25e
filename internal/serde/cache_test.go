package serde

import (
	"errors"
	"testing"
	"time"
)

func TestNegativeCacheExpiresAndSweeps(t *testing.T) {
	c := newNegativeCache[int](time.Second)
	start := time.Unix(0, 0)
	errMiss := errors.New("miss")
	for i := range minSweepSize - 1 {
		c.put(i, errMiss, start)
	}
	if err := c.get(1, start.Add(999*time.Millisecond)); err != errMiss {
		t.Fatalf("before expiry get = %v, want the remembered error", err)
	}
	if err := c.get(2, start.Add(time.Second)); err != nil {
		t.Fatalf("at expiry get = %v, want nil", err)
	}
	// Reaching the sweep size drops every expired entry at once.
	later := start.Add(2 * time.Second)
	c.put(-1, errMiss, later)
	c.put(-2, errMiss, later)
	if len(c.m) != 2 {
		t.Fatalf("after the sweep %d entries remain, want the 2 live ones", len(c.m))
	}
}

func TestNegativeCacheWithZeroTTLRemembersNothing(t *testing.T) {
	c := newNegativeCache[int](0)
	now := time.Unix(0, 0)
	c.put(1, errors.New("miss"), now)
	if err := c.get(1, now); err != nil {
		t.Fatalf("get = %v, want nil", err)
	}
}

func TestCowMapKeepsEarlierEntries(t *testing.T) {
	var m cowMap[string, int]
	if _, ok := m.load("a"); ok {
		t.Fatal("empty map has a")
	}
	m.store("a", 1)
	m.store("b", 2)
	if v, ok := m.load("a"); !ok || v != 1 {
		t.Fatalf("a = %d, %v; want 1", v, ok)
	}
	if v, ok := m.load("b"); !ok || v != 2 {
		t.Fatalf("b = %d, %v; want 2", v, ok)
	}
}
