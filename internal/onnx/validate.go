package onnx

import (
	"errors"
	"fmt"
)

// ErrInvalidModel is wrapped by every error Validate reports, so callers can
// tell a malformed model from an I/O failure with errors.Is.
var ErrInvalidModel = errors.New("invalid ONNX model")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidModel, fmt.Sprintf(format, args...))
}

// Validate reports the first structural mistake in the model: empty names,
// a value name defined twice, a node reading a value nothing defines, a node
// whose domain has no opset import, or a tensor whose data does not fit its
// shape. It does not check operator semantics; ONNX Runtime and the onnx
// checker do that.
func (m *Model) Validate() error {
	if m.IRVersion < 1 {
		return invalid("IR version %d: must be positive", m.IRVersion)
	}
	domains, err := importedDomains(m.Opsets)
	if err != nil {
		return err
	}
	if _, ok := m.Metadata[""]; ok {
		return invalid("metadata key is empty")
	}
	return validateGraph(&m.Graph, domains)
}

// canonicalDomain maps the "ai.onnx" alias to the empty default domain.
func canonicalDomain(domain string) string {
	if domain == "ai.onnx" {
		return DomainDefault
	}
	return domain
}

func importedDomains(opsets []Opset) (map[string]bool, error) {
	domains := make(map[string]bool, len(opsets))
	for _, o := range opsets {
		d := canonicalDomain(o.Domain)
		if o.Version < 1 {
			return nil, invalid("opset %q: version %d must be positive", o.Domain, o.Version)
		}
		if domains[d] {
			return nil, invalid("opset %q imported twice", o.Domain)
		}
		domains[d] = true
	}
	return domains, nil
}

// graphScope tracks what has been defined so far while a graph's nodes are
// checked in order.
type graphScope struct {
	domains   map[string]bool
	values    map[string]string // value name -> what defined it
	nodeNames map[string]bool
}

func validateGraph(g *Graph, domains map[string]bool) error {
	if g.Name == "" {
		return invalid("graph name is empty")
	}
	s := graphScope{domains: domains, values: map[string]string{}, nodeNames: map[string]bool{}}
	for _, in := range g.Inputs {
		if err := validateValueInfo("graph input", in); err != nil {
			return err
		}
		if err := s.define(in.Name, "a graph input"); err != nil {
			return err
		}
	}
	for _, t := range g.Initializers {
		if err := validateTensor(t); err != nil {
			return err
		}
		if err := s.define(t.name, "an initializer"); err != nil {
			return err
		}
	}
	for i, n := range g.Nodes {
		if err := s.checkNode(i, n); err != nil {
			return err
		}
	}
	return s.checkOutputs(g.Outputs)
}

func (s *graphScope) define(name, by string) error {
	if prev, ok := s.values[name]; ok {
		return invalid("value %q defined by %s is already defined by %s", name, by, prev)
	}
	s.values[name] = by
	return nil
}

func (s *graphScope) checkNode(index int, n Node) error {
	if n.OpType == "" {
		return invalid("node %d: op type is empty", index)
	}
	where := fmt.Sprintf("node %d (%s %q)", index, n.OpType, n.Name)
	if !s.domains[canonicalDomain(n.Domain)] {
		return invalid("%s: no opset imported for domain %q", where, n.Domain)
	}
	if n.Name != "" {
		if s.nodeNames[n.Name] {
			return invalid("%s: node name is used twice", where)
		}
		s.nodeNames[n.Name] = true
	}
	for _, in := range n.Inputs {
		if _, ok := s.values[in]; in != "" && !ok {
			return invalid("%s: input %q is not a graph input, an initializer or an earlier node's output", where, in)
		}
	}
	if len(n.Outputs) == 0 {
		return invalid("%s: has no outputs", where)
	}
	for _, out := range n.Outputs {
		if out == "" {
			return invalid("%s: output name is empty", where)
		}
		if err := s.define(out, where); err != nil {
			return err
		}
	}
	return checkAttributes(where, n.Attributes)
}

func checkAttributes(where string, attrs []Attribute) error {
	seen := make(map[string]bool, len(attrs))
	for _, a := range attrs {
		if a.name == "" {
			return invalid("%s: attribute name is empty", where)
		}
		if a.kind == 0 {
			return invalid("%s: attribute %q has no type; build it with Int, Floats, ...", where, a.name)
		}
		if seen[a.name] {
			return invalid("%s: attribute %q is set twice", where, a.name)
		}
		if a.kind == AttrTensor {
			if err := checkTensorData(fmt.Sprintf("%s: attribute %q", where, a.name), a.tensor); err != nil {
				return err
			}
		}
		seen[a.name] = true
	}
	return nil
}

func (s *graphScope) checkOutputs(outputs []ValueInfo) error {
	if len(outputs) == 0 {
		return invalid("graph has no outputs")
	}
	seen := make(map[string]bool, len(outputs))
	for _, out := range outputs {
		if err := validateValueInfo("graph output", out); err != nil {
			return err
		}
		if _, ok := s.values[out.Name]; !ok {
			return invalid("graph output %q is not produced by any node, input or initializer", out.Name)
		}
		if seen[out.Name] {
			return invalid("graph output %q is listed twice", out.Name)
		}
		seen[out.Name] = true
	}
	return nil
}

func validateValueInfo(kind string, v ValueInfo) error {
	if v.Name == "" {
		return invalid("%s name is empty", kind)
	}
	if !v.Type.known() {
		return invalid("%s %q: element type %d is not supported", kind, v.Name, v.Type)
	}
	for i, d := range v.Shape {
		if d.Value < 0 || (d.Value != 0 && d.Param != "") {
			return invalid("%s %q: dimension %d must be a size >= 0 or a symbol, not both", kind, v.Name, i)
		}
	}
	return nil
}

func validateTensor(t Tensor) error {
	if t.name == "" {
		return invalid("initializer name is empty")
	}
	return checkTensorData(fmt.Sprintf("initializer %q", t.name), t)
}

// checkTensorData checks that a tensor, which what names in errors, has an
// element type and as many values as its shape holds.
func checkTensorData(what string, t Tensor) error {
	if !t.dataType.known() {
		return invalid("%s has no element type; build it with FloatTensor, Int64Tensor, Uint8Tensor, BoolTensor or StringTensor", what)
	}
	size := int64(1)
	for _, d := range t.dims {
		if d < 0 {
			return invalid("%s: negative dimension %d", what, d)
		}
		size *= d
	}
	if size != int64(t.length()) {
		return invalid("%s: shape %v holds %d elements, got %d values", what, t.dims, size, t.length())
	}
	return nil
}
