#!/usr/bin/python3
"""Python reference scorer for `make bench`.

The way this job is usually done in Python today: confluent-kafka for Kafka
and the schema registry, the Apache avro package for Avro, and scikit-learn
for the model. It consumes Confluent-framed io.streamscore.sensors
SensorReading records, scores each with a GradientBoostingClassifier (or,
with --estimator hgb, a HistGradientBoostingClassifier) of
the same shape as streamscore's Go model, produces the record enriched with
an io.streamscore.Prediction, and commits offsets at least once, the same way
the Go scorer does. It then prints one JSON line of measurements on stdout;
everything else goes to stderr.

It is meant as a strong baseline, not a strawman. The choices that make it
fast without doing less work than the Go scorer:

* one DatumReader per writer schema id, built once, and BytesIO decoders;
* the output body is the input body followed by the Avro encoding of the
  Prediction: the output schema is by construction the writer schema with
  one field appended last, so those bytes are exactly the encoding of the
  output record, and re-encoding the whole record would add nothing but
  time (the Go scorer writes its output the same way);
* consume(num_messages=...) rather than one poll() per message, in both
  modes, taking what is already fetched (up to --batch-size) and waiting
  only when nothing is, so a slow stream is not held back to fill a batch;
  the modes differ only in how records reach the model;
* predict_proba on one OpenMP thread (--model-threads): for the few rows a
  stream scorer passes at a time, a parallel region per call costs far more
  than the trees (see main);
* produce() is asynchronous and offsets follow acknowledgements, as in the
  Go scorer's tracker: the records of one consume() call are stored for
  commit (store_offsets) once each of their outputs, and every output of
  every earlier call, is acknowledged, and librdkafka's auto-commit commits
  what was stored. Delivery reports are served on a thread of their own, so
  they are neither delayed nor timed late by the scoring loop. No flush()
  per batch stalls the pipeline; at the end everything is flushed and the
  stored offsets are committed synchronously.

Measurements: the window opens when the first records are consumed (after
training, group join and connecting the producer) and closes when every
output is acknowledged and the offsets are committed. cpu_us_per_record is
time.process_time() over that window (every thread of the process,
librdkafka's included) per record. A record's latency is the time its
output's delivery report arrived minus the input record's Kafka timestamp;
p50/p99 are over every record.

Usage (see README.md):

    /usr/bin/python3 bench/python/consumer.py --bootstrap 127.0.0.1:9092 \\
        --registry http://127.0.0.1:8081 --topic sensors \\
        --output-topic sensors-scored --group bench-py --count 20000 \\
        --mode batch --batch-size 128 --train-csv sensors.csv
"""

import argparse
import csv
import datetime
import functools
import io
import json
import os
import pickle
import struct
import sys
import threading
import time

import avro.io
import avro.schema
import numpy as np
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

IMPL = "python-confluent-kafka"

# Feature columns, in the Go model's order (internal/sample.SensorFeatures).
FEATURES = (
    "temperature", "humidity", "pressure", "light", "co2",
    "vibration", "sound", "rssi", "uptime_s", "battery_volts",
)
LABEL = "label"

# What the Go model reads for battery_volts on mains-powered devices, whose
# readings carry null there (internal/sample.MainsVolts).
MAINS_VOLTS = 3.3

MODEL_NAME = "sklearn"
MODEL_VERSION = "1"
# Class 0 is normal, class 1 an anomaly; the score of the positive class is
# the prediction's value.
CLASS_LABELS = ("normal", "anomaly")

PREDICTION_FIELD = "prediction"
PREDICTION_SCHEMA_PATH = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "schemas", "prediction.avsc")

MAGIC = 0
HEADER = struct.Struct(">bI")

