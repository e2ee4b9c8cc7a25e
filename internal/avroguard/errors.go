package avroguard

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Classes of the errors Check returns; each *Error wraps one.
var (
	// ErrMalformed: the body cannot be a value of the schema, and reading
	// it as one would cost memory or time: a count or length that the
	// bytes left cannot hold, a varint that overflows, an index out of
	// range, a body that ends too soon.
	ErrMalformed = errors.New("malformed avro body")
	// ErrOverBudget: the body is well formed but nests deeper than
	// Limits.MaxDepth, or would decode into more than Limits allow.
	ErrOverBudget = errors.New("avro body over budget")
)

// Error is a body that Check refused: where, and why.
type Error struct {
	// Class is ErrMalformed or ErrOverBudget.
	Class error
	// Path names the value where the walk stopped, from the top-level
	// record: fields joined by dots, array items as [i], map values as
	// ["key"]; empty for the record itself.
	Path string
	// Problem says what the body claimed and what was left or allowed.
	Problem string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Problem
	}
	return "field " + e.Path + ": " + e.Problem
}

func (e *Error) Unwrap() error { return e.Class }

// maxPathBytes bounds a path in an error: a recursive type can nest
// MaxDepth levels, and the error ends up in a dead letter's header.
const maxPathBytes = 200

// failure is an Error being built: the walk returns it from the leaf where
// it stopped, and each level on the way up adds its segment. Nothing is
// allocated for paths unless a body fails.
type failure struct {
	class   error
	problem string
	segs    []string // leaf first
}

func (f *failure) Error() string { return f.problem }

func malformed(format string, args ...any) error {
	return &failure{class: ErrMalformed, problem: fmt.Sprintf(format, args...)}
}

func overBudget(format string, args ...any) error {
	return &failure{class: ErrOverBudget, problem: fmt.Sprintf(format, args...)}
}

// within adds a path segment to a failure on its way up.
func within(err error, seg string) error {
	if f, ok := err.(*failure); ok {
		f.segs = append(f.segs, seg)
	}
	return err
}

func itemSeg(i int64) string { return "[" + strconv.FormatInt(i, 10) + "]" }

// keySeg names a map value by its key, quoted and cut short.
func keySeg(key []byte) string {
	const maxKey = 32
	if len(key) > maxKey {
		return "[" + strconv.Quote(string(key[:maxKey])+"…") + "]"
	}
	return "[" + strconv.Quote(string(key)) + "]"
}

// finish turns a failure into the Error that Check returns.
func (f *failure) finish() *Error {
	var b strings.Builder
	for i := len(f.segs) - 1; i >= 0; i-- {
		s := f.segs[i]
		if b.Len() > 0 && !strings.HasPrefix(s, "[") {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	path := b.String()
	if len(path) > maxPathBytes {
		// Keep both ends: the field the value started from and where it
		// went wrong.
		path = strings.ToValidUTF8(path[:maxPathBytes/2]+"…"+path[len(path)-maxPathBytes/2:], "")
	}
	return &Error{Class: f.class, Path: path, Problem: f.problem}
}
