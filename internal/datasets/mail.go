package datasets

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Corpora are the SpamAssassin corpus folders, in the order they are read.
var Corpora = []string{"easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2"}

// Mail labels.
const (
	Spam = "spam"
	Ham  = "ham"
)

// Where a mail's event time comes from: the symbols of the Avro enum
// TimeSource in schemas/mail.avsc.
const (
	FromDateHeader   = "date_header"
	FromEnvelope     = "envelope"
	FromPreviousMail = "previous_mail"
)

// The window a Date header or envelope time must fall in to be believed:
// the corpus was published in 2003 and holds no mail from before 1995.
var (
	earliestMail = time.Date(1995, time.January, 1, 0, 0, 0, 0, time.UTC)
	latestMail   = time.Date(2003, time.March, 1, 0, 0, 0, 0, time.UTC)
)

// RawMail is one file of the corpus, as the package ships it.
type RawMail struct {
	ID    string `json:"id"`
	Group string `json:"group"`
	Text  string `json:"text"`
}

// LoadMails reads the SpamAssassin data set unpacked in dir: every folder
// of Corpora, each in file name order.
func LoadMails(dir string) ([]Record, error) {
	var out []Record
	for _, corpus := range Corpora {
		folder := filepath.Join(dir, "data", corpus)
		files, err := filepath.Glob(filepath.Join(folder, "*.json"))
		if err != nil {
			return nil, fmt.Errorf("mail data set: %w", err)
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("mail data set: %w: no mails in %s", ErrBadData, folder)
		}
		slices.Sort(files)
		raws := make([]RawMail, 0, len(files))
		for _, f := range files {
			raw, err := readRawMail(f)
			if err != nil {
				return nil, fmt.Errorf("mail data set: %w", err)
			}
			if raw.Group != corpus {
				return nil, fmt.Errorf("mail data set: %w: %s is filed in %s but says group %q", ErrBadData, f, corpus, raw.Group)
			}
			raws = append(raws, raw)
		}
		recs, err := ParseMails(corpus, raws)
		if err != nil {
			return nil, fmt.Errorf("mail data set: %w", err)
		}
		out = append(out, recs...)
	}
	return out, nil
}

func readRawMail(path string) (RawMail, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return RawMail{}, err
	}
	var raw RawMail
	if err := json.Unmarshal(data, &raw); err != nil {
		return RawMail{}, fmt.Errorf("%w: %s: %w", ErrBadData, path, err)
	}
	if raw.ID == "" || raw.Text == "" {
		return RawMail{}, fmt.Errorf("%w: %s: no id or no text", ErrBadData, path)
	}
	return raw, nil
}

// ParseMails turns the mails of one corpus folder, in the folder's file
// order, into records. The order matters only to mails whose time is
// unusable: they take the time of the mail before them (of the first usable
// one after them, at the start of the folder).
func ParseMails(corpus string, raws []RawMail) ([]Record, error) {
	label, err := corpusLabel(corpus)
	if err != nil {
		return nil, err
	}
	out := make([]Record, len(raws))
	for i, raw := range raws {
		header, body := splitMessage(raw.Text)
		ts, source := mailTime(header, raw.Text)
		subject := decodeHeader(header.Get("Subject"))
		id := corpus + "/" + raw.ID
		out[i] = Record{Key: id, Time: ts, Value: map[string]any{
			"id":        id,
			"ts":        ts,
			"ts_source": source,
			"corpus":    corpus,
			"subject":   subject,
			"text":      MailText(subject, header, body),
			"label":     label,
		}}
	}
	if err := fillTimes(out); err != nil {
		return nil, fmt.Errorf("%s: %w", corpus, err)
	}
	return out, nil
}

func corpusLabel(corpus string) (string, error) {
	switch {
	case strings.HasPrefix(corpus, "spam-"):
		return Spam, nil
	case strings.HasPrefix(corpus, "easy-ham-"), strings.HasPrefix(corpus, "hard-ham-"):
		return Ham, nil
	}
	return "", fmt.Errorf("%w: corpus %q is neither spam nor ham", ErrBadData, corpus)
}

// fillTimes gives every record without a time the time of the record
// before it, or of the first one after it with a time.
func fillTimes(recs []Record) error {
	first := slices.IndexFunc(recs, func(r Record) bool { return !r.Time.IsZero() })
	if first < 0 {
		return fmt.Errorf("%w: no mail has a usable time", ErrBadData)
	}
	last := recs[first].Time
	for i := range recs {
		if recs[i].Time.IsZero() {
			recs[i].Time = last
			recs[i].Value["ts"] = last
			recs[i].Value["ts_source"] = FromPreviousMail
			continue
		}
		last = recs[i].Time
	}
	return nil
}

// mailTime is the Date header if it is believable, else the receipt time of
// the mbox "From " line, else zero.
func mailTime(header textproto.MIMEHeader, raw string) (time.Time, string) {
	if t, err := mail.ParseDate(header.Get("Date")); err == nil && believable(t) {
		return t.UTC(), FromDateHeader
	}
	if t, ok := envelopeTime(raw); ok && believable(t) {
		return t, FromEnvelope
	}
	return time.Time{}, ""
}

func believable(t time.Time) bool {
	return !t.Before(earliestMail) && t.Before(latestMail)
}

// envelopeTime reads the time of an mbox separator line, "From <sender>
// <asctime>", which has no zone; it is taken as UTC.
func envelopeTime(raw string) (time.Time, bool) {
	line, _, _ := strings.Cut(raw, "\n")
	rest, ok := strings.CutPrefix(line, "From ")
	if !ok {
		return time.Time{}, false
	}
	fields := strings.Fields(rest)
	if len(fields) < 2 {
		return time.Time{}, false
	}
	// ANSIC's _2 takes the day with or without its padding space.
	t, err := time.Parse(time.ANSIC, strings.Join(fields[1:], " "))
	return t, err == nil
}
