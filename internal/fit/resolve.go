package fit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/model"
)

// Resolve checks every path of the options (features, label, text) against
// a record schema before any record is read, and returns the options with
// every categorical feature listed in Categorical: the strings and enums,
// beside the ints, longs and booleans listed already. It refuses, in one
// error naming each path and its Avro type, a path the schema lacks (unless
// the feature has a default), and a type that cannot feed its column: a
// float or double listed as categorical, a whole array without an arrays
// entry or of other than numbers, time_parts of what is not a timestamp, a
// record, map, bytes or fixed. subject names the schema in the message.
func (o Options) Resolve(schema *avropath.Schema, subject string) (Options, error) {
	var problems []string
	bad := func(path, format string, args ...any) {
		problems = append(problems, path+": "+fmt.Sprintf(format, args...))
	}
	resolve := func(given string) (avropath.Leaf, bool) {
		p, err := avropath.Parse(given)
		if err != nil {
			return avropath.Leaf{}, false // Validate names it
		}
		leaf, err := schema.Resolve(p)
		if err != nil {
			problems = append(problems, err.Error())
			return avropath.Leaf{}, false
		}
		return leaf, true
	}
	out := o
	out.Categorical = CategoricalOptions{}
	for k, v := range o.Categorical {
		out.Categorical[k] = v
	}
	if o.Label != "" {
		if leaf, ok := resolve(o.Label); ok {
			if why := labelFits(o.Task, leaf); why != "" {
				bad(o.Label, "is %s; %s (the label)", leaf.TypeName, why)
			}
		}
	}
	if o.Family == Text {
		if leaf, ok := resolve(o.TextField); ok && leaf.Type != "string" && leaf.Type != "enum" {
			bad(o.TextField, "is %s; a text model reads a string (the text)", leaf.TypeName)
		}
	}
	for _, f := range o.FeatureReads() {
		leaf, err := schema.Resolve(f.Path)
		if err != nil {
			if f.Default != nil && avropath.IsAbsent(err) {
				continue // the schema's records read as the default
			}
			problems = append(problems, err.Error())
			continue
		}
		name := f.Path.String()
		switch f.Kind {
		case CategoryFeature:
			switch leaf.Type {
			case "string", "enum", "int", "long", "boolean":
				if leaf.Logical != "" {
					bad(name, "is %s, a time: not a category (give it as a number, or time_parts)", leaf.TypeName)
				}
			default:
				bad(name, "is %s: a category is a string, an enum, an int, a long or a boolean", leaf.TypeName)
			}
		case ArrayFeature:
			if leaf.Type != "array" || leaf.Items == nil || !numericKind(leaf.Items.Type) || leaf.Items.Logical != "" || leaf.Items.Nullable {
				bad(name, "is %s: %s takes an array of ints, longs, floats or doubles, none null", leaf.TypeName, keyName("arrays", f.Given))
			}
		case PartsFeature:
			if !isTimestamp(leaf) {
				bad(name, "is %s: %s takes a timestamp (timestamp-millis, timestamp-micros or date)", leaf.TypeName, keyName("time_parts", f.Given))
			}
		default:
			switch {
			case leaf.Type == "string" || leaf.Type == "enum":
				// A category without an entry: the table is learnt. As
				// with an entry (validateFeatureOptions), null is a
				// category of its own, so a default would never apply.
				out.Categorical[f.Given] = Categorical{}
				if f.Default != nil {
					bad(keyName("defaults", defaultKey(o.Defaults, f.Path)), "%s is %s, read as a category: a categorical feature reads null as a category of its own, so it takes no default", name, leaf.TypeName)
				}
			case leaf.Type == "array":
				bad(name, "is %s: a whole array needs %s.length (its columns), or read one element as %s[0]", leaf.TypeName, keyName("arrays", f.Given), name)
			case numericKind(leaf.Type) || leaf.Type == "boolean":
				if leaf.Logical == "decimal" {
					bad(name, "is %s: a decimal is not read as a number", leaf.TypeName)
				}
			default:
				bad(name, "is %s, which no column takes (a number, boolean, timestamp, string or enum; an array with arrays)", leaf.TypeName)
			}
		}
	}
	if len(problems) > 0 {
		return Options{}, fmt.Errorf("%w: %w: %s: %d %s: %s", ErrInvalidOptions, model.ErrSchemaMismatch,
			subject, len(problems), plural(len(problems), "path does not fit", "paths do not fit"), strings.Join(problems, "; "))
	}
	if len(out.Categorical) == 0 {
		out.Categorical = nil
	}
	// The scorer checks the spec it serves against the schema by the same
	// rules (model.Spec.CheckSchema): a model trained here must pass it.
	reads := out.FeatureReads()
	tables := make([][]string, len(reads))
	for i, f := range reads {
		if f.Kind == CategoryFeature {
			tables[i] = placeholderTable
		}
	}
	if err := out.spec("check", nil, tables).CheckSchema(schema); err != nil {
		return Options{}, fmt.Errorf("%w: %s: %w", ErrInvalidOptions, subject, err)
	}
	return out, out.validateCategoryBins()
}

// defaultKey is the key of defaults that gives p's default, as the
// options spell it.
func defaultKey(defaults map[string]float64, p avropath.Path) string {
	for k := range defaults {
		if c, err := canonicalPath(k); err == nil && c == p.String() {
			return k
		}
	}
	return p.String()
}

// labelFits says why a label of the task cannot be the leaf, or "".
func labelFits(task model.Task, leaf avropath.Leaf) string {
	if leaf.Type == "union" {
		return "" // each record's branch is read as it comes
	}
	if task == model.Regression {
		if !numericKind(leaf.Type) || leaf.Logical != "" {
			return "a regressor's label is an int, a long, a float or a double"
		}
		return ""
	}
	switch leaf.Type {
	case "string", "enum", "int", "long", "boolean", "float", "double":
		if leaf.Logical != "" {
			return "a class label is a string, an enum, a number or a boolean, not a time"
		}
		return ""
	}
	return "a class label is a string, an enum, a number or a boolean"
}

func numericKind(t string) bool {
	return slices.Contains([]string{"int", "long", "float", "double"}, t)
}

func isTimestamp(leaf avropath.Leaf) bool {
	switch leaf.Logical {
	case "timestamp-millis", "timestamp-micros", "date":
		return true
	}
	return false
}

// Schemas finds the latest schema registered under a subject, which a
// training checks its paths against before reading any record.
type Schemas interface {
	// LatestSchema returns the schema's text and version; a subject with
	// no schema is ErrNoSchema.
	LatestSchema(ctx context.Context, subject string) (text string, version int, err error)
}

// ErrNoSchema means a subject has no schema registered.
var ErrNoSchema = errors.New("no schema registered under the subject")

// ResolveSchema checks opts against the latest schema of subject (see
// Options.Resolve) and returns them resolved. A subject without a schema
// leaves them as they are, with ok false: its records, if any, are read
// one by one as before, categorical only where the options say so.
func ResolveSchema(ctx context.Context, schemas Schemas, subject string, opts Options) (resolved Options, ok bool, err error) {
	text, version, err := schemas.LatestSchema(ctx, subject)
	if errors.Is(err, ErrNoSchema) {
		return opts, false, nil
	}
	if err != nil {
		return Options{}, false, err
	}
	schema, err := avropath.ParseSchema(text)
	if err != nil {
		return Options{}, false, fmt.Errorf("schema %s version %d: %w", subject, version, err)
	}
	resolved, err = opts.Resolve(schema, fmt.Sprintf("%s version %d", subject, version))
	if err != nil {
		return Options{}, false, err
	}
	return resolved, true, nil
}
