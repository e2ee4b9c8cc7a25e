#!/usr/bin/python3
"""Decodes scored records with the Apache avro package (Debian's
python3-avro), a reader that shares no code with streamscore, and prints
the margin of each record's prediction.

Reads one JSON object on stdin: {"schemas": {id: output schema text},
"values": [hex of a Confluent-framed output value, ...]}. Prints a JSON list
with, per value, null or {label: margin}, each margin as float.hex(), so
the double read comes back bit for bit.
"""
import io
import json
import struct
import sys

import avro.io
import avro.schema


def main():
    job = json.load(sys.stdin)
    readers = {int(i): avro.io.DatumReader(avro.schema.parse(s)) for i, s in job["schemas"].items()}
    margins = []
    for value in map(bytes.fromhex, job["values"]):
        magic, schema_id = struct.unpack(">bI", value[:5])
        if magic != 0:
            sys.exit("magic byte %d" % magic)
        record = readers[schema_id].read(avro.io.BinaryDecoder(io.BytesIO(value[5:])))
        margin = record["prediction"]["margin"]
        margins.append(None if margin is None else {k: v.hex() for k, v in margin.items()})
    json.dump(margins, sys.stdout)


if __name__ == "__main__":
    main()
