package api

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/streamscore/streamscore/internal/avropath"
)

// readNode is one step of the paths a model reads, in a trie of their
// steps from the record's top-level fields: location.lat and
// location.floor share the node of location. A record is decoded only
// where a path goes, so a field a path enters costs what the path reaches,
// not what the field holds: decoded whole, a 30 MB array of numbers took
// about a gigabyte as []any, when the model read only its first item.
//
// Every node keeps its value: a number, string, boolean or null as itself,
// an object only with the keys its children name, an array only up to the
// last item a child or an array feature reads. So an object where a number
// is wanted still reads as an object ("is an object, want a number"), and
// a string on the way to a path still fails to take the next step.
type readNode struct {
	key   string               // the map key or field that leads here, "" for an item
	keys  map[string]*readNode // the fields or map keys paths go on by
	items []*readNode          // by index, the items paths go on by (nil where none)
	// length is an array feature's length when one ends here: its first
	// length items are read, and an array longer than that is cut at the
	// first item past it, which the feature then refuses.
	length int
}

// itemNode reads an item no path goes into: an array feature's number.
var itemNode = &readNode{}

// add adds the path to the trie under n, the root, and returns the node
// it ends at.
func (n *readNode) add(p avropath.Path) *readNode {
	cur := n
	for _, st := range pathSteps(p) {
		if !st.index {
			next := cur.keys[st.key]
			if next == nil {
				next = &readNode{key: st.key}
				if cur.keys == nil {
					cur.keys = map[string]*readNode{}
				}
				cur.keys[st.key] = next
			}
			cur = next
			continue
		}
		for len(cur.items) <= st.at {
			cur.items = append(cur.items, nil)
		}
		if cur.items[st.at] == nil {
			cur.items[st.at] = &readNode{}
		}
		cur = cur.items[st.at]
	}
	return cur
}

// field is the node of a top-level field, nil when no path reads it.
func (n *readNode) field(name string) *readNode {
	if n == nil {
		return nil
	}
	return n.keys[name]
}

// lastItem is the last index of an array any path or array feature at n
// reads, -1 when none does.
func (n *readNode) lastItem() int {
	return max(len(n.items), n.length) - 1
}

// item is the node that reads item j, nil when none does.
func (n *readNode) item(j int) *readNode {
	if j < len(n.items) && n.items[j] != nil {
		return n.items[j]
	}
	if j < n.length {
		return itemNode
	}
	return nil
}

// pathStep is a step of a path: a field or map key, or an array index.
type pathStep struct {
	index bool
	key   string
	at    int
}

// pathSteps are p's steps. They are found from the record Put makes for
// the path, a map for each key and an array as long as each index needs
// (Put bounds an index by avropath.MaxIndex), since avropath keeps a
// path's steps to itself.
func pathSteps(p avropath.Path) []pathStep {
	end := new(int) // a value no step makes
	rec := map[string]any{}
	if p.Put(rec, end) != nil {
		return nil // the zero path, which no schema adds
	}
	var steps []pathStep
	var cur any = rec
	for {
		switch x := cur.(type) {
		case map[string]any:
			for k, v := range x { // Put made one entry
				steps = append(steps, pathStep{key: k})
				cur = v
			}
		case []any:
			steps = append(steps, pathStep{index: true, at: len(x) - 1})
			cur = x[len(x)-1]
		default:
			return steps
		}
	}
}

// fieldValue is decoded into for a top-level field a path reads: the
// decoder hands it the field's JSON, checked, which it reads as node does.
type fieldValue struct {
	node  *readNode
	value any
}

func (f *fieldValue) UnmarshalJSON(raw []byte) error {
	f.value, _ = f.node.read(raw, 0)
	return nil
}

// read reads the JSON value at b[i:] as n keeps it (see readNode),
// returning it and the offset after it. b is JSON the decoder has checked,
// so read only finds where things end.
func (n *readNode) read(b []byte, i int) (any, int) {
	i = skipSpace(b, i)
	switch b[i] {
	case '{':
		if len(n.keys) == 0 {
			return map[string]any{}, skipJSON(b, i)
		}
		m := map[string]any{}
		for i = skipSpace(b, i+1); b[i] != '}'; i = skipSpace(b, i) {
			if b[i] == ',' {
				i = skipSpace(b, i+1)
			}
			end := skipString(b, i)
			var child *readNode
			if k := b[i+1 : end-1]; plain(k) {
				child = n.keys[string(k)] // looked up without a copy
			} else {
				child = n.keys[jsonString(b[i:end])]
			}
			i = skipSpace(b, end) + 1 // past ':'
			if child == nil {
				i = skipJSON(b, skipSpace(b, i))
				continue
			}
			m[child.key], i = child.read(b, i) // a key given twice keeps its last value
		}
		return m, i + 1
	case '[':
		last := n.lastItem()
		if last < 0 {
			return []any{}, skipJSON(b, i)
		}
		a := []any{}
		j := 0
		for i = skipSpace(b, i+1); b[i] != ']'; i = skipSpace(b, i) {
			if b[i] == ',' {
				i = skipSpace(b, i+1)
			}
			if n.length > 0 && j == n.length {
				// One item past an array feature's length, kept as null:
				// the feature refuses the array as too long, and the rest
				// is not read.
				a = append(a, nil)
				last = j
				i = skipJSON(b, i)
				j++
				continue
			}
			if j > last {
				i = skipJSON(b, i)
				continue
			}
			child := n.item(j)
			if child == nil {
				a = append(a, nil) // an item before one a path reads
				i = skipJSON(b, i)
			} else {
				var v any
				v, i = child.read(b, i)
				a = append(a, v)
			}
			j++
		}
		return a, i + 1
	case '"':
		end := skipString(b, i)
		return jsonString(b[i:end]), end
	case 't':
		return true, i + len("true")
	case 'f':
		return false, i + len("false")
	case 'n':
		return nil, i + len("null")
	}
	end := skipJSON(b, i)
	return json.Number(b[i:end]), end
}

// The scanning below relies on JSON the decoder has checked: it only
// finds where a value ends.

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the offset after the string that opens at b[i].
func skipString(b []byte, i int) int {
	for i++; b[i] != '"'; i++ {
		if b[i] == '\\' {
			i++
		}
	}
	return i + 1
}

// skipJSON returns the offset after the value that starts at b[i].
func skipJSON(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
}

// jsonString is the string a quoted JSON string holds, as encoding/json
// decodes it (invalid UTF-8 as U+FFFD): plain ASCII is copied, the rest
// left to encoding/json.
func jsonString(q []byte) string {
	if plain(q[1 : len(q)-1]) {
		return string(q[1 : len(q)-1])
	}
	var s string
	_ = json.Unmarshal(q, &s) // checked JSON
	return s
}

// plain reports whether a string's JSON is its bytes: ASCII, no escapes.
func plain(s []byte) bool {
	for _, c := range s {
		if c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