# Producer settings. acks=all and idempotence match the Go scorer's franz-go
# defaults (all ISR acks, idempotent writes); so does snappy, franz-go's
# default batch compression. linger.ms=1 lets the records of one consume()
# call share produce requests without holding any of them back noticeably.
PRODUCER_CONFIG = {
    "acks": "all",
    "enable.idempotence": True,
    "linger.ms": 1,
    "compression.type": "snappy",
}

# Consumer settings. Offsets are stored by hand once outputs are
# acknowledged (enable.auto.offset.store=false) and auto-committed every
# 5 s, as franz-go's AutoCommitMarks does by default; a new group starts at
# the earliest offset so that a topic filled before the run is read whole.
CONSUMER_CONFIG = {
    "enable.auto.commit": True,
    "enable.auto.offset.store": False,
    "auto.commit.interval.ms": 5000,
    "auto.offset.reset": "earliest",
}


class BenchError(Exception):
    """A failure that ends the run with a message and a non-zero exit."""


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bootstrap", required=True, help="Kafka bootstrap HOST:PORT")
    p.add_argument("--registry", required=True, help="schema registry URL")
    p.add_argument("--topic", required=True, help="input topic of SensorReading records")
    p.add_argument("--output-topic", required=True, help="topic the scored records go to")
    p.add_argument("--group", required=True, help="consumer group id")
    p.add_argument("--count", type=int, required=True, help="records to score, then stop")
    p.add_argument("--mode", choices=("single", "batch"), required=True,
                   help="single: predict_proba per record; batch: once per batch")
    p.add_argument("--batch-size", type=int, default=128,
                   help="most records per consume() call and per model call (default 128)")
    p.add_argument("--train-csv", required=True,
                   help="training data: the 10 feature columns, then label (0/1)")
    p.add_argument("--timeout", type=float, default=120,
                   help="seconds to reach --count records, from subscribing (default 120)")
    p.add_argument("--estimator", choices=("gb", "hgb"), default="gb",
                   help="gb: GradientBoostingClassifier (default; the fastest scikit-learn "
                        "ensemble to score a few rows at a time); hgb: HistGradientBoostingClassifier")
    p.add_argument("--model-threads", type=int, default=1,
                   help="OpenMP threads for predict_proba while scoring (default 1)")
    args = p.parse_args(argv)
    if args.count <= 0:
        p.error("--count must be positive")
    if args.batch_size <= 0:
        p.error("--batch-size must be positive")
    if args.timeout <= 0:
        p.error("--timeout must be positive")
    if args.model_threads <= 0:
        p.error("--model-threads must be positive")
    return args


def log(msg):
    print(f"bench/python: {msg}", file=sys.stderr, flush=True)


def load_training(path):
    """Reads the training CSV into a float64 matrix and a 0/1 label vector.
    An empty or null battery_volts reads as MAINS_VOLTS, as in the stream."""
    with open(path, newline="") as f:
        reader = csv.reader(f)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise BenchError(f"training CSV {path} is empty") from None
        missing = [c for c in FEATURES + (LABEL,) if c not in header]
        if missing:
            raise BenchError(f"training CSV {path} lacks columns {missing}; header is {header}")
        cols = [header.index(c) for c in FEATURES]
        label_col = header.index(LABEL)
        volts_col = header.index("battery_volts")
        rows, labels = [], []
        for line_no, line in enumerate(reader, start=2):
            if not line:
                continue
            try:
                row = []
                for c in cols:
                    v = line[c].strip()
                    if c == volts_col and v.lower() in ("", "null", "nan"):
                        row.append(MAINS_VOLTS)
                    else:
                        row.append(float(v))
                labels.append(int(float(line[label_col])))
            except (ValueError, IndexError) as e:
                raise BenchError(f"training CSV {path} line {line_no}: {e}") from e
            rows.append(row)
    if not rows:
        raise BenchError(f"training CSV {path} has no rows")
    y = np.asarray(labels, dtype=np.int64)
    if set(np.unique(y)) != {0, 1}:
        raise BenchError(f"training CSV {path}: label must take both values 0 and 1, got {sorted(set(y))}")
    return np.asarray(rows, dtype=np.float64), y


