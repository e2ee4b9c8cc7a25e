// Package chaos holds the scorer's fault-injection tests. They run the real
// parts as separate processes on loopback (the broker and registry from
// cmd/stack, the scorer from cmd/scorer), break one of them on purpose, and
// then read every output and dead letter back to check, input offset by
// input offset, that nothing was lost (and, in exactly-once mode, that
// nothing was repeated).
//
// The tests sit behind the build tag chaos because they take minutes:
//
//	make chaos
//
// CHAOS_SEED fixes the random fault schedule (each test logs the seed it
// used), CHAOS_REPORT names a file to which every test appends its
// one-line outcome, "fault | mode | in | out | dlq | duplicated | lost",
// CHAOS_SCORER_ARGS adds flags to every scorer the tests start, to try the
// same faults on other settings (CHAOS_SCORER_ARGS=-instance-id= makes the
// at-least-once scorers dynamic group members, to time their restarts
// against the static ones'; a -log-level above info hides the start line
// the tests wait for), and CHAOS_LOGS names a directory to keep the
// scorer and stack logs in.
package chaos
