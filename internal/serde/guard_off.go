//go:build avroguard_off

package serde

// guardOn is off in a build for measuring the guard's cost only (see
// guard_on.go): never ship one, since a body claiming 2^31 items then
// reaches goavro and the scorer's projections.
const guardOn = false
