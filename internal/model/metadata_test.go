package model_test

import (
	"bytes"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/streamscore/streamscore/internal/model"
)

// appendEntry appends to an encoded model one metadata_props entry
// (field 14) of the given fields, each a (number, bytes) pair in order.
func appendEntry(model []byte, fields ...any) []byte {
	var entry []byte
	for i := 0; i < len(fields); i += 2 {
		entry = protowire.AppendTag(entry, protowire.Number(fields[i].(int)), protowire.BytesType)
		entry = protowire.AppendString(entry, fields[i+1].(string))
	}
	b := protowire.AppendTag(bytes.Clone(model), 14, protowire.BytesType)
	return protowire.AppendBytes(b, entry)
}

// metadataModels are encoded models whose metadata_props test the
// decoder: written by the onnx package, and entries appended by hand
// that it would not write (a key twice, a key or value given twice
// within an entry, an entry without a value, an unknown field).
func metadataModels(t testing.TB) map[string][]byte {
	base := encodeMeta(t, identityGraph(2), map[string]string{
		model.SpecMetadataKey: `{"name": "m"}`, "empty": "", "unicode": "düsen → ✓", "a": "1",
	})
	return map[string][]byte{
		"written":              base,
		"none":                 encode(t, identityGraph(2), nil),
		"key twice":            appendEntry(base, 1, "a", 2, "2"),
		"key twice in entry":   appendEntry(base, 1, "b", 2, "x", 1, "a"),
		"value twice in entry": appendEntry(base, 1, "a", 2, "x", 2, "3"),
		"no value":             appendEntry(base, 1, "a"),
		"unknown field":        appendEntry(base, 3, "z", 1, "a", 2, "4"),
	}
}

// TestMetadataPropMatchesONNXRuntime reads keys of every metadataModels
// model as Load does, from the bytes, and through an ONNX Runtime
// session, and wants the same value and presence.
func TestMetadataPropMatchesONNXRuntime(t *testing.T) {
	for name, data := range metadataModels(t) {
		t.Run(name, func(t *testing.T) {
			meta, err := ort.GetModelMetadataWithONNXData(data)
			if err != nil {
				t.Fatal(err)
			}
			defer meta.Destroy()
			for _, key := range []string{model.SpecMetadataKey, "empty", "unicode", "a", "b", "missing"} {
				want, wantOK, err := meta.LookupCustomMetadataMap(key)
				if err != nil {
					t.Fatal(err)
				}
				got, ok, err := model.MetadataProp(data, key)
				if err != nil || got != want || ok != wantOK {
					t.Errorf("key %q: %q, %v, %v; ONNX Runtime has %q, %v", key, got, ok, err, want, wantOK)
				}
			}
		})
	}
}

// TestLoadReadsSpecFromBytes loads a model whose spec is only in its
// metadata, the last of two entries of the key, as ONNX Runtime reads it.
func TestLoadReadsSpecFromBytes(t *testing.T) {
	spec := identitySpec("x", "y")
	spec.Name = "last"
	doc, err := spec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	first := encodeMeta(t, identityGraph(2), map[string]string{model.SpecMetadataKey: `{"name": "first"}`})
	m := load(t, appendEntry(first, 1, model.SpecMetadataKey, 2, doc), model.Options{})
	if got := m.Spec().Name; got != "last" {
		t.Errorf("spec name %q, want last", got)
	}
}

// FuzzMetadataProp feeds metadataProp any bytes: it never panics, and a
// value it finds is a run of the input's bytes.
func FuzzMetadataProp(f *testing.F) {
	for _, data := range metadataModels(f) {
		f.Add(data, "a")
		f.Add(data[:len(data)/2], model.SpecMetadataKey)
	}
	f.Add([]byte{0x72, 0xff, 0xff, 0xff, 0xff, 0x0f}, "a") // field 14, a length past the end
	f.Add([]byte{0x72, 0x02, 0x0a, 0x05}, "a")             // an entry whose key runs past it
	f.Add([]byte("this is not a model"), "")
	f.Fuzz(func(t *testing.T, data []byte, key string) {
		value, ok, err := model.MetadataProp(data, key)
		if err != nil && (ok || value != "") {
			t.Fatalf("error %v with value %q, %v", err, value, ok)
		}
		if ok && !bytes.Contains(data, []byte(value)) {
			t.Fatalf("value %q is not in the input", value)
		}
	})
}
