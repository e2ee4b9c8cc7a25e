package connect

import "strings"

// redacted stands in for whatever Redact hides.
const redacted = "xxxxx"

// Redact returns raw, a URL or an address from the configuration, with
// whatever may be a secret replaced by "xxxxx": the user info (everything
// between "//" and the last "@") and the query and fragment. Every URL or
// address the services print goes through it.
//
// It works on the text, not on a parsed URL, because the URLs that reach
// error messages are mostly the ones that do not parse: a password with a
// bare "%", "/", "#" or "@" in it breaks url.Parse, and url.Parse's own
// errors quote the input. Taking the last "@" hides a password holding an
// "@"; a path holding one is hidden too, which is the safe mistake.
func Redact(raw string) string {
	slashes := strings.Index(raw, "//")
	hostStart := 0
	if slashes >= 0 {
		hostStart = slashes + len("//")
	}
	if at := strings.LastIndex(raw, "@"); at >= 0 {
		// Without "//" before it ("user:pw@host"), everything before the
		// "@" may be user info.
		start := 0
		if slashes >= 0 && slashes < at {
			start = slashes + len("//")
		}
		raw = raw[:start] + redacted + raw[at:]
		hostStart = start + len(redacted) + len("@")
	}
	// A query or fragment may carry a token (?api_key=...).
	if q := strings.IndexAny(raw[hostStart:], "?#"); q >= 0 {
		raw = raw[:hostStart+q+1] + redacted
	}
	return raw
}

// redactAll applies Redact to each of addrs.
func redactAll(addrs []string) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = Redact(a)
	}
	return out
}
