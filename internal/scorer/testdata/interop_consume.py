#!/usr/bin/python3
"""Reads scored records back with confluent-kafka and decodes them with the
Apache avro package, using the output schema the registry holds for each
record's id: a reader that shares no code with streamscore.

Usage: interop_consume.py BOOTSTRAP REGISTRY_URL TOPIC COUNT
Prints one JSON object per record: key, the fields a test checks, and the
prediction.
"""
import io
import json
import struct
import sys

import avro.io
import avro.schema
from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient


def main():
    bootstrap, registry_url, topic, count = sys.argv[1:5]
    registry = SchemaRegistryClient({"url": registry_url})
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "interop-reader",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    readers, seen, empty_polls = {}, 0, 0
    while seen < int(count) and empty_polls < 60:
        msg = consumer.poll(1.0)
        if msg is None:
            empty_polls += 1
            continue
        if msg.error():
            sys.exit("consume: %s" % msg.error())
        value = msg.value()
        magic, schema_id = struct.unpack(">bI", value[:5])
        if schema_id not in readers:
            schema = registry.get_schema(schema_id)
            readers[schema_id] = avro.io.DatumReader(avro.schema.parse(schema.schema_str))
        record = readers[schema_id].read(avro.io.BinaryDecoder(io.BytesIO(value[5:])))
        pred = record["prediction"]
        print(json.dumps({
            "key": msg.key().decode(), "magic": magic, "device_id": record["device_id"],
            "temperature": record["temperature"], "label": pred["label"],
            "scores": pred["scores"], "model_version": pred["model_version"],
            "headers": {k: v.decode() for k, v in (msg.headers() or [])},
        }))
        seen += 1
    consumer.close()
    if seen < int(count):
        sys.exit("read %d of %s records" % (seen, count))


if __name__ == "__main__":
    main()
