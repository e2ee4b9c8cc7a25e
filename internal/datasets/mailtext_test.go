package datasets

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMailText(t *testing.T) {
	for _, tc := range []struct {
		name, raw, want string
	}{
		{"no content type", "Subject: s\n\nplain body\n", "s\n\nplain body\n"},
		{"folded subject, CRLF", "Subject: one\r\n two\r\n\r\nbody\r\nline\r\n", "one two\n\nbody\nline\n"},
		{"encoded subject", "Subject: =?iso-8859-1?q?caf=E9?= =?utf-8?b?w7xiZXI=?=\n\nx", "caféüber\n\nx"},
		{"quoted-printable latin1", "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\ncaf=E9 =\nsoft, bad =ZZ\n",
			"\n\ncafé soft, bad =ZZ\n"},
		{"quoted-printable windows-1252", "Content-Type: text/plain; charset=\"windows-1252\"\nContent-Transfer-Encoding: Quoted-Printable\n\n=93quoted=94 =80=81\n",
			"\n\n“quoted” € \n"},
		{"base64 with junk", "Content-Transfer-Encoding: base64\n\naGVsbG8g\nd29y!bGQ=\n", "\n\nhello world"},
		{"html", "Content-Type: text/html\n\n<html><head><style>p {color: red}</style><script>alert(1)</script></head><!-- hidden --><p>Buy&nbsp;now &amp; save</p></html>",
			"\n\n       Buy\u00a0now & save  "},
		{"image part skipped", "Content-Type: image/gif\nContent-Transfer-Encoding: base64\n\nR0lGODlh\n", "\n\n"},
		{"multipart, nested, attached message, no final boundary",
			"Content-Type: multipart/mixed; boundary=\"outer\"\n\npreamble\n--outer\nContent-Type: multipart/alternative; boundary=inner\n\n" +
				"--inner\nContent-Type: text/plain\n\nplain part\n--inner\nContent-Type: text/html\n\n<b>html part</b>\n--inner--\n" +
				"--outer\nContent-Type: application/octet-stream\n\nBINARY\n" +
				"--outer\nContent-Type: message/rfc822\n\nSubject: inner\nContent-Type: text/plain\n\nforwarded body\n--outer\nContent-Type: text/plain\n\ncut short",
			"\n\nplain part\n html part \nforwarded body\ncut short"},
		{"multipart without a boundary", "Content-Type: multipart/mixed\n\n--x\nhello\n", "\n\n--x\nhello\n"},
		{"multipart with a wrong boundary", "Content-Type: multipart/mixed; boundary=b\n\n--x\nhello\n", "\n\n--x\nhello\n"},
		{"NUL byte", "Subject: a\x00b\n\nc\x00d", "a b\n\nc d"},
		{"no header", "\nbody only", "\n\nbody only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			header, body := splitMessage(tc.raw)
			got := MailText(decodeHeader(header.Get("Subject")), header, body)
			if got != tc.want {
				t.Errorf("MailText = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMailTextTruncates(t *testing.T) {
	body := strings.Repeat("é", MaxTextBytes) // two bytes each
	got := MailText("odd", nil, body)         // "odd\n\n" makes the cut fall inside a character
	if len(got) > MaxTextBytes || !utf8.ValidString(got) || len(got) < MaxTextBytes-1 {
		t.Fatalf("%d bytes, valid UTF-8 %v; want at most %d, valid", len(got), utf8.ValidString(got), MaxTextBytes)
	}
}

func TestSplitMessage(t *testing.T) {
	header, body := splitMessage("From x@y  Thu Aug 22 12:36:23 2002\nSubject: first\nsubject: second\nnot a header\nX-Long: a\n\tb\n\nbody\n\nmore")
	if got := header.Get("Subject"); got != "first" {
		t.Errorf("Subject %q, want the first occurrence", got)
	}
	if got := header.Get("X-Long"); got != "a b" {
		t.Errorf("X-Long %q, want the folded line joined", got)
	}
	if body != "body\n\nmore" {
		t.Errorf("body %q", body)
	}
}

func TestToUTF8(t *testing.T) {
	for _, tc := range []struct{ in, charset, want string }{
		{"caf\xe9", "ISO-8859-1", "café"},
		{"\x80 \x81", "windows-1252", "€  "},
		{"caf\xe9", "", "caf "},
		{"caf\xe9\xe9!", "gb2312", "caf !"},
		{"ok ü", "utf-8", "ok ü"},
	} {
		if got := toUTF8(tc.in, tc.charset); got != tc.want {
			t.Errorf("toUTF8(%q, %q) = %q, want %q", tc.in, tc.charset, got, tc.want)
		}
	}
}
