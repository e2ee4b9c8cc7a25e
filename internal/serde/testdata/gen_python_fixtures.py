#!/usr/bin/python3
"""Writes python_fixtures.json: framed input and output records encoded by
the reference Avro implementation (Debian's python3-avro), so the Go tests
check serde's decoder and hand-written Prediction encoder against an encoder
they share no code with.

The output schema is derived here independently of the Go code: the input
record renamed <Name>Scored with a `prediction` field of the Prediction
record appended last.

Run from this directory:  /usr/bin/python3 gen_python_fixtures.py
"""
import datetime
import io
import json
import os
import struct

import avro.io
import avro.schema
import avro.timezones

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(HERE, "..", "..", "..", "schemas")
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=avro.timezones.utc)


def load(name):
    with open(os.path.join(SCHEMAS, name + ".avsc"), encoding="utf-8") as f:
        return json.load(f)


def output_schema(inp, prediction):
    out = dict(inp)
    out["name"] = inp["name"] + "Scored"
    out["fields"] = list(inp["fields"]) + [{"name": "prediction", "type": prediction}]
    return out


def ts(ms):
    return EPOCH + datetime.timedelta(milliseconds=ms)


def f32(x):
    """x rounded to float32, as a model's margin is before it is widened."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def frame(schema_id, schema, datum):
    buf = io.BytesIO()
    buf.write(struct.pack(">bI", 0, schema_id))
    avro.io.DatumWriter(schema).write(datum, avro.io.BinaryEncoder(buf))
    return buf.getvalue()


def main():
    prediction = load("prediction")
    inputs = {
        "sensor_reading": (1, {
            "device_id": "dev-0042", "ts": ts(1767225600123), "temperature": 21.5,
            "humidity": 40.25, "pressure": 1013.2, "light": 350.0, "co2": 612.0,
            "vibration": 0.03, "sound": 41.5, "rssi": -67, "uptime_s": 86400 * 12,
            "battery_volts": 3.71,
        }),
        "text_message": (2, {
            "id": "msg-7", "ts": ts(1767225600999), "text": "Grüße, 世界! 🎉",
            "language": None,
        }),
    }
    predictions = [
        {"name": "regressor", "model_name": "temp-reg", "model_version": "3",
         "label": None, "value": 22.125, "scores": [], "scored_at_ms": 1767225601000},
        {"name": "binary classifier", "model_name": "spam", "model_version": "2026-01-01",
         "label": "spam", "value": 0.875, "scores": [["ham", 0.125], ["spam", 0.875]],
         "scored_at_ms": 1767225601234},
        {"name": "multiclass unicode", "model_name": "modèle", "model_version": "v1.0-β",
         "label": "日本語", "value": None,
         "scores": [["日本語", 0.5], ["English", 0.25], ["émoji 🎉", 0.25]],
         "scored_at_ms": 1},
        {"name": "empty strings before epoch", "model_name": "", "model_version": "",
         "label": "", "value": -0.5, "scores": [["", 1.0]], "scored_at_ms": -86400001},
        {"name": "binary classifier with its logit", "model_name": "fraud", "model_version": "7",
         "label": "fraud", "value": 0.9999999999999982,
         "scores": [["ok", 1.8e-15], ["fraud", 0.9999999999999982]],
         "scored_at_ms": 1767225601234, "margin": [["fraud", f32(33.95)]]},
        {"name": "multiclass with margin", "model_name": "modèle", "model_version": "v1.0-β",
         "label": "日本語", "value": None,
         "scores": [["日本語", 0.5], ["English", 0.25], ["émoji 🎉", 0.25]],
         "scored_at_ms": 1, "margin": [["日本語", f32(-0.3)], ["English", -1.25], ["émoji 🎉", -0.0]]},
        {"name": "empty margin map", "model_name": "m", "model_version": "1",
         "label": "a", "value": None, "scores": [], "scored_at_ms": 5, "margin": []},
    ]
    for p in predictions:
        p.setdefault("margin", None)
    cases = []
    for schema_name, (input_id, record) in inputs.items():
        inp = load(schema_name)
        in_schema = avro.schema.parse(json.dumps(inp))
        out_schema = avro.schema.parse(json.dumps(output_schema(inp, prediction)))
        for p in predictions:
            out_record = dict(record)
            out_record["prediction"] = {
                "model_name": p["model_name"], "model_version": p["model_version"],
                "label": p["label"], "value": p["value"],
                "scores": dict(p["scores"]), "scored_at": ts(p["scored_at_ms"]),
                "margin": None if p["margin"] is None else dict(p["margin"]),
            }
            cases.append({
                "name": schema_name + "/" + p["name"],
                "input_schema": schema_name,
                "input_id": input_id,
                "output_id": 100 + input_id,
                "input_frame": frame(input_id, in_schema, record).hex(),
                "output_frame": frame(100 + input_id, out_schema, out_record).hex(),
                "prediction": {k: p[k] for k in p if k != "name"},
            })
    with open(os.path.join(HERE, "python_fixtures.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
