package model

import (
	"errors"
	"fmt"
	"strings"

	"github.com/streamscore/streamscore/internal/avropath"
)

// CheckSchema reports, all at once, every way in which records of a schema
// could never be scored by this Spec: a feature whose path the schema lacks
// (and that has no default), that passes a type it cannot step through, or
// whose Avro type cannot feed its column, each naming the path and its
// Avro type. It wraps ErrSchemaMismatch. Nullable values are allowed: a
// null is refused, or read as a default or the null code, per record.
//
// What feeds what: a number column takes an int, long, float, double or
// boolean, a timestamp, date or time; a time part a timestamp or date; a
// categorical column a string, enum, int, long or boolean; a whole array
// (length) an array of ints, longs, floats or doubles, none nullable; a
// string input a string or enum.
func (s Spec) CheckSchema(schema *avropath.Schema) error {
	var problems []string
	for _, in := range s.Inputs {
		for _, f := range in.Fields {
			if why := checkFeature(in, f, schema); why != "" {
				problems = append(problems, fmt.Sprintf("input %q %s", in.Name, why))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrSchemaMismatch, strings.Join(problems, "; "))
	}
	return nil
}

// checkFeature says what is wrong with one feature against the schema,
// after the input's name, or "" when it fits.
func checkFeature(in Input, f Feature, schema *avropath.Schema) string {
	p, err := avropath.Parse(f.Field)
	if err != nil {
		return fmt.Sprintf("field %q: %v", f.Field, err)
	}
	name := p.String()
	leaf, err := schema.Resolve(p)
	switch {
	case err == nil:
	case avropath.IsAbsent(err) && f.Default != nil:
		return "" // records of this schema read as the default
	case avropath.IsAbsent(err) && p.Flat():
		return fmt.Sprintf("needs field %q, which the schema lacks", name)
	case avropath.IsAbsent(err):
		return fmt.Sprintf("needs field %q, which the schema lacks: %s", name, reason(err))
	default:
		return fmt.Sprintf("field %q: %s", name, reason(err))
	}
	is := fmt.Sprintf("field %q is %s", name, leaf.TypeName)
	switch {
	case in.isText():
		if leaf.Type != "string" && leaf.Type != "enum" {
			return fmt.Sprintf("takes text but %s", is)
		}
	case f.Categorical():
		if !categoryType(leaf) {
			return fmt.Sprintf("reads categories but %s: a category is a string, an enum, an int, a long or a boolean", is)
		}
	case f.Length > 0:
		if leaf.Type != "array" || leaf.Items == nil || !numberType(*leaf.Items) || leaf.Items.Logical != "" || leaf.Items.Nullable {
			return fmt.Sprintf("reads %d columns from an array but %s: an array feature is an array of ints, longs, floats or doubles, none null", f.Length, is)
		}
	case f.Part != "":
		if !timestampType(leaf) {
			return fmt.Sprintf("reads the %s of a timestamp but %s: a part is of a timestamp-millis, a timestamp-micros or a date", f.Part, is)
		}
	default:
		if !numberType(leaf) {
			why := fmt.Sprintf("takes numbers but %s", is)
			switch leaf.Type {
			case "string", "enum":
				why += " (give it categories to read it as a category)"
			case "array":
				why += fmt.Sprintf(" (give it a length to read it whole, or read one item as %s[0])", name)
			}
			return why
		}
	}
	return ""
}

// reason is why a path does not resolve, without the path itself.
func reason(err error) string {
	var re *avropath.ResolveError
	if errors.As(err, &re) {
		return re.Reason
	}
	return err.Error()
}

// numberType reports whether a number column takes values of this type.
func numberType(l avropath.Leaf) bool {
	switch l.Type {
	case "int", "long", "float", "double", "boolean":
		return l.Logical != "decimal"
	}
	return false
}

func categoryType(l avropath.Leaf) bool {
	switch l.Type {
	case "string", "enum", "boolean":
		return true
	case "int", "long":
		return l.Logical == "" // a date or time is not a category
	}
	return false
}

func timestampType(l avropath.Leaf) bool {
	switch l.Logical {
	case "timestamp-millis", "timestamp-micros", "date":
		return true
	}
	return false
}
