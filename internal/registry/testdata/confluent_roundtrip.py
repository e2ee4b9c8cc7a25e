"""Round trip through the registry with confluent_kafka's SchemaRegistryClient.

Run by python_test.go as:

    /usr/bin/python3 confluent_roundtrip.py URL USER PASSWORD

against a fresh registry that requires basic auth USER:PASSWORD. Every
check raises AssertionError with what went wrong; on success the last line
printed is "roundtrip ok".
"""

import json
import sys

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

V1 = json.dumps({
    "type": "record", "name": "Reading", "namespace": "py.test",
    "fields": [{"name": "id", "type": "string"}],
})
# Adds a field with a default: compatible under BACKWARD.
V2 = json.dumps({
    "type": "record", "name": "Reading", "namespace": "py.test",
    "fields": [{"name": "id", "type": "string"},
               {"name": "level", "type": "double", "default": 0.0}],
})
# Adds a field without a default: refused under BACKWARD.
BREAKING = json.dumps({
    "type": "record", "name": "Reading", "namespace": "py.test",
    "fields": [{"name": "id", "type": "string"},
               {"name": "unit", "type": "string"}],
})


def expect_error(code, fn, *args):
    try:
        fn(*args)
    except SchemaRegistryError as e:
        assert e.error_code == code, "want error_code %d, got %r" % (code, e)
        return e
    raise AssertionError("want SchemaRegistryError %d, got success" % code)


def main(url, user, password):
    # A client without credentials is turned away.
    anonymous = SchemaRegistryClient({"url": url})
    err = expect_error(401, anonymous.get_subjects)
    assert err.http_status_code == 401, err

    client = SchemaRegistryClient({"url": url, "basic.auth.user.info": user + ":" + password})
    subject = "py-readings-value"

    id1 = client.register_schema(subject, Schema(V1, "AVRO"))
    assert id1 == 1, "first id %r" % id1
    # A fresh client has no cache: the registry itself must answer the same id.
    other = SchemaRegistryClient({"url": url, "basic.auth.user.info": user + ":" + password})
    assert other.register_schema(subject, Schema(V1, "AVRO")) == id1

    got = client.get_schema(id1)
    assert json.loads(got.schema_str) == json.loads(V1), got.schema_str
    assert got.schema_type == "AVRO", got.schema_type

    assert client.test_compatibility(subject, Schema(V2, "AVRO")) is True
    assert client.test_compatibility(subject, Schema(BREAKING, "AVRO")) is False
    err = expect_error(409, client.register_schema, subject, Schema(BREAKING, "AVRO"))
    assert err.http_status_code == 409, err

    id2 = client.register_schema(subject, Schema(V2, "AVRO"))
    assert id2 == 2, "second id %r" % id2

    latest = client.get_latest_version(subject)
    assert (latest.schema_id, latest.version, latest.subject) == (id2, 2, subject), vars(latest)
    assert json.loads(latest.schema.schema_str) == json.loads(V2)

    first = client.get_version(subject, 1)
    assert first.schema_id == id1, vars(first)

    found = client.lookup_schema(subject, Schema(V1, "AVRO"))
    assert (found.schema_id, found.version, found.subject) == (id1, 1, subject), vars(found)
    expect_error(40403, client.lookup_schema, subject, Schema(BREAKING, "AVRO"))

    assert client.get_versions(subject) == [1, 2]
    assert client.get_subjects() == [subject], client.get_subjects()

    # Subject names are URL-encoded by the client; a slash must survive.
    slashed = "team/readings-value"
    assert client.register_schema(slashed, Schema(V1, "AVRO")) == id1
    assert client.get_latest_version(slashed).subject == slashed

    assert client.set_compatibility(subject, "full") == {"compatibility": "FULL"}
    assert client.get_compatibility(subject) == "FULL"
    assert client.set_compatibility(level="NONE") == {"compatibility": "NONE"}
    assert client.get_compatibility() == "NONE"
    expect_error(42203, client.set_compatibility, None, "SIDEWAYS")

    expect_error(40401, client.get_latest_version, "no-such-subject")
    expect_error(40403, client.get_schema, 999)
    expect_error(42201, client.register_schema, subject, Schema('{"type": "record"', "AVRO"))
    expect_error(42201, client.register_schema, subject, Schema('syntax = "proto3";', "PROTOBUF"))

    assert client.delete_version(subject, 1) == 1
    assert client.delete_subject(subject) == [2]
    assert client.get_subjects() == [slashed], client.get_subjects()
    print("roundtrip ok")


if __name__ == "__main__":
    main(*sys.argv[1:4])
