// Package drift measures how the rows a model version scores differ from
// those it was trained on. The trainer stores a reference Profile with
// each version (Reference builds it from the training rows and the
// model's predictions on them); a scorer accumulates a Window of the live
// rows of each version and reports it when the window closes, as a
// monitor record (schemas/monitor.avsc).
//
// # Reference
//
// A profile describes each model column, in the spec's input and column
// order (a whole array one column per element, named window[3]; a part of
// a timestamp named ts:hour_of_day), up to MaxFeatures columns and
// MaxProfileBytes of JSON: a wider model has a prefix of its columns
// profiled, and Truncated set.
//
//   - numeric: 20 quantile bins (ventiles) of the non-null training
//     values. Edges are the interior cut points, the value at rank
//     ceil(k n / 20) of the n sorted values for k = 1..19, deduplicated:
//     a discrete feature has fewer bins. Bin i holds the values v with
//     Edges[i-1] < v <= Edges[i]. Shares are each bin's share of the
//     non-null values; NullRate the share of rows whose value was null or
//     absent (and so took the feature's default); Min and Max the extremes
//     of the non-null values.
//   - categorical: one bin per code (each category, other, null), Shares
//     the share of rows with that code; NullRate the null code's share.
//   - text: the text's length in bytes, binned as a numeric value; Min
//     and Max the extreme lengths; OOVRate the share of the training
//     texts' words outside the model's vocabulary, and Vocabulary the
//     vocabulary's words (vocabulary.go says how they are encoded,
//     bounded to 87 KiB). A text is never null: a record without one is
//     refused.
//   - prediction: a binary classifier's positive score, or a regressor's
//     value, binned as a numeric value; a classifier's share of rows
//     predicted as each class. A multiclass classifier has no score bins.
//
// Quantiles are cut from a seeded reservoir sample of up to MaxSampleRows
// rows (and predictions); counts, null rates, extremes, category shares
// and the out-of-vocabulary rate are of every training row. Shares are
// rounded to 1e-6.
//
// # Window statistics
//
// A Window reports, per column: the null rate, the share of its records
// whose value was null or absent; the mean of the non-null values
// (numeric) or of the lengths (text), none for a categorical column; and,
// against a reference:
//
//   - PSI, the population stability index: sum over bins of
//     (a - e) ln(a / e), a the window's share and e the reference's, each
//     floored at 1e-4 (an empty bin would make it infinite). For a
//     numeric column or a text length it is taken over deciles, pairs of
//     reference ventiles merged (between ties, the ventiles between two
//     decile cut points, the edges at which the reference's cumulative
//     share first reaches k/10), plus a bin of null values, all as shares
//     of every record: so the usual reading applies, below 0.1 no
//     significant change, 0.1 to 0.25 a moderate one, above 0.25 a
//     significant one. For a categorical column it is over the codes, other
//     and null included; with many categories a window needs more records
//     for the same reading: with no change at all, PSI is about
//     (bins - 1) / records on average.
//   - KS, numeric columns only: the largest gap, at the reference's
//     edges, between the window's and the reference's cumulative shares
//     of the non-null values.
//   - out-of-range rate: numeric, the share of the non-null values below
//     the reference's Min or above its Max; categorical, the share of
//     records given the other code (a value outside the table: one the
//     feature's unknown policy maps to a category counts as that
//     category); text, the share of the window's words outside the
//     vocabulary.
//
// The prediction's PSI is over deciles of the score as above, without a
// null bin; its mean is the mean score or value; class shares are the
// share of records predicted as each class. A statistic that cannot be
// taken is nil: without a reference (psi, ks, out-of-range), for a kind
// it does not apply to, or without values in the window (an all-null
// column has no mean, ks or out-of-range rate). A non-finite value, which
// only a model that allows them takes, is counted out of range and left
// out of bins and means.
//
// Words are split as internal/train's tokenizer splits them, through the
// rules the two share in internal/textword.
package drift
