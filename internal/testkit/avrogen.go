package testkit

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// AvroCase is a writer schema and a body made from fuzz input: a valid
// value of the schema, or, when Hostile is set, one whose counts, lengths,
// varints, indexes or nesting were bent the way a hostile producer would.
type AvroCase struct {
	Schema  string
	Body    []byte
	Hostile bool
	// Deep is set when the body nests a recursive type far deeper than a
	// real record would.
	Deep bool
}

// MaxGeneratedBody bounds the bodies GenerateAvro writes, so a fuzzer
// spends its time on shapes, not on bytes.
const MaxGeneratedBody = 64 << 10

// GenerateAvro turns fuzz input into a schema and a body. The same input
// always gives the same case; every input gives one. The schema is a record
// of a few fields drawn from every Avro type: primitives, enums, fixeds
// (decimals among them), arrays, maps, unions with null and with several
// branches, nested records, and a recursive record reachable through a
// nullable field or an array. Fields named by extra are prepended as
// doubles, so a model can score the record.
func GenerateAvro(data []byte, extra ...string) AvroCase {
	g := &avroGen{src: choices{data: data}}
	g.hostile = g.src.intn(3) == 0
	root := g.record("Fuzz", 0)
	for i := len(extra) - 1; i >= 0; i-- {
		root.fields = append([]genField{{name: extra[i], typ: &genType{kind: "double"}}}, root.fields...)
	}
	schema, err := json.Marshal(root.json(map[*genType]bool{}))
	if err != nil {
		panic(fmt.Sprintf("testkit: marshal generated schema: %v", err))
	}
	var body []byte
	body = g.write(body, root, 0)
	return AvroCase{Schema: string(schema), Body: body, Hostile: g.bent, Deep: g.deep}
}

// choices reads decisions from fuzz input, and zeros once it runs out, so
// every input, however short, makes a finite case.
type choices struct {
	data []byte
	i    int
}

func (c *choices) byte() byte {
	if c.i >= len(c.data) {
		return 0
	}
	b := c.data[c.i]
	c.i++
	return b
}

func (c *choices) intn(n int) int { return int(c.byte()) % n }

// genType is a generated Avro type.
type genType struct {
	kind     string // an Avro type name, or "ref" to a record defined above
	name     string // records, enums, fixeds
	fields   []genField
	items    *genType // array items, map values
	branches []*genType
	symbols  int
	size     int
	decimal  bool
	ref      *genType // for "ref": the record referred to
}

type genField struct {
	name string
	typ  *genType
}

type avroGen struct {
	src     choices
	hostile bool // bend some of what the body claims
	bent    bool // something was bent
	deep    bool
	names   int
	records []*genType // enclosing records, for recursive references
}

func (g *avroGen) name(prefix string) string {
	g.names++
	return fmt.Sprintf("%s%d", prefix, g.names)
}

func (g *avroGen) record(name string, depth int) *genType {
	t := &genType{kind: "record", name: name}
	g.records = append(g.records, t)
	defer func() { g.records = g.records[:len(g.records)-1] }()
	n := 1 + g.src.intn(4)
	for i := range n {
		t.fields = append(t.fields, genField{name: fmt.Sprintf("f%d", i), typ: g.typ(depth + 1)})
	}
	return t
}

