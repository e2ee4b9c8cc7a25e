// Package hostile runs the scorer and the trainer as real processes on a
// stream full of hostile records: every kind issue 10 found, mixed with
// good records of two schema versions. It has only tests; `make test` runs
// them (they build the binaries first, about a minute on a warm cache).
package hostile
