package main

import (
	"fmt"
	"slices"
	"strings"
)

// part is one section of the benchmark, chosen with -parts.
type part string

const (
	partFull   part = "full"   // full speed, with and without the avro guard
	partEOS    part = "eos"    // full speed, exactly-once
	partRate   part = "rate"   // fixed rate, end-to-end latency
	partPython part = "python" // the Python consumer, full speed and fixed rate
	partNested part = "nested" // nested records with categories beside flat ones
)

// allParts is every part, in the order they run; `make bench` runs them all.
var allParts = []part{partFull, partEOS, partRate, partPython, partNested}

// parts is the set of parts to run.
type parts map[part]bool

// parseParts reads -parts: names from allParts, comma separated, or "all".
func parseParts(s string) (parts, error) {
	ps := parts{}
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "all":
			for _, p := range allParts {
				ps[p] = true
			}
		case slices.Contains(allParts, part(name)):
			ps[part(name)] = true
		default:
			return nil, fmt.Errorf("unknown part %q; want %s or all, comma separated", name, joinParts(allParts))
		}
	}
	return ps, nil
}

// String lists the parts in the order they run.
func (ps parts) String() string {
	var in []part
	for _, p := range allParts {
		if ps[p] {
			in = append(in, p)
		}
	}
	return joinParts(in)
}

func joinParts(ps []part) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = string(p)
	}
	return strings.Join(names, ",")
}
