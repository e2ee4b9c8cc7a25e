package follow

import (
	"errors"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/model"
)

// Reasons a catalog version is refused, the values of the reason label of
// streamscore_model_load_failures_total.
const (
	// FailCorrupt: the artifact's chunks are missing, or its size or
	// SHA-256 does not match the catalog's metadata.
	FailCorrupt = "corrupt_artifact"
	// FailBadModel: ONNX Runtime cannot load it, its graph does not match
	// its spec, or one row of zeros does not run (model.ErrBadModel).
	FailBadModel = "bad_model"
	// FailSchema: its spec does not fit an input topic's latest schema.
	FailSchema = "schema_mismatch"
	// FailSmoke: it fails the smoke batch (see smoke).
	FailSmoke = "smoke_failed"
	// FailNotFound: the version is no longer in the catalog.
	FailNotFound = "not_found"
	// FailUnavailable: the catalog or the schema registry could not be
	// asked; this says nothing about the version, which is tried again.
	FailUnavailable = "unavailable"
)

// failure classifies why a version was not loaded, and whether trying it
// again later may succeed.
func failure(err error) (reason string, retry bool) {
	switch {
	case errors.Is(err, catalog.ErrCorrupt):
		return FailCorrupt, false
	case errors.Is(err, model.ErrSchemaMismatch):
		return FailSchema, false
	case errors.Is(err, errSmoke):
		return FailSmoke, false
	case errors.Is(err, model.ErrBadModel):
		return FailBadModel, false
	case errors.Is(err, catalog.ErrNotFound):
		return FailNotFound, false
	default:
		return FailUnavailable, true
	}
}
