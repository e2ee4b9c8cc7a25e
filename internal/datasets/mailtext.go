package datasets

import (
	"bytes"
	"encoding/base64"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaxTextBytes bounds a mail's text: model.DefaultMaxTextBytes, the most a
// text model reads by default, so no mail is left out as oversize.
const MaxTextBytes = 64 << 10

// maxMIMEDepth bounds the nesting of multiparts and attached messages.
const maxMIMEDepth = 8

// MailText is what a text model reads from a mail: the subject, a blank
// line, then the body's text. The body is walked as MIME: multiparts part
// by part, attached messages (message/rfc822) by their own bodies; text
// parts are transfer-decoded (quoted-printable, base64) and what that
// yields is converted from the part's charset to UTF-8 (see toUTF8); HTML
// loses its tags, comments, scripts and styles and has its entities
// decoded; other parts (images, attachments) are left out. A body that
// claims to be multipart but has no readable part is read as plain text.
// CRLF becomes LF, NUL bytes become spaces, and the result is cut to
// MaxTextBytes at a character boundary.
func MailText(subject string, header textproto.MIMEHeader, body string) string {
	var b strings.Builder
	b.WriteString(subject)
	b.WriteString("\n\n")
	appendBody(&b, header, body, 0)
	text := strings.NewReplacer("\r\n", "\n", "\x00", " ").Replace(b.String())
	return truncate(text, MaxTextBytes)
}

// splitMessage separates a raw mail into its header and body. It is lenient,
// as the corpus needs: an mbox "From " line is skipped, CRLF is read as LF,
// folded lines are joined, and lines that are not "Name: value" are
// ignored. The first occurrence of a field is the one Get returns.
func splitMessage(raw string) (textproto.MIMEHeader, string) {
	raw = strings.ReplaceAll(raw, "\r\n", "\n")
	if strings.HasPrefix(raw, "From ") {
		_, raw, _ = strings.Cut(raw, "\n")
	}
	head, body, found := strings.Cut(raw, "\n\n")
	if !found && strings.HasPrefix(raw, "\n") { // no header at all
		head, body = "", raw[1:]
	}
	header := textproto.MIMEHeader{}
	var name, value string
	flush := func() {
		if name != "" {
			header.Add(name, strings.TrimSpace(value))
		}
		name, value = "", ""
	}
	for _, line := range strings.Split(head, "\n") {
		if line != "" && (line[0] == ' ' || line[0] == '\t') {
			if name != "" {
				value += " " + strings.TrimSpace(line)
			}
			continue
		}
		flush()
		k, v, ok := strings.Cut(line, ":")
		if ok && k != "" && !strings.ContainsAny(k, " \t") {
			name, value = textproto.CanonicalMIMEHeaderKey(k), v
		}
	}
	flush()
	return header, body
}

func appendBody(b *strings.Builder, header textproto.MIMEHeader, body string, depth int) {
	mediaType, params, err := mime.ParseMediaType(header.Get("Content-Type"))
	if err != nil && mediaType == "" {
		mediaType, params = "text/plain", nil
	}
	switch {
	case strings.HasPrefix(mediaType, "multipart/") && depth < maxMIMEDepth:
		if appendParts(b, params["boundary"], body, depth) {
			return
		}
		appendText(b, body, "text/plain", "", "") // no readable part
	case mediaType == "message/rfc822" && depth < maxMIMEDepth:
		inner, innerBody := splitMessage(transferDecode(body, header.Get("Content-Transfer-Encoding")))
		appendBody(b, inner, innerBody, depth+1)
	case strings.HasPrefix(mediaType, "text/"):
		appendText(b, body, mediaType, params["charset"], header.Get("Content-Transfer-Encoding"))
	}
}

// appendParts appends the text of each part of a multipart body and
// reports whether it found any part. A malformed multipart (a missing final
// boundary, a part cut short) keeps what was read before the fault.
func appendParts(b *strings.Builder, boundary, body string, depth int) bool {
	if boundary == "" {
		return false
	}
	r := multipart.NewReader(strings.NewReader(body), boundary)
	found := false
	for {
		part, err := r.NextRawPart()
		if err != nil {
			return found
		}
		found = true
		data, _ := io.ReadAll(part) // a part cut short keeps what it has
		appendBody(b, part.Header, string(data), depth+1)
	}
}

func appendText(b *strings.Builder, body, mediaType, charset, encoding string) {
	// The package ships each mail as a JSON string, with 8-bit bytes that
	// were not UTF-8 already replaced by U+FFFD: only what transfer decoding
	// yields is still in the part's charset.
	text := strings.ToValidUTF8(body, " ")
	if isTransferEncoded(encoding) {
		text = toUTF8(transferDecode(body, encoding), charset)
	}
	if mediaType == "text/html" {
		text = stripHTML(text)
	}
	if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
		b.WriteByte('\n')
	}
	b.WriteString(text)
}

