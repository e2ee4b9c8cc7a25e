package catalog_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/drift"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/testkit"
)

// TestFitProfileKeepsAProfileThatFits: a version's drift profile stays
// when its metadata fits a record, and goes, said, when the spec leaves no
// room for it, leaving metadata that fits.
func TestFitProfileKeepsAProfileThatFits(t *testing.T) {
	profile := &drift.Profile{Rows: 5, Features: []drift.FeatureProfile{{Name: "x", Kind: drift.KindNumeric, Shares: make([]float64, 60000)}}}
	small := testkit.SensorVersion("sensor")
	small.Profile = profile
	if v, dropped := small.FitProfile(); dropped || v.Profile != profile {
		t.Fatalf("a small version lost its profile")
	}

	big := small
	var cats []string
	for i := 0; ; i++ {
		cats = append(cats, fmt.Sprintf("category-%06d", i))
		if len(cats)*19 > catalog.MaxMetadataBytes-60<<10 {
			break
		}
	}
	big.Spec.Inputs = append([]model.Input(nil), big.Spec.Inputs...)
	big.Spec.Inputs[0].Fields = append([]model.Feature{{Field: "site", Categories: cats}}, big.Spec.Inputs[0].Fields...)
	v, dropped := big.FitProfile()
	if !dropped || v.Profile != nil {
		t.Fatal("a profile that does not fit was kept")
	}
	if meta, _ := json.Marshal(v); len(meta) > catalog.MaxMetadataBytes {
		t.Fatalf("the spec alone does not fit (%d bytes): the test shows nothing", len(meta))
	}
}
