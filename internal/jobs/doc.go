// Package jobs retrains models from Kafka topics: a job's definition
// (Job), reading its source into a fit.Table (ReadTraining), training and
// publishing to the catalog with the champion rule (Runner), and the
// Scheduler that runs each job on demand, on its schedule and after enough
// new records.
package jobs