def train(path, estimator):
    """Fits a 100-tree, depth-6 ensemble, the shape of the Go model, or loads
    the one an earlier run fitted on the same file: fitting is not what is
    measured, and GradientBoostingClassifier takes tens of seconds.

    GradientBoostingClassifier is the default because it scores one row in
    about 60 us where HistGradientBoostingClassifier takes about 1 ms (its
    per-call overhead dominates), and a batch of 128 about three times
    faster: the strongest baseline scikit-learn offers for this job."""
    cache = f"{path}.{estimator}.pickle"
    if os.path.exists(cache) and os.path.getmtime(cache) >= os.path.getmtime(path):
        with open(cache, "rb") as f:
            model = pickle.load(f)
        log(f"loaded the model fitted earlier from {cache}")
        return model
    x, y = load_training(path)
    if estimator == "gb":
        model = GradientBoostingClassifier(n_estimators=100, max_depth=6, learning_rate=0.1)
    else:
        model = HistGradientBoostingClassifier(
            max_iter=100, max_depth=6, learning_rate=0.1, early_stopping=False)
    model.fit(x, y)
    # predict_proba's columns follow classes_; CLASS_LABELS assumes [0, 1].
    if list(model.classes_) != [0, 1]:
        raise BenchError(f"unexpected classes {model.classes_}")
    log(f"trained {estimator} on {len(y)} rows ({int(y.sum())} anomalies)")
    with open(cache + ".tmp", "wb") as f:
        pickle.dump(model, f)
    os.replace(cache + ".tmp", cache)
    return model


def output_schema(input_schema_str):
    """The output schema of an input record schema, derived as the Go scorer
    derives it (internal/serde.OutputSchema): the same record renamed
    <Name>Scored, aliases dropped, with the Prediction field appended last."""
    rec = json.loads(input_schema_str)
    if not isinstance(rec, dict) or rec.get("type") != "record":
        raise BenchError("input schema is not a record")
    if any(f.get("name") == PREDICTION_FIELD for f in rec["fields"]):
        raise BenchError(f"input record {rec['name']} already has a field {PREDICTION_FIELD!r}")
    with open(PREDICTION_SCHEMA_PATH) as f:
        prediction = json.load(f)
    rec.pop("aliases", None)
    rec["name"] = rec["name"] + "Scored"
    rec["fields"] = rec["fields"] + [{"name": PREDICTION_FIELD, "type": prediction}]
    return json.dumps(rec, separators=(",", ":"))


class WriterSchema:
    """What is cached per writer schema id: its reader and the header of the
    output frames, which names the registered output schema."""

    __slots__ = ("reader", "out_header")

    def __init__(self, reader, out_header):
        self.reader = reader
        self.out_header = out_header


class Schemas:
    """Writer schemas by id, fetched from the registry once each, with the
    output schema of each registered under <output topic>-value."""

    def __init__(self, registry, output_topic):
        self.registry = registry
        self.subject = f"{output_topic}-value"
        self.by_id = {}

    def get(self, schema_id):
        ws = self.by_id.get(schema_id)
        if ws is None:
            ws = self._load(schema_id)
            self.by_id[schema_id] = ws
        return ws

    def _load(self, schema_id):
        try:
            writer = self.registry.get_schema(schema_id)
        except Exception as e:
            raise BenchError(f"fetch writer schema {schema_id}: {e}") from e
        out_str = output_schema(writer.schema_str)
        avro.schema.parse(out_str)  # fail here, not in a consumer's decoder
        try:
            out_id = self.registry.register_schema(self.subject, Schema(out_str, "AVRO"))
        except Exception as e:
            raise BenchError(f"register output schema under {self.subject}: {e}") from e
        log(f"writer schema {schema_id}: output schema {out_id} under {self.subject}")
        reader = avro.io.DatumReader(avro.schema.parse(writer.schema_str))
        return WriterSchema(reader, HEADER.pack(MAGIC, out_id))


