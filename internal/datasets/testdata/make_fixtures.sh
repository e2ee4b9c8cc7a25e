#!/usr/bin/env bash
# make_fixtures.sh copies the fixtures of this directory out of the data
# sets that scripts/datasets.sh unpacks, keeping their layout; run it from
# here. See README.md for the licences.
set -euo pipefail
src=../../../.cache/datasets

# Sensors: the header, mote 1's first readings and the start of its event,
# mote 3's last reading, the start of mote 4's event.
mkdir -p sensor-network/data
{
	head -n 1 "$src/sensor-network/data/data.csv"
	awk -F, '($2 == 1 && ($1 <= 2 || $1 == 2343 || $1 == 2344)) || ($2 == 4 && $1 == 2362) || ($2 == 3 && $1 == 5039)' \
		"$src/sensor-network/data/data.csv"
} >sensor-network/data/data.csv

# Mails: one or more of each folder, chosen for what they exercise (see
# mail_test.go).
for f in \
	easy-ham-1/02029.d5a4d6426d7b98b1855162933e94e489.json \
	easy-ham-2/01280.0a571b09b3344b0531a16339499b5a06.json \
	hard-ham-1/00003.268fd170a3fc73bee2739d8204856a53.json \
	spam-1/00023.b6d27c684f5fc803cfa1060adb2d0805.json \
	spam-1/00037.21cc985cc36d931916863aed24de8c27.json \
	spam-1/00329.af4af411fb1268d1461b29fa2d2145a3.json \
	spam-1/00336.92409253178027f58e2c072a7e82791e.json \
	spam-2/00714.cd13d8db12cc1f661d6b2eb6fcbb5156.json \
	spam-2/00860.f1651a6a5f33bafe34e23afeacf85eb1.json; do
	mkdir -p "spam-assassin/data/$(dirname "$f")"
	cp "$src/spam-assassin/data/$f" "spam-assassin/data/$f"
done

# Bird strikes: the header, the first strike (no damage), the first with
# substantial damage, one without a speed, and one of the undocumented
# damage code C.
mkdir -p vega-datasets/data
{
	head -n 1 "$src/vega-datasets/data/birdstrikes.csv"
	sed -n '2p' "$src/vega-datasets/data/birdstrikes.csv"
	grep -m 1 ',Substantial,' "$src/vega-datasets/data/birdstrikes.csv"
	grep -m 1 $',\r$' "$src/vega-datasets/data/birdstrikes.csv" # the file ends lines with CRLF
	grep -m 1 ',C,' "$src/vega-datasets/data/birdstrikes.csv"
} >vega-datasets/data/birdstrikes.csv

# Weather: the header, Seattle's first two days, New York's first day.
{
	head -n 3 "$src/vega-datasets/data/weather.csv"
	grep -m 1 '^New York,' "$src/vega-datasets/data/weather.csv"
} >vega-datasets/data/weather.csv

# Digits: the first three, from Debian's python3-sklearn.
mkdir -p sklearn/data
# (sed reads to the end: head would leave zcat a broken pipe, which
# pipefail makes the script's failure.)
zcat /usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz | sed -n '1,3p' | gzip -n >sklearn/data/digits.csv.gz

# Words: the first entries (a word, its alternative, one with an
# apostrophe), two that spelling miscounts, one that it counts, one with an
# underscore, the last word and the file's last line (punctuation).
mkdir -p cmudict/data
{
	head -n 3 "$src/cmudict/data/dict.txt"
	grep -E '^(POETRY|QUEUE|CREATE|D_C|ZYWICKI)  ' "$src/cmudict/data/dict.txt"
	tail -n 1 "$src/cmudict/data/dict.txt"
} >cmudict/data/dict.txt
