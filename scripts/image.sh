#!/usr/bin/env bash
# image.sh holds the container image's build steps, so that they run the same
# inside `docker build` (the Dockerfile's RUN lines call it) and without
# Docker (internal/image's test calls it). Each step writes into a staging
# tree laid out as the image's root file system; the Dockerfile's last stage
# copies that tree onto the runtime base, nothing else.
#
#   image.sh ort OUT     stage ONNX Runtime at OUT/opt/onnxruntime/lib: copy
#                        the one scripts/setup.sh fetched (or $ORT_LIB) if
#                        there is one, else fetch it from the npm tarball as
#                        setup.sh does; either way its SHA-256 must match
#   image.sh build OUT   build the scorer and the trainer into OUT/usr/local/bin
#   image.sh check OUT   check the staged tree: every shared library the
#                        binaries and ONNX Runtime need is one the runtime base
#                        (gcr.io/distroless/cc-debian12) provides, and the
#                        binaries run with the staged library
#   image.sh all OUT     ort, build and check
#
# Linux x86-64 only: the checksum below is that of the x64 library.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)

ort_version=1.24.1
ort_sha256=53ef1ac028dd1b05554b8da28d9159eb3876f99868193d2aaa6e67f0243c23d4
ort_member=package/bin/napi-v6/linux/x64/libonnxruntime.so.1
# Where the library lives in the image; the Dockerfile's ENV names it too.
ort_path=/opt/onnxruntime/lib/libonnxruntime.so.1
bin_dir=/usr/local/bin
binaries=(scorer trainer)

# The shared libraries gcr.io/distroless/cc-debian12 carries (glibc,
# libgcc-s1, libstdc++6, libgomp1, libssl3): anything else a binary or ONNX
# Runtime needs would be missing at run time.
runtime_libs=(
	linux-vdso.so.1 ld-linux-x86-64.so.2
	libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libresolv.so.2
	libgcc_s.so.1 libstdc++.so.6 libgomp.so.1 libssl.so.3 libcrypto.so.3
)

log() { printf 'image: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}

check_arch() {
	[ "$(uname -m)" = x86_64 ] || die "only linux/amd64 is supported, not $(uname -m)"
}

stage_ort() {
	local out=$1 dest="$1$ort_path" src=${ORT_LIB:-$root/.cache/onnxruntime/libonnxruntime.so.1}
	check_arch
	mkdir -p "$(dirname "$dest")"
	if [ -f "$src" ]; then
		log "staging ONNX Runtime from $src"
		cp "$src" "$dest"
	else
		log "fetching ONNX Runtime $ort_version from the onnxruntime-node npm package"
		local tmp
		tmp=$(mktemp -d)
		# The tarball is only unpacked: `npm install` would run its
		# postinstall, which downloads more.
		(cd "$tmp" && npm pack --silent "onnxruntime-node@$ort_version" >/dev/null)
		tar -xzf "$tmp/onnxruntime-node-$ort_version.tgz" -C "$tmp" "$ort_member"
		mv "$tmp/$ort_member" "$dest"
		rm -rf "$tmp"
	fi
	chmod 0644 "$dest"
	echo "$ort_sha256  $dest" | sha256sum --check --quiet - ||
		die "$dest is not ONNX Runtime $ort_version for linux/x64 (SHA-256 mismatch)"
}

build() {
	local out=$1 name
	check_arch
	mkdir -p "$out$bin_dir"
	# cgo stays on: onnxruntime_go calls ONNX Runtime through a C wrapper
	# that dlopens the library, so the binaries link glibc dynamically.
	for name in "${binaries[@]}"; do
		log "building $name"
		(cd "$root" && CGO_ENABLED=1 GOOS=linux GOARCH=amd64 go build \
			-trimpath -buildvcs=false -ldflags='-s -w' \
			-o "$out$bin_dir/$name" "./cmd/$name")
	done
}

# needed FILE prints the sonames FILE needs, one a line, and fails if the
# dynamic loader cannot find one of them here.
needed() {
	local report
	report=$(ldd "$1") || die "ldd $1 failed"
	if grep -q 'not found' <<<"$report"; then
		die "$1 needs libraries that are missing: $(grep 'not found' <<<"$report" | tr -s ' \t' ' ')"
	fi
	awk '{ n = $1; sub(".*/", "", n); print n }' <<<"$report"
}

# expect_exit CODE CMD... runs CMD with only the staged library in its
# environment, as the image would, and fails unless it exits with CODE.
expect_exit() {
	local want=$1 got=0
	shift
	env -i PATH=/usr/bin:/bin HOME=/nonexistent ONNXRUNTIME_SHARED_LIBRARY_PATH="$staged_lib" \
		"$@" >/dev/null 2>&1 || got=$?
	[ "$got" -eq "$want" ] || die "$(basename "$1") ${*:2}: exit status $got, want $want"
	log "ok: $(basename "$1") ${*:2} exits $got"
}

check() {
	local out=$1 file lib name
	staged_lib="$out$ort_path"
	[ -f "$staged_lib" ] || die "$staged_lib is missing: run '$0 ort $out' first"
	for name in "${binaries[@]}"; do
		[ -x "$out$bin_dir/$name" ] || die "$out$bin_dir/$name is missing or not executable"
	done
	for file in "${binaries[@]/#/$out$bin_dir/}" "$staged_lib"; do
		for lib in $(needed "$file"); do
			[[ " ${runtime_libs[*]} " == *" $lib "* ]] ||
				die "$file needs $lib, which the runtime base does not provide"
		done
		log "ok: $(basename "$file") needs $(needed "$file" | grep -v '^linux-vdso' | sort | paste -sd ' ' -)"
	done
	expect_exit 0 "$out$bin_dir/scorer" -help
	expect_exit 0 "$out$bin_dir/trainer" -help
	expect_exit 0 "$out$bin_dir/trainer" models -help
	expect_exit 2 "$out$bin_dir/scorer" -no-such-flag
	expect_exit 2 "$out$bin_dir/trainer" -no-such-flag
}

[ $# -eq 2 ] || usage
out=$(mkdir -p "$2" && cd "$2" && pwd)
case $1 in
ort) stage_ort "$out" ;;
build) build "$out" ;;
check) check "$out" ;;
all)
	stage_ort "$out"
	build "$out"
	check "$out"
	;;
*) usage ;;
esac