class Ticket:
    """The records of one consume() call and how many of their outputs are
    not yet acknowledged; offsets holds the next offset to commit for each
    input partition the call touched, polled_ms when the call returned."""

    __slots__ = ("waiting", "offsets", "polled_ms")

    def __init__(self, offsets, waiting):
        self.offsets = offsets
        self.waiting = waiting
        self.polled_ms = time.time() * 1000.0


class Deliveries:
    """Serves the producer's delivery reports on a thread of their own and
    turns them into stored offsets, as the Go scorer's tracker turns franz-go
    acknowledgements into commit marks: the offsets of a consume() call are
    stored once every output of it, and of every earlier call, is
    acknowledged, so a commit never passes a record whose output is not in
    Kafka. Serving reports on their own thread also times each one when it
    arrives, not when the scoring loop next gets round to poll()."""

    def __init__(self, producer, consumer):
        self.producer = producer
        self.consumer = consumer
        self.lock = threading.Lock()
        self.pending = []       # tickets not yet stored, oldest first
        self.stored = {}        # (topic, partition) -> next offset stored for commit
        self.latencies_ms = []  # per record: delivery confirmed - input timestamp
        self.processing_ms = []  # per record: delivery confirmed - consumed
        self.errors = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, name="deliveries", daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join()

    def _serve(self):
        while not self.stopping.is_set():
            try:
                self.producer.poll(0.1)  # blocks without the GIL
            except Exception as e:  # raised by a callback; report, go on
                with self.lock:
                    self.errors.append(e)

    def open(self, msgs):
        """Registers the records of one consume() call; each of their
        outputs is to be produced with callback(ticket, timestamp)."""
        offsets = {}
        for m in msgs:
            offsets[(m.topic(), m.partition())] = m.offset() + 1
        t = Ticket(offsets, len(msgs))
        with self.lock:
            self.pending.append(t)
        return t

    def callback(self, ticket, ts_ms):
        return functools.partial(self._delivered, ticket, ts_ms)

    def _delivered(self, ticket, ts_ms, err, _msg):
        now_ms = time.time() * 1000.0
        with self.lock:
            if err is not None:
                self.errors.append(err)
                return
            self.latencies_ms.append(now_ms - ts_ms)
            self.processing_ms.append(now_ms - ticket.polled_ms)
            ticket.waiting -= 1
            if ticket.waiting == 0:
                self._store_completed()

    def _store_completed(self):
        done = 0
        offsets = {}
        for t in self.pending:
            if t.waiting:
                break
            offsets.update(t.offsets)
            done += 1
        if not done:
            return
        del self.pending[:done]
        self.consumer.store_offsets(
            offsets=[TopicPartition(tp[0], tp[1], o) for tp, o in offsets.items()])
        self.stored.update(offsets)

    def check(self):
        with self.lock:
            if self.errors:
                raise BenchError(f"{len(self.errors)} outputs failed delivery; "
                                 f"first: {self.errors[0]}")

    def finish(self, timeout):
        """Waits for every output, then commits the stored offsets. The
        serving thread is told to stop but not waited for: flush() serves
        the last reports here, and joining could add up to one poll timeout
        to the measured window."""
        self.stopping.set()
        unsent = self.producer.flush(timeout)
        if unsent:
            raise BenchError(f"timed out with {unsent} outputs not yet delivered")
        self.check()
        if self.pending:
            raise BenchError(f"{len(self.pending)} batches still unacknowledged after flush")
        self.consumer.commit(offsets=[TopicPartition(tp[0], tp[1], o)
                                      for tp, o in self.stored.items()],
                             asynchronous=False)


