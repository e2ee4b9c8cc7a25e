// Package fit trains a model on rows and judges it, with no Kafka: the
// options of a training (Options), the mapping of rows into the columns the
// algorithms of internal/train take (Table), categories learnt from the
// training rows, the holdout, the export to ONNX and the parity check
// against ONNX Runtime, and the scores a version is compared on (Metrics).
//
// The REST API trains on the rows it holds (FitRows); a job of
// internal/jobs fills a Table from a topic and trains on it (FitTable).
package fit
