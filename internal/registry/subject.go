package registry

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxSubjectBytes caps a subject name. Confluent sets no length limit; a
// subject is usually a topic name (at most 249 bytes in Kafka) plus
// "-value", or a record's full name, and 1 KiB leaves room for both
// (TopicRecordNameStrategy joins them) while keeping names out of the way
// of memory, logs and URLs.
const MaxSubjectBytes = 1024

// Confluent reserves these names (QualifiedSubject.isValidSubject): the
// first two stand for the global scope and the empty subject internally,
// and the context ":.__GLOBAL:" holds global settings.
const (
	reservedGlobalSubject = "__GLOBAL"
	reservedEmptySubject  = "__EMPTY"
	reservedGlobalContext = ":.__GLOBAL:"
)

// checkSubject applies Confluent's subject rules (no control characters,
// none of its reserved names) and three of this registry's own where
// Confluent is lax or silent: a name must not be empty or only white
// space, must be valid UTF-8 (an invalid byte would come back from JSON
// answers as U+FFFD, a different name) and must fit MaxSubjectBytes.
// The error is the 42208 answer and says which rule the name breaks.
func checkSubject(name string) *apiError {
	if len(name) > MaxSubjectBytes {
		return errInvalidSubject(name, fmt.Sprintf("it is %d bytes long, over the limit of %d", len(name), MaxSubjectBytes))
	}
	if strings.TrimSpace(name) == "" {
		return errInvalidSubject(name, "it is empty or only white space")
	}
	if !utf8.ValidString(name) {
		return errInvalidSubject(name, "it is not valid UTF-8")
	}
	// unicode.IsControl is the C0 and C1 ranges and DEL, the same set as
	// Java's Character.isISOControl that Confluent checks.
	for i, r := range name {
		if unicode.IsControl(r) {
			return errInvalidSubject(name, fmt.Sprintf("it contains the control character U+%04X at byte %d", r, i))
		}
	}
	switch {
	case name == reservedGlobalSubject, name == reservedEmptySubject:
		return errInvalidSubject(name, "the name is reserved")
	case strings.HasPrefix(name, reservedGlobalContext):
		return errInvalidSubject(name, "the context "+reservedGlobalContext+" is reserved for global settings")
	}
	return nil
}

// subjectPrefixes are the paths whose next segment is a subject. A request
// with that segment empty ("/subjects//versions") would otherwise be
// redirected by the mux to a cleaned path naming a different route.
var subjectPrefixes = []string{"/subjects/", "/config/", "/compatibility/subjects/"}

// emptySubjectInPath reports whether path names a subject-taking route
// with an empty subject.
func emptySubjectInPath(path string) bool {
	for _, prefix := range subjectPrefixes {
		if rest, ok := strings.CutPrefix(path, prefix); ok && (rest == "" || rest[0] == '/') {
			return true
		}
	}
	return false
}
