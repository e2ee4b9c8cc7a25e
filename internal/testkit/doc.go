// Package testkit holds what the project's tests share: generated Avro
// schemas and bodies, benign and hostile, for fuzzers and hostile-input
// tests. It is imported by tests only.
package testkit