class Scorer:
    """Consumes, scores and produces; Deliveries does the rest."""

    def __init__(self, args, model, schemas, consumer, producer):
        self.args = args
        self.model = model
        self.schemas = schemas
        self.consumer = consumer
        self.producer = producer
        self.deliveries = Deliveries(producer, consumer)
        with open(PREDICTION_SCHEMA_PATH) as f:
            self.prediction_writer = avro.io.DatumWriter(avro.schema.parse(f.read()))

    # -- decoding and encoding -------------------------------------------

    def decode(self, value):
        """Returns the writer schema entry and the decoded record of one
        Confluent-framed value."""
        if value is None or len(value) < HEADER.size:
            raise BenchError("record value is shorter than a Confluent header")
        magic, schema_id = HEADER.unpack_from(value)
        if magic != MAGIC:
            raise BenchError(f"record value has magic byte {magic}, want {MAGIC}")
        ws = self.schemas.get(schema_id)
        buf = io.BytesIO(value)
        buf.seek(HEADER.size)
        return ws, ws.reader.read(avro.io.BinaryDecoder(buf))

    @staticmethod
    def features(rec):
        volts = rec["battery_volts"]
        return (
            rec["temperature"], rec["humidity"], rec["pressure"], rec["light"],
            rec["co2"], rec["vibration"], rec["sound"], rec["rssi"],
            rec["uptime_s"], MAINS_VOLTS if volts is None else volts,
        )

    def encode(self, ws, value, p_normal, p_anomaly):
        """The output frame: the output schema's header, the input body, then
        the Prediction."""
        buf = io.BytesIO()
        buf.write(ws.out_header)
        buf.write(memoryview(value)[HEADER.size:])
        self.prediction_writer.write({
            "model_name": MODEL_NAME,
            "model_version": MODEL_VERSION,
            "label": CLASS_LABELS[1] if p_anomaly > p_normal else CLASS_LABELS[0],
            "value": p_anomaly,
            "scores": {CLASS_LABELS[0]: p_normal, CLASS_LABELS[1]: p_anomaly},
            "scored_at": datetime.datetime.now(datetime.timezone.utc),
        }, avro.io.BinaryEncoder(buf))
        return buf.getvalue()

    # -- producing --------------------------------------------------------

    def produce(self, key, value, ticket, ts_ms):
        on_delivery = self.deliveries.callback(ticket, ts_ms)
        while True:
            try:
                self.producer.produce(self.args.output_topic, value=value, key=key,
                                      on_delivery=on_delivery)
                return
            except BufferError:
                # The local queue is full: wait for acknowledgements to free it.
                time.sleep(0.01)

    # -- scoring ---------------------------------------------------------

    def score_single(self, msgs, ticket):
        predict = self.model.predict_proba
        for m in msgs:
            value = m.value()
            ws, rec = self.decode(value)
            p = predict(np.array([self.features(rec)], dtype=np.float64))[0]
            self.produce(m.key(), self.encode(ws, value, float(p[0]), float(p[1])),
                         ticket, m.timestamp()[1])

    def score_batch(self, msgs, ticket):
        decoded = [self.decode(m.value()) for m in msgs]
        x = np.array([self.features(rec) for _, rec in decoded], dtype=np.float64)
        proba = self.model.predict_proba(x).tolist()
        for m, (ws, _), (p0, p1) in zip(msgs, decoded, proba):
            self.produce(m.key(), self.encode(ws, m.value(), p0, p1), ticket, m.timestamp()[1])

    def take(self, most, timeout):
        """Returns the records already fetched, up to most, waiting up to
        timeout only when there are none. consume(n, timeout) alone would
        wait for n records or the timeout, holding a batch back while a slow
        stream fills it; this returns what is there, as franz-go's
        PollRecords does for the Go scorer."""
        msgs = self.consumer.consume(num_messages=most, timeout=0)
        if msgs:
            return msgs
        first = self.consumer.poll(timeout)
        if first is None:
            return []
        if most == 1:
            return [first]
        return [first] + self.consumer.consume(num_messages=most - 1, timeout=0)

    def run(self):
        """Scores --count records; returns the measurements."""
        self.deliveries.start()
        try:
            return self._run()
        finally:
            self.deliveries.stop()

    def _run(self):
        args = self.args
        score = self.score_single if args.mode == "single" else self.score_batch
        deadline = time.monotonic() + args.timeout
        consumed = 0
        t0 = c0 = None
        while consumed < args.count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError(f"timed out after {args.timeout:g}s with {consumed} of "
                                 f"{args.count} records consumed from {args.topic}")
            msgs = self.take(min(args.batch_size, args.count - consumed), min(left, 1.0))
            if not msgs:
                continue
            if t0 is None:
                t0, c0 = time.perf_counter(), time.process_time()
            good = []
            for m in msgs:
                err = m.error()
                if err is None:
                    good.append(m)
                elif err.fatal():
                    raise BenchError(f"consume: {err}")
                else:
                    # Such as a topic not created yet: keep trying until
                    # the deadline.
                    log(f"consume: {err}")
            if good:
                score(good, self.deliveries.open(good))
                consumed += len(good)
            self.deliveries.check()

        self.deliveries.finish(max(deadline - time.monotonic(), 0))
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - c0

        lat = np.asarray(self.deliveries.latencies_ms)
        p50, p99 = np.percentile(lat, [50, 99])
        proc50, proc99 = np.percentile(np.asarray(self.deliveries.processing_ms), [50, 99])
        return {
            "impl": IMPL,
            "mode": args.mode,
            "records": consumed,
            "seconds": round(seconds, 4),
            "records_per_s": round(consumed / seconds, 1),
            "cpu_us_per_record": round(cpu * 1e6 / consumed, 1),
            "p50_ms": round(float(p50), 3),
            "p99_ms": round(float(p99), 3),
            "processing_p50_ms": round(float(proc50), 3),
            "processing_p99_ms": round(float(proc99), 3),
        }


