// Package helm holds the streamscore Helm chart (helm/streamscore) and its
// tests: `helm lint` and `helm template` on the default values and on every
// value set in testdata/good, each rendered manifest decoded strictly into
// the Kubernetes API types, the rendered configuration parsed by the
// services' own ParseConfig, and every value set in testdata/bad refused
// with a message naming the field. The tests need the helm binary:
//
//	go install helm.sh/helm/v3/cmd/helm@v3.19.0
//
// (scripts/setup.sh, run by `make setup`, installs it when missing).
//
// With monitoring.dashboard and monitoring.rules the chart also ships a
// Grafana dashboard (streamscore/dashboards) and a PrometheusRule whose
// rule group is streamscore/rules. DashboardMetrics lists the metrics both
// query, for tests against a running scorer's /metrics. TestPromtool runs
// promtool's rule checks and unit tests (testdata/rules) when promtool is
// installed:
//
//	GOFLAGS=-mod=mod go install github.com/prometheus/prometheus/cmd/promtool@v0.316.0
package helm
