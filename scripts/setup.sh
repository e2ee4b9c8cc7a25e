#!/usr/bin/env bash
# setup.sh installs what streamscore's tests, demo and benchmark need and is
# safe to run again: each step checks before it installs.
#
#   - Debian packages: kcat and the Python clients the interop tests and the
#     benchmark's reference consumer use (run with /usr/bin/python3).
#   - ONNX Runtime 1.24.1, the version onnxruntime_go v1.27.0 binds, taken
#     from the onnxruntime-node npm tarball. The tarball is only unpacked:
#     `npm install` would run its postinstall, which downloads.
#   - Go modules.
#   - helm, for the chart tests in helm/.
#   - promtool, which checks and unit-tests the chart's alerting rules.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
ort_version=1.24.1
ort_dir="$root/.cache/onnxruntime"
ort_lib="$ort_dir/libonnxruntime.so.1"

log() { printf 'setup: %s\n' "$*" >&2; }

need_apt=()
command -v kcat >/dev/null 2>&1 || need_apt+=(kcat)
for mod in confluent_kafka avro onnx sklearn requests; do
	if ! /usr/bin/python3 -c "import $mod" >/dev/null 2>&1; then
		case $mod in
		confluent_kafka) need_apt+=(python3-confluent-kafka) ;;
		*) need_apt+=("python3-$mod") ;;
		esac
	fi
done
if ((${#need_apt[@]})); then
	log "installing Debian packages: ${need_apt[*]}"
	if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -f "$ort_lib" ]; then
	log "fetching ONNX Runtime $ort_version from the onnxruntime-node npm package"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && npm pack --silent "onnxruntime-node@$ort_version" >/dev/null)
	tar -xzf "$tmp/onnxruntime-node-$ort_version.tgz" -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
	mkdir -p "$ort_dir"
	mv "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$ort_lib"
fi

(cd "$root" && go mod download)

# helm, for the chart's tests (helm/): built once into GOPATH/bin, about 3
# minutes, then found there.
helm_version=v3.19.0
helm_bin="$(go env GOPATH | cut -d: -f1)/bin/helm"
if ! command -v helm >/dev/null 2>&1 && ! "$helm_bin" version >/dev/null 2>&1; then
	log "installing helm $helm_version into $(dirname "$helm_bin") (about 3 minutes)"
	GOFLAGS= go install "helm.sh/helm/v3/cmd/helm@$helm_version"
fi

# promtool, for the chart's alerting rules (helm/): `promtool check rules`
# and `promtool test rules`. Built once, about 5 minutes. Pinned: the
# Prometheus release the chart's Go tests parse PromQL with (v0.305.0)
# cannot be installed with `go install`, as its go.mod has replace
# directives; v0.316.0's has none.
promtool_version=v0.316.0
promtool_bin="$(go env GOPATH | cut -d: -f1)/bin/promtool"
if ! command -v promtool >/dev/null 2>&1 && ! "$promtool_bin" --version >/dev/null 2>&1; then
	log "installing promtool $promtool_version into $(dirname "$promtool_bin") (about 5 minutes)"
	GOFLAGS= go install "github.com/prometheus/prometheus/cmd/promtool@$promtool_version"
fi
log "ready; ONNX Runtime at $ort_lib"
