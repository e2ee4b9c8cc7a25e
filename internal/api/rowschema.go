package api

import (
	"fmt"
	"strings"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/model"
)

// rowSchema is what a model reads from a record: the label, and the
// features or the text, each by its path (location.lat,
// attributes["fw.version"], window[3]), as the trainer and the scorer read
// them. It checks uploaded rows and prediction records, and keeps only the
// fields the model reads.
type rowSchema struct {
	task model.Task
	// label is the label's path, canonical ("" for a served model's
	// records, which need none).
	label     string
	labelPath avropath.Path
	features  []rowFeature
	width     int // the features' columns
	// text is a text model's text; textReader reads it, nil when its path
	// does not parse, which a validated spec's always does.
	text       *rowFeature
	textReader *model.InputReader
	// paths are every path read, a trie of their steps: the decoder keeps
	// of a record only what they reach.
	paths *readNode
}

// rowFeature is one feature: its path, how it becomes columns and which
// columns of a row it takes.
type rowFeature struct {
	path avropath.Path
	name string // canonical path
	kind fit.FeatureKind
	def  *float64
	// length and pad are an array's; parts a timestamp's.
	length int
	pad    *float64
	parts  []string
	col    int
	width  int
	// cat is a categorical feature's place among them (its dictionary in
	// a block).
	cat int
}

// newRowSchema is the schema of training rows under opts, as resolved
// against the subject's schema if the model names one: categorical are the
// features opts.Categorical lists.
func newRowSchema(opts fit.Options) rowSchema {
	s := rowSchema{task: opts.Task, paths: &readNode{}}
	if p, err := avropath.Parse(opts.Label); err == nil {
		s.label, s.labelPath = p.String(), p
		s.paths.add(p)
	}
	if opts.Family == fit.Text {
		s.setText(opts.Spec("", nil).Inputs[0])
		return s
	}
	for _, f := range opts.FeatureReads() {
		s.add(rowFeature{path: f.Path, kind: f.Kind, def: f.Default, length: f.Array.Length, pad: f.Array.Pad, parts: f.Parts})
	}
	return s
}

// specSchema is the schema of the records a loaded model scores: its
// features, the consecutive parts of one timestamp read as one.
func specSchema(spec model.Spec) rowSchema {
	s := rowSchema{task: spec.Task, paths: &readNode{}}
	for _, in := range spec.Inputs {
		if in.Type == model.StringInput {
			s.setText(in)
			continue
		}
		for _, f := range in.Fields {
			p, err := avropath.Parse(f.Field)
			if err != nil {
				continue // Load refuses such a spec
			}
			if f.Part != "" {
				if n := len(s.features); n > 0 && s.features[n-1].kind == fit.PartsFeature && s.features[n-1].name == p.String() {
					s.features[n-1].parts = append(s.features[n-1].parts, f.Part)
					s.features[n-1].width++
					s.width++
					continue
				}
			}
			rf := rowFeature{path: p, def: f.Default}
			switch {
			case f.Categorical():
				rf.kind = fit.CategoryFeature
			case f.Length > 0:
				rf.kind, rf.length, rf.pad = fit.ArrayFeature, f.Length, f.Pad
			case f.Part != "":
				rf.kind, rf.parts = fit.PartsFeature, []string{f.Part}
			}
			s.add(rf)
		}
	}
	return s
}

// add appends a feature, placing its columns after the others'.
func (s *rowSchema) add(f rowFeature) {
	f.name, f.col, f.width = f.path.String(), s.width, 1
	switch f.kind {
	case fit.ArrayFeature:
		f.width = f.length
	case fit.PartsFeature:
		f.width = len(f.parts)
	case fit.CategoryFeature:
		f.cat = s.categorical()
	}
	s.width += f.width
	s.features = append(s.features, f)
	at := s.paths.add(f.path)
	if f.kind == fit.ArrayFeature {
		at.length = max(at.length, f.length)
	}
}

func (s *rowSchema) setText(in model.Input) {
	p, err := avropath.Parse(in.Fields[0].Field)
	if err != nil {
		return
	}
	s.text = &rowFeature{path: p, name: p.String()}
	s.textReader, _ = in.Reader()
	s.paths.add(p)
}

// categorical is the number of categorical features.
func (s rowSchema) categorical() int {
	n := 0
	for _, f := range s.features {
		if f.kind == fit.CategoryFeature {
			n++
		}
	}
	return n
}

// signature says what the schema reads and how, to tell two apart.
func (s rowSchema) signature() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|", s.task, s.label)
	if s.text != nil {
		fmt.Fprintf(&b, "text %s|", s.text.name)
	}
	for _, f := range s.features {
		fmt.Fprintf(&b, "%s %d %d %v %v|", f.name, f.kind, f.length, f.parts, f.def != nil)
	}
	return b.String()
}

// sameFields reports whether two schemas read the same fields the same way.
func (s rowSchema) sameFields(o rowSchema) bool { return s.signature() == o.signature() }
