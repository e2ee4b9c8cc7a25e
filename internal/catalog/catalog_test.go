package catalog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/streamscore/streamscore/internal/catalog"
)

func TestPublishSyncRoundTripSeenBySecondCatalog(t *testing.T) {
	b := newBroker(t)
	writer := b.catalog(t)
	ctx := testContext(t)
	v1, art1 := publish(t, writer, "sensor", 3000)
	v2, art2 := publish(t, writer, "sensor", 5000)
	if v1.Version != 1 || v2.Version != 2 {
		t.Fatalf("versions %d, %d; want 1, 2", v1.Version, v2.Version)
	}

	reader := b.catalog(t)
	if err := reader.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := reader.Models(); !reflect.DeepEqual(got, []string{"sensor"}) {
		t.Fatalf("models %v", got)
	}
	got := reader.Versions("sensor")
	if len(got) != 2 {
		t.Fatalf("%d versions, want 2", len(got))
	}
	for i, want := range []catalog.Version{v1, v2} {
		wantJSON, _ := json.Marshal(want)
		gotJSON, _ := json.Marshal(got[i])
		if !bytes.Equal(wantJSON, gotJSON) {
			t.Errorf("version %d read back as\n%s\nwant\n%s", i+1, gotJSON, wantJSON)
		}
	}
	if v2.SHA256 == "" || v2.Size != 5000 || v2.Chunks != 1 || v2.CreatedAt.IsZero() {
		t.Errorf("publish did not fill in the artifact fields: %+v", v2)
	}
	for _, tc := range []struct {
		version int
		want    []byte
	}{{1, art1}, {2, art2}} {
		data, err := reader.Artifact(ctx, "sensor", tc.version)
		if err != nil {
			t.Fatalf("artifact %d: %v", tc.version, err)
		}
		if !bytes.Equal(data, tc.want) {
			t.Errorf("artifact %d differs from what was published", tc.version)
		}
	}
	if _, err := reader.Get("sensor", 3); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Get of version 3: %v, want ErrNotFound", err)
	}
	if _, err := reader.Artifact(ctx, "nope", 1); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Artifact of an unknown model: %v, want ErrNotFound", err)
	}
}