func (g *avroGen) typ(depth int) *genType {
	primitives := []string{"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
	choice := g.src.intn(16)
	if depth >= 4 {
		choice %= 8 // primitives only, so the schema ends
	}
	switch choice {
	case 0, 1, 2, 3, 4, 5, 6, 7:
		return &genType{kind: primitives[choice]}
	case 8:
		return &genType{kind: "enum", name: g.name("E"), symbols: 1 + g.src.intn(4)}
	case 9:
		return &genType{kind: "fixed", name: g.name("F"), size: 1 + g.src.intn(4), decimal: g.src.intn(4) == 0}
	case 10:
		return &genType{kind: "array", items: g.typ(depth + 1)}
	case 11:
		return &genType{kind: "map", items: g.typ(depth + 1)}
	case 12:
		b := g.nonUnion(depth + 1)
		if b.kind == "null" {
			return b
		}
		return &genType{kind: "union", branches: []*genType{{kind: "null"}, b}}
	case 13:
		u := &genType{kind: "union"}
		seen := map[string]bool{}
		for range 2 + g.src.intn(3) {
			b := g.nonUnion(depth + 1)
			if key := b.unionKey(); !seen[key] {
				seen[key] = true
				u.branches = append(u.branches, b)
			}
		}
		return u
	case 14:
		return g.record(g.name("R"), depth)
	default:
		// A recursive reference to an enclosing record, through null or
		// an array so that a value can end.
		target := g.records[g.src.intn(len(g.records))]
		ref := &genType{kind: "ref", ref: target}
		if g.src.intn(2) == 0 {
			return &genType{kind: "array", items: ref}
		}
		return &genType{kind: "union", branches: []*genType{{kind: "null"}, ref}}
	}
}

// nonUnion draws a type that may be a union branch.
func (g *avroGen) nonUnion(depth int) *genType {
	for {
		if t := g.typ(depth); t.kind != "union" {
			return t
		}
	}
}

// unionKey is what makes two union branches the same type for Avro.
func (t *genType) unionKey() string {
	switch t.kind {
	case "record", "enum", "fixed":
		return "named:" + t.name
	case "ref":
		return "named:" + t.ref.name
	}
	return t.kind
}

// json renders the schema; defined tracks the named types already written,
// which later uses refer to by name.
func (t *genType) json(defined map[*genType]bool) any {
	switch t.kind {
	case "ref":
		return t.ref.name
	case "record":
		if defined[t] {
			return t.name
		}
		defined[t] = true
		fields := make([]any, len(t.fields))
		for i, f := range t.fields {
			fields[i] = map[string]any{"name": f.name, "type": f.typ.json(defined)}
		}
		return map[string]any{"type": "record", "name": t.name, "fields": fields}
	case "enum":
		syms := make([]string, t.symbols)
		for i := range syms {
			syms[i] = fmt.Sprintf("S%d", i)
		}
		return map[string]any{"type": "enum", "name": t.name, "symbols": syms}
	case "fixed":
		m := map[string]any{"type": "fixed", "name": t.name, "size": t.size}
		if t.decimal {
			m["logicalType"], m["precision"], m["scale"] = "decimal", 2*t.size, 1
		}
		return m
	case "array":
		return map[string]any{"type": "array", "items": t.items.json(defined)}
	case "map":
		return map[string]any{"type": "map", "values": t.items.json(defined)}
	case "union":
		bs := make([]any, len(t.branches))
		for i, b := range t.branches {
			bs[i] = b.json(defined)
		}
		return bs
	}
	return t.kind
}

// write appends a value of t. Hostile cases bend some counts, lengths and
// varints; recursive references may nest far deeper than real data.
func (g *avroGen) write(b []byte, t *genType, depth int) []byte {
	if len(b) > MaxGeneratedBody {
		return b
	}
	switch t.kind {
	case "null":
		return b
	case "boolean":
		return append(b, g.src.byte()&1)
	case "int", "long", "enum":
		v := int64(int8(g.src.byte()))
		if t.kind == "enum" {
			v = int64(g.src.intn(t.symbols))
		}
		if g.bend() {
			return g.badVarint(b)
		}
		return binary.AppendVarint(b, v)
	case "float":
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(g.src.byte())))
	case "double":
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(float64(g.src.byte())/7))
	case "bytes", "string":
		n := g.src.intn(8)
		if g.bend() {
			return binary.AppendVarint(b, g.badCount())
		}
		b = binary.AppendVarint(b, int64(n))
		return append(b, strings.Repeat("x", n)...)
	case "fixed":
		return append(b, make([]byte, t.size)...)
	case "array", "map":
		return g.blocks(b, t, depth)
	case "union":
		i := g.src.intn(len(t.branches))
		if g.bend() {
			return binary.AppendVarint(b, int64(len(t.branches)+g.src.intn(3)))
		}
		b = binary.AppendVarint(b, int64(i))
		return g.write(b, t.branches[i], depth)
	case "record":
		if depth > 6 {
			// Deeper than a generated value needs: end every nullable
			// reference and array below here.
			return g.ending(b, t)
		}
		for _, f := range t.fields {
			b = g.write(b, f.typ, depth+1)
		}
		return b
	case "ref":
		if g.hostile && g.src.intn(4) == 0 {
			return g.nestDeep(b, t.ref)
		}
		return g.write(b, t.ref, depth)
	}
	return b
}

