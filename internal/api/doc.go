// Package api is the trainer's REST API, the ML-container contract: create a
// model from options JSON, append slices of training rows (pandas "records"
// orientation), train it synchronously or as a task, and predict with the
// latest trained version.
//
//	PUT    /models/{name}             create (201), same options again (200), replace an empty model's options (200)
//	GET    /models                    every model, by name
//	GET    /models/{name}             options, rows held, latest version and its metrics, running task
//	DELETE /models/{name}             forget the model, its rows and its trained versions; cancel its training
//	PUT    /models/{name}/data/train  append a slice of rows; a bad row refuses the whole slice
//	DELETE /models/{name}/data/train  drop the rows held (the trained version stays)
//	PUT    /models/{name}/train       train and wait; ?async=true answers 202 with a task id
//	POST   /models/{name}/predict     score records with the latest version
//	GET    /models/{name}/onnx        the latest version's ONNX file, spec in its metadata
//	GET    /tasks/{id}                a training task's state, progress, result or error; ?wait=30s long-polls
//	GET    /healthz                   liveness, never behind the token
//
// Everything is held in memory and bounded (Config). Models are independent:
// each has its own lock, at most one training at a time, and its own ONNX
// Runtime session, serialised per model; a training that fails or panics
// fails its task and nothing else. docs/api.md is the reference.
package api
