#!/usr/bin/python3
"""Produces sensor readings the way a Python service would: confluent-kafka's
Producer and SchemaRegistryClient, records encoded by the Apache avro
package and framed by hand in the Confluent wire format (magic byte 0,
4-byte big-endian schema id, Avro body).

Usage: interop_produce.py BOOTSTRAP REGISTRY_URL TOPIC SCHEMA_FILE COUNT
Prints the schema id it registered.
"""
import datetime
import io
import random
import struct
import sys

import avro.io
import avro.schema
from confluent_kafka import Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient


def main():
    bootstrap, registry_url, topic, schema_file, count = sys.argv[1:6]
    text = open(schema_file).read()
    registry = SchemaRegistryClient({"url": registry_url})
    schema_id = registry.register_schema(topic + "-value", Schema(text, "AVRO"))
    writer = avro.io.DatumWriter(avro.schema.parse(text))
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    failures = []
    rng = random.Random(1)
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    for i in range(int(count)):
        reading = {
            "device_id": "py-%03d" % (i % 17),
            "ts": start + datetime.timedelta(seconds=i),
            "temperature": rng.gauss(21, 2), "humidity": rng.gauss(45, 8),
            "pressure": rng.gauss(1013, 5), "light": rng.uniform(10, 900),
            "co2": rng.gauss(600, 80), "vibration": abs(rng.gauss(1.5, 0.5)),
            "sound": rng.gauss(45, 5), "rssi": int(rng.gauss(-70, 8)),
            "uptime_s": rng.randint(60, 10**6),
            "battery_volts": None if i % 3 == 0 else rng.gauss(3.6, 0.1),
        }
        buf = io.BytesIO()
        buf.write(struct.pack(">bI", 0, schema_id))
        writer.write(reading, avro.io.BinaryEncoder(buf))
        producer.produce(topic, key=reading["device_id"].encode(), value=buf.getvalue(),
                         on_delivery=lambda err, msg: err and failures.append(err))
        producer.poll(0)
    producer.flush(30)
    if failures:
        sys.exit("delivery failed: %s" % failures[0])
    print(schema_id)


if __name__ == "__main__":
    main()
