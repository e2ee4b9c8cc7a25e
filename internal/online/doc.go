// Package online evaluates model versions on the true labels that arrive
// after their predictions: it joins predictions and labels by key, keeps
// scikit-learn's metrics per tumbling window and version, and tests a shadow
// challenger against the champion on the records both scored. It does no
// I/O; the caller feeds it records and publishes its reports.
//
// # The join
//
// One Join serves one input topic. Its semantics, which replaying the same
// events reproduces exactly:
//
//   - Holding. Predictions are held per key and version (a key keeps one
//     prediction per version) in one queue by arrival, with the labels. When
//     the held bytes exceed Config.Budget, the oldest held items, predictions
//     and labels alike, are evicted first. The bytes are accounted, not
//     estimated: per item a fixed overhead measured by this package's tests
//     against the heap, plus the key's bytes and the per-class scores.
//   - Matching. A label that finds predictions of its key makes one matched
//     pair per version that predicted it. A pair belongs to the window of the
//     later of the prediction's and the label's record times. The label stays
//     held: until its time plus LabelWait it also matches the predictions of
//     other versions that arrive later (the shadow's prediction may lag the
//     champion's), and for as long as it is held it marks the key labelled.
//   - Waiting. A label that finds no prediction waits, held within the
//     budget, until its time plus LabelWait; a prediction of its key arriving
//     meanwhile matches it. A label still unmatched then, or evicted before,
//     is counted Unmatched in the window holding its time plus LabelWait.
//   - Clock. Time is the label records' time: the latest label time added,
//     or the watermark given to Flush if later. Predictions do not move it.
//   - Late. A label that finds no prediction of its key and whose time is
//     not after the newest prediction the budget has evicted is counted Late
//     in its own window and not held: the join has forgotten predictions of
//     its time, so waiting could not tell.
//   - Duplicates. A label for a key already labelled (its label is held, or
//     one of its predictions has matched) is counted Duplicate in its own
//     window and ignored: the first label wins. A prediction of a key and
//     version already held (a record scored again after a restart) replaces
//     the held one and moves to the back of the queue; a pair already
//     counted is not counted again.
//   - Invalid. A classification label whose class is not one of
//     Config.Labels is counted in Stats.Invalid and ignored.
//   - Windows. Windows are tumbling, Config.Window long, aligned to the Unix
//     epoch. Flush(watermark) closes every window whose end is at or before
//     the watermark and returns its reports once, oldest window first; the
//     caller passes the latest label record time it has seen. An event for a
//     window already closed (labels out of order) is counted in the earliest
//     open window instead, and in Stats.AfterClose.
//   - Reports. A closed window that saw any label gives one report per
//     version and role that matched in it, ordered champion, shadow, other
//     roles, then by version. The Unmatched, Late and Duplicate counts are
//     the window's and the same on each report. A window with labels but no
//     match reports on the current champion and shadow (the latest versions
//     first seen in those roles), or on an empty version and role if none
//     was seen. The comparison's champion always has a report to carry it,
//     with Labelled 0 if it matched nothing in the window.
//
// # Metrics
//
// Over a window's matched pairs of one version, with scikit-learn 1.2's
// arithmetic: binary classifiers (two labels, the last one positive) get
// roc_auc_score of Prediction.Score (nil while one class only has been
// seen), f1_score of the predicted label for the positive class, and
// log_loss of Score, clipped to [2⁻⁵², 1-2⁻⁵²] (scikit-learn's eps="auto"
// for float64); multiclass classifiers get macro F1 and log_loss of
// Prediction.Scores (pairs without one score per class are left out of it),
// ROC AUC nil; regressors RMSE and MAE. ROC AUC keeps every score: the first
// Config.PairCap pairs of a window and version are kept, later ones are
// counted in WindowReport.AUCOmitted and left out of ROC AUC only. A NaN
// score is left out of ROC AUC and log loss (scikit-learn would refuse
// it). Predicted labels that are not model classes count as one extra
// class in macro F1 (scikit-learn counts each distinct one).
//
// # Comparison
//
// When both a champion and a shadow version have predicted a key and the
// key is labelled, the record is paired. The comparison is cumulative over
// the paired records of one pair of versions, the current champion and
// shadow, where current means the version most recently seen for the first
// time in that role. It restarts when either changes, at the first paired
// record of the new pair in window order, and is updated as each window
// closes, so a window's comparison covers the records paired up to its end.
// Binary classifiers are compared by DeLong's test of the two ROC AUCs on
// the first PairCap paired records (later ones counted in Omitted);
// regressors by a paired t test of the absolute errors (MAE, lower is
// better). A window passes at most PairCap paired records to the
// comparison; the rest are counted in Omitted too. Z is positive when the challenger is better, and the one-sided
// p-value is that of the challenger being better. The comparison rides on
// the champion's report, from the first window where the test is defined
// (two labels of each class, or two records). Multiclass classifiers are not
// compared.
//
// # Restarts
//
// The join keeps its state in memory. A new Join given the predictions the
// old one held, in their order (the tail of the prediction topic that fits
// the budget), then the labels from the start of the first window the old
// one had not closed, then the rest of the events, gives the same reports
// for that window and every later one, comparison included, provided the
// budget held every prediction those labels match. Two things are lost
// with the old join's memory: labels from before that window still waiting
// at the restart (they would have been counted Unmatched in it, or matched
// a late prediction), and records paired before it (the comparison starts
// again from the replayed labels, so it equals the old one's only when its
// pair of versions began in that window or later).
//
// # Limits
//
// Times are int64 nanoseconds since the epoch (years 1678 to 2262).
// Versions and roles are interned for the join's life: they are meant to
// be few. A Join is not safe for concurrent use.
package online
