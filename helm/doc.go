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
package helm