// blocks writes an array's or map's items in one or two blocks, or a
// block whose count no body could hold.
func (g *avroGen) blocks(b []byte, t *genType, depth int) []byte {
	if g.bend() {
		b = binary.AppendVarint(b, g.badCount())
		if g.src.intn(2) == 0 {
			b = binary.AppendVarint(b, int64(g.src.intn(4)))
		}
		return b
	}
	n := g.src.intn(4)
	if n > 0 {
		if g.src.intn(2) == 0 {
			b = binary.AppendVarint(b, int64(n))
		} else {
			// Negative count: the block's byte size follows.
			item := g.writeItems(nil, t, n, depth)
			b = binary.AppendVarint(b, -int64(n))
			b = binary.AppendVarint(b, int64(len(item)))
			return append(append(b, item...), 0)
		}
		b = g.writeItems(b, t, n, depth)
	}
	return append(b, 0)
}

func (g *avroGen) writeItems(b []byte, t *genType, n, depth int) []byte {
	for i := range n {
		if t.kind == "map" {
			key := fmt.Sprintf("k%d", i)
			b = binary.AppendVarint(b, int64(len(key)))
			b = append(b, key...)
		}
		b = g.write(b, t.items, depth+1)
	}
	return b
}

// ending writes the smallest value of a record: null for every nullable
// field, an empty block for every array and map, zero for the rest.
func (g *avroGen) ending(b []byte, t *genType) []byte {
	for _, f := range t.fields {
		b = g.smallest(b, f.typ)
	}
	return b
}

func (g *avroGen) smallest(b []byte, t *genType) []byte {
	switch t.kind {
	case "null":
		return b
	case "float":
		return append(b, 0, 0, 0, 0)
	case "double":
		return append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	case "fixed":
		return append(b, make([]byte, t.size)...)
	case "union":
		for i, br := range t.branches {
			if br.kind == "null" {
				return binary.AppendVarint(b, int64(i))
			}
		}
		// No null branch: the first branch's smallest value (a
		// generated union of named records may still recurse, but
		// only through nullable fields and arrays, which end here).
		return g.smallest(binary.AppendVarint(b, 0), t.branches[0])
	case "record":
		return g.ending(b, t)
	case "ref":
		return g.ending(b, t.ref)
	}
	return append(b, 0) // false, 0, "", an empty block, the first symbol
}

// nestDeep writes a chain of r nested through its first recursive field,
// thousands deep: the shape that made goavro build a gigabyte from a 1 MB
// body.
func (g *avroGen) nestDeep(b []byte, r *genType) []byte {
	path := recursivePath(r)
	if path == nil {
		return g.ending(b, r)
	}
	g.bent, g.deep = true, true
	levels := 1000 + 1000*g.src.intn(60)
	for range levels {
		if len(b) > MaxGeneratedBody {
			break
		}
		b = append(b, path...)
	}
	return b
}

// recursivePath is the body prefix that opens one more level of r through
// its first field that refers to r: a union index or a one-item block,
// with every field before it at its smallest. Nil if r's first field is
// not such a reference.
func recursivePath(r *genType) []byte {
	if len(r.fields) == 0 {
		return nil
	}
	f := r.fields[0].typ
	switch {
	case f.kind == "union" && len(f.branches) == 2 && f.branches[1].kind == "ref" && f.branches[1].ref == r:
		return []byte{2} // union index 1
	case f.kind == "array" && f.items.kind == "ref" && f.items.ref == r:
		return []byte{2} // a block of one item
	}
	return nil
}

// bend decides, in hostile cases, whether to bend the next claim.
func (g *avroGen) bend() bool {
	if !g.hostile || g.src.intn(4) != 0 {
		return false
	}
	g.bent = true
	return true
}

// badCount is a count or length no body of this size could hold, or one
// that cannot be negated.
func (g *avroGen) badCount() int64 {
	counts := []int64{math.MaxInt32, -math.MaxInt32, 1 << 40, math.MaxInt64, math.MinInt64, 20_000_000, -1}
	return counts[g.src.intn(len(counts))]
}

// badVarint is a varint that runs on past 64 bits, or ends the body
// halfway.
func (g *avroGen) badVarint(b []byte) []byte {
	if g.src.intn(2) == 0 {
		return append(b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)
	}
	return append(b, 0x80)
}

// Seed spreads a number over enough bytes to drive GenerateAvro: fuzz
// targets seed their corpus with it, and tests draw thousands of cases.
func Seed(n int) []byte {
	b := make([]byte, 256)
	x := uint64(n)*0x9e3779b97f4a7c15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}
