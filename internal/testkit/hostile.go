package testkit

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	"github.com/linkedin/goavro/v2"

	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/schemas"
)

// Hostile is one kind of record a hostile producer can write: a writer
// schema (the sensor reading, usually with fields added), a body, and the
// dead-letter class the scorer must give it.
type Hostile struct {
	Kind   string
	Schema string
	Body   []byte
	// Class is the streamscore.error.class the record must get.
	Class string
	// Finding names the issue-10 finding it reproduces, if any.
	Finding string
}

// Dead-letter classes, as internal/stream names them.
const (
	ClassCorrupt     = "corrupt_avro"
	ClassOverBudget  = "over_budget"
	ClassUnsupported = "unsupported_schema"
)

// SensorBody is the Avro body of sample sensor reading i (seed 1): a valid
// io.streamscore.sensors.SensorReading, and the prefix of every hostile
// sensor record.
func SensorBody(i int) []byte {
	codec, err := goavro.NewCodec(schemas.SensorReading)
	if err != nil {
		panic(fmt.Sprintf("testkit: sensor schema: %v", err))
	}
	gen := sample.NewSensors(1, 100, 0.05)
	var rec map[string]any
	for range i + 1 {
		rec, _ = gen.Next()
	}
	body, err := codec.BinaryFromNative(nil, rec)
	if err != nil {
		panic(fmt.Sprintf("testkit: encode sensor reading: %v", err))
	}
	return body
}

// SensorSchemaWith returns the sensor reading schema with fields appended,
// each given as its JSON ({"name": ..., "type": ...}).
func SensorSchemaWith(fields ...string) string {
	var s map[string]any
	if err := json.Unmarshal([]byte(schemas.SensorReading), &s); err != nil {
		panic(fmt.Sprintf("testkit: sensor schema: %v", err))
	}
	list := s["fields"].([]any)
	for _, f := range fields {
		var v any
		if err := json.Unmarshal([]byte(f), &v); err != nil {
			panic(fmt.Sprintf("testkit: field %s: %v", f, err))
		}
		list = append(list, v)
	}
	s["fields"] = list
	out, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(out)
}

// HostileRecords returns every kind of hostile record the project defends
// against, each built on sample sensor reading i. deepLevels is how deep
// the recursive kind nests (983,500 reproduces finding 3 at 983 KB; tests
// that produce thousands of records pass less).
func HostileRecords(i, deepLevels int) []Hostile {
	body := SensorBody(i)
	with := func(suffix ...byte) []byte { return append(append([]byte(nil), body...), suffix...) }
	varint := func(v int64) []byte { return binary.AppendVarint(nil, v) }
	junk := SensorSchemaWith(
		`{"name":"junk","type":"string"}`,
		`{"name":"junkb","type":"bytes"}`,
		`{"name":"arr","type":{"type":"array","items":"long"}}`)
	nullMap := SensorSchemaWith(`{"name":"m","type":{"type":"map","values":"null"}}`)
	nullArray := SensorSchemaWith(`{"name":"nulls","type":{"type":"array","items":"null"}}`)
	node := SensorSchemaWith(`{"name":"chain","type":{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}}`)

	deep := with()
	for range deepLevels {
		deep = append(deep, 2) // next: union branch 1, one more Node
	}
	deep = append(deep, 0) // the last next is null

	// rssi is the tenth field: its varint follows device_id, ts and seven
	// doubles. Rewriting it needs the body's layout, so these two kinds
	// are written field by field.
	idLen := int(body[0] >> 1) // device ids are short: a one-byte length
	head := 1 + idLen
	_, tsLen := binary.Varint(body[head:])
	rssiAt := head + tsLen + 7*8
	_, rssiLen := binary.Varint(body[rssiAt:])
	overflow := append(append(append([]byte(nil), body[:rssiAt]...), 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f), body[rssiAt+rssiLen:]...)
	negative := append(varint(-5), body[head:]...)
	_, uptimeLen := binary.Varint(body[rssiAt+rssiLen:])
	batteryIndex := rssiAt + rssiLen + uptimeLen // battery_volts: the union index
	badUnion := append(append(append([]byte(nil), body[:batteryIndex]...), varint(7)...), body[batteryIndex+1:]...)

	return []Hostile{
		{Kind: "array block claims 2^31-1 items", Finding: "1", Schema: junk, Class: ClassCorrupt,
			Body: with(0, 0, 0xfe, 0xff, 0xff, 0xff, 0x0f, 0x02)},
		{Kind: "map block claims 2^31-1 entries", Finding: "1", Schema: nullMap, Class: ClassCorrupt,
			Body: with(0xfe, 0xff, 0xff, 0xff, 0x0f, 0x02)},
		{Kind: "array of 20,000,000 nulls", Finding: "3", Schema: nullArray, Class: ClassOverBudget,
			Body: with(append(varint(20_000_000), 0)...)},
		{Kind: fmt.Sprintf("record nested %d deep", deepLevels), Finding: "3", Schema: node, Class: ClassOverBudget,
			Body: deep},
		{Kind: "string claims 2^40 bytes", Schema: junk, Class: ClassCorrupt,
			Body: with(varint(1 << 40)...)},
		{Kind: "negative string length", Schema: schemas.SensorReading, Class: ClassCorrupt, Body: negative},
		{Kind: "int varint over 32 bits", Schema: schemas.SensorReading, Class: ClassCorrupt, Body: overflow},
		{Kind: "block count of -2^63", Schema: junk, Class: ClassCorrupt,
			Body: with(0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)},
		{Kind: "union index out of range", Schema: schemas.SensorReading, Class: ClassCorrupt, Body: badUnion},
		{Kind: "body ends inside a field", Schema: schemas.SensorReading, Class: ClassCorrupt, Body: body[:len(body)/2]},
		{Kind: "decimal scale 10^9", Class: ClassUnsupported, Body: with(0),
			Schema: SensorSchemaWith(fmt.Sprintf(`{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":%d,"scale":%d}}`, math.MaxInt32, 1_000_000_000))},
		{Kind: "record that contains itself on every path", Class: ClassUnsupported, Body: with(),
			Schema: SensorSchemaWith(`{"name":"loop","type":{"type":"record","name":"Loop","fields":[{"name":"next","type":"Loop"}]}}`)},
	}
}