// transferDecode undoes a Content-Transfer-Encoding. Both decoders are
// lenient: a malformed quoted-printable escape is kept as it is, and base64
// ignores characters outside its alphabet and a dangling last group.
func isTransferEncoded(encoding string) bool {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable", "base64":
		return true
	}
	return false
}

func transferDecode(body, encoding string) string {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		return decodeQuotedPrintable(body)
	case "base64":
		return decodeBase64(body)
	}
	return body
}

func decodeQuotedPrintable(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		rest := strings.TrimLeft(s[i+1:], " \t")
		switch {
		case strings.HasPrefix(rest, "\n"): // soft line break
			i = len(s) - len(rest)
		case i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

func decodeBase64(s string) string {
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' {
			clean = append(clean, c)
		}
	}
	if len(clean)%4 == 1 { // a lone character cannot be a byte
		clean = clean[:len(clean)-1]
	}
	out, err := base64.RawStdEncoding.DecodeString(string(clean))
	if err != nil {
		return ""
	}
	return string(out)
}

// toUTF8 converts text in a declared charset to UTF-8: UTF-8 and US-ASCII
// as they are, ISO-8859-1 and windows-1252 byte by byte. Bytes that are not
// valid UTF-8 after that (from any other charset, or mislabelled text)
// become a space each run.
func toUTF8(s, charset string) string {
	switch strings.ToLower(strings.Trim(charset, `" `)) {
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1":
		return decodeSingleByte(s, nil)
	case "windows-1252", "cp1252", "x-cp1252":
		return decodeSingleByte(s, &windows1252)
	}
	return strings.ToValidUTF8(s, " ")
}

// windows1252 holds the characters of bytes 0x80 to 0x9F in windows-1252;
// zero marks the five bytes it leaves undefined.
var windows1252 = [32]rune{
	'€', 0, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0, 'Ž', 0,
	0, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0, 'ž', 'Ÿ',
}

func decodeSingleByte(s string, high *[32]rune) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x80:
			b.WriteByte(c)
		case high != nil && c < 0xA0:
			if r := high[c-0x80]; r != 0 {
				b.WriteRune(r)
			} else {
				b.WriteByte(' ')
			}
		default:
			b.WriteRune(rune(c))
		}
	}
	return b.String()
}

var (
	htmlHidden = regexp.MustCompile(`(?is)<!--.*?-->|<script\b.*?</script\s*>|<style\b.*?</style\s*>`)
	htmlTag    = regexp.MustCompile(`(?s)<[^>]*>`)
)

// stripHTML removes comments, scripts, styles and tags, each leaving a
// space, and decodes entities.
func stripHTML(s string) string {
	s = htmlHidden.ReplaceAllString(s, " ")
	s = htmlTag.ReplaceAllString(s, " ")
	return html.UnescapeString(s)
}

// decodeHeader decodes RFC 2047 encoded words; a charset it cannot convert
// is read as toUTF8 reads it. A header that does not decode is kept as it
// is, made valid UTF-8.
func decodeHeader(v string) string {
	dec := mime.WordDecoder{CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
		data, err := io.ReadAll(input)
		if err != nil {
			return nil, err
		}
		return bytes.NewReader([]byte(toUTF8(string(data), charset))), nil
	}}
	out, err := dec.DecodeHeader(v)
	if err != nil {
		out = v
	}
	return strings.ToValidUTF8(out, " ")
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