def on_kafka_error(err):
    # librdkafka reports most errors as transient and retries them itself;
    # only a fatal one ends the run (raised from the next consume/poll).
    log(f"kafka: {err}")
    if err.fatal():
        raise KafkaException(err)


def main(argv=None):
    args = parse_args(argv)
    try:
        model = train(args.train_csv, args.estimator)
        schemas = Schemas(SchemaRegistryClient({"url": args.registry}), args.output_topic)
        producer = Producer({"bootstrap.servers": args.bootstrap, "error_cb": on_kafka_error,
                             **PRODUCER_CONFIG})
        consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": args.group,
                             "error_cb": on_kafka_error, **CONSUMER_CONFIG})
        try:
            # Connect the producer and learn the output topic's leaders now,
            # so the first output does not pay for them inside the window.
            # Only a warm-up: if Kafka is not there yet, --timeout decides.
            try:
                producer.list_topics(topic=args.output_topic, timeout=min(args.timeout, 30))
            except KafkaException as e:
                log(f"producer warm-up: {e}; going on")
            consumer.subscribe([args.topic])
            # HistGradientBoosting predicts in an OpenMP parallel region per
            # call, sized to every core by default. For the few rows a stream
            # scorer passes at a time, starting and spinning those threads
            # costs far more than the trees (on this 2-core machine a one-row
            # predict_proba took ~30 ms of CPU with 2 threads against ~2 ms
            # with 1, and 128 rows ~110 us a row against ~17 us), so scoring
            # runs on one thread unless told otherwise; training, not timed,
            # keeps every core.
            with threadpool_limits(limits=args.model_threads, user_api="openmp"):
                result = Scorer(args, model, schemas, consumer, producer).run()
        finally:
            consumer.close()
            producer.flush(5)
    except BenchError as e:
        log(f"error: {e}")
        return 1
    except KafkaException as e:
        log(f"kafka error: {e}")
        return 1
    except OSError as e:
        log(f"error: {e}")
        return 1
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
