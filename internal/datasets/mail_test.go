package datasets

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLoadMails(t *testing.T) {
	recs, err := LoadMails("testdata/spam-assassin")
	if err != nil {
		t.Fatal(err)
	}
	envelope := time.Date(2002, 8, 23, 11, 17, 32, 0, time.UTC) // spam-1/00023's "From " line
	want := []struct {
		id, label, source string
		ts                time.Time
		subject           string
		has, hasNot       []string
	}{
		{id: "easy-ham-1/02029", label: Ham, source: FromDateHeader, ts: time.Date(2002, 9, 27, 8, 0, 58, 0, time.UTC),
			subject: "Giant otter statue to be built",
			has:     []string{"Giant otter statue to be built\n\nURL: http://www.newsisfree.com/"}, hasNot: []string{"Return-Path", "Delivered-To"}},
		{id: "easy-ham-2/01280", label: Ham, source: FromDateHeader, ts: time.Date(2002, 7, 22, 15, 16, 47, 0, time.UTC),
			has: []string{"\n\nProblem with spamtrap"}},
		{id: "hard-ham-1/00003", label: Ham, source: FromDateHeader, ts: time.Date(2002, 5, 28, 2, 53, 26, 0, time.UTC),
			subject: "Automated 30 day renewal reminder 2002-05-27", has: []string{"nutmegclothing.com, 2002-06-26"}},
		// Date: Thu, 22 Aug 0102: the envelope's time instead; a
		// multipart/mixed whose HTML part is base64.
		{id: "spam-1/00023", label: Spam, source: FromEnvelope, ts: envelope,
			subject: "Penile enlargement method - guaranteed !",
			has:     []string{"THIS IS FOR ADULT MEN ONLY !"}, hasNot: []string{"PGh0bWw", "<font", "NextPart", "\r"}},
		// Year 0102 and no "From " line: the time of the mail before it.
		{id: "spam-1/00037", label: Spam, source: FromPreviousMail, ts: envelope,
			subject: "Order your Viagra and weight-loss here 6117kFvc5--9",
			has:     []string{"VIAGRA", "A DOCTORS VISIT!!", "\u00a0"}, hasNot: []string{"<p", "font-family", "&nbsp;"}},
		// A Big5 subject and an HTML body of nothing but an iframe.
		{id: "spam-1/00329", label: Spam, source: FromDateHeader, ts: time.Date(2002, 9, 11, 9, 19, 10, 0, time.UTC),
			hasNot: []string{"=?Big5?", "iframe", "callin"}},
		// text/html in base64 without a charset.
		{id: "spam-1/00336", label: Spam, source: FromDateHeader, ts: time.Date(2002, 9, 14, 14, 49, 8, 0, time.UTC),
			subject: "Yeni s\ufffdr\ufffdmde", // as the package ships it
			has:     []string{"Degerli SMSTR kullanicimiz", "Versiyon 7.3 u indirmek"}, hasNot: []string{"<html>", "PGh0bWw+"}},
		// multipart/alternative: the plain part, then the HTML one.
		{id: "spam-2/00714", label: Spam, source: FromDateHeader, ts: time.Date(2002, 7, 16, 23, 9, 47, 0, time.UTC),
			subject: "Complimentary Thermal Coffeemaker from Gevalia!",
			has:     []string{"\n\nGood news!  As someone who is interested", "Gevalia Kaffe"}, hasNot: []string{"------0000", "Content-Type", "<td", "<TD"}},
		// Quoted-printable HTML; a -1600 zone.
		{id: "spam-2/00860", label: Spam, source: FromDateHeader, ts: time.Date(2002, 7, 22, 8, 34, 24, 0, time.UTC),
			subject: "Re: Your love life             NWKFJ",
			has:     []string{`A man endowed with a 7-8" hammer is simply`}, hasNot: []string{"=3D", "<FONT", "<br>"}},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i, w := range want {
		r := recs[i]
		v := r.Value
		t.Run(w.id, func(t *testing.T) {
			if r.Key != w.id || v["id"] != w.id || v["corpus"] != strings.Split(w.id, "/")[0] || v["label"] != w.label {
				t.Errorf("key %q, value id %v, corpus %v, label %v", r.Key, v["id"], v["corpus"], v["label"])
			}
			if !r.Time.Equal(w.ts) || v["ts"] != r.Time || v["ts_source"] != w.source {
				t.Errorf("time %v (value %v) from %v, want %v from %s", r.Time, v["ts"], v["ts_source"], w.ts, w.source)
			}
			if v["subject"] != w.subject && w.subject != "" {
				t.Errorf("subject %q, want %q", v["subject"], w.subject)
			}
			text := v["text"].(string)
			if !strings.HasPrefix(text, v["subject"].(string)+"\n\n") {
				t.Errorf("text does not start with the subject and a blank line: %.80q", text)
			}
			for _, s := range w.has {
				if !strings.Contains(text, s) {
					t.Errorf("text lacks %q:\n%s", s, text)
				}
			}
			for _, s := range w.hasNot {
				if strings.Contains(text, s) {
					t.Errorf("text has %q:\n%s", s, text)
				}
			}
		})
	}
}

func TestParseMailsFillsTimes(t *testing.T) {
	dated := func(id, date string) RawMail {
		return RawMail{ID: id, Text: "Date: " + date + "\nSubject: " + id + "\n\nbody\n"}
	}
	recs, err := ParseMails("spam-2", []RawMail{
		dated("1", "Mon, 28 Jul 1980 14:01:35"),       // before the window: the next usable time
		dated("2", "Tue, 16 Jul 2002 19:09:47 -0400"), // usable
		dated("3", "2002/09/14 Sat 02:29:32 CDT"),     // unparseable: the previous one's
		dated("4", "Wed, 05 Aug 2020 04:01:50 -1900"), // after the window
		dated("5", "Sun, 21 Jul 2002 16:34:24 -1600"),
	})
	if err != nil {
		t.Fatal(err)
	}
	second := time.Date(2002, 7, 16, 23, 9, 47, 0, time.UTC)
	fifth := time.Date(2002, 7, 22, 8, 34, 24, 0, time.UTC)
	want := []struct {
		ts     time.Time
		source string
	}{
		{second, FromPreviousMail}, {second, FromDateHeader}, {second, FromPreviousMail}, {second, FromPreviousMail}, {fifth, FromDateHeader},
	}
	for i, w := range want {
		if !recs[i].Time.Equal(w.ts) || recs[i].Value["ts"] != recs[i].Time || recs[i].Value["ts_source"] != w.source {
			t.Errorf("mail %d at %v from %v, want %v from %s", i+1, recs[i].Time, recs[i].Value["ts_source"], w.ts, w.source)
		}
	}
}

func TestParseMailsRejects(t *testing.T) {
	undated := RawMail{ID: "1", Text: "Subject: hi\n\nbody"}
	for _, tc := range []struct {
		name, corpus string
		raws         []RawMail
		errContains  string
	}{
		{"unknown corpus", "inbox", []RawMail{undated}, "neither spam nor ham"},
		{"no usable time", "easy-ham-1", []RawMail{undated, undated}, "no mail has a usable time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseMails(tc.corpus, tc.raws)
			if !errors.Is(err, ErrBadData) || !strings.Contains(err.Error(), tc.errContains) {
				t.Fatalf("error %v, want ErrBadData containing %q", err, tc.errContains)
			}
		})
	}
}

func TestLoadMailsMissingFolder(t *testing.T) {
	_, err := LoadMails(t.TempDir())
	if !errors.Is(err, ErrBadData) {
		t.Fatalf("error %v, want ErrBadData", err)
	}
}

func TestEnvelopeTime(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want time.Time
		ok   bool
	}{
		{"From a@b.c  Thu Aug 22 12:36:23 2002\nX: y", time.Date(2002, 8, 22, 12, 36, 23, 0, time.UTC), true},
		{"From a@b.c  Mon Sep  2 01:02:03 2002\n", time.Date(2002, 9, 2, 1, 2, 3, 0, time.UTC), true},
		{"From: a@b.c\n", time.Time{}, false},
		{"From a@b.c\n", time.Time{}, false},
		{"From a@b.c yesterday\n", time.Time{}, false},
	} {
		got, ok := envelopeTime(tc.raw)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("envelopeTime(%q) = %v, %v; want %v, %v", tc.raw, got, ok, tc.want, tc.ok)
		}
	}
}
