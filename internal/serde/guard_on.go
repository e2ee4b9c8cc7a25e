//go:build !avroguard_off

package serde

// guardOn: every body is walked by the avro guard before goavro decodes it.
// Only `make bench` builds a scorer without it (tag avroguard_off), to
// measure what the guard costs beside one that has it.
const guardOn = true
