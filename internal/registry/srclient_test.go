package registry

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/riferrei/srclient"
)

// projectSchema reads one of streamscore's own schemas.
func projectSchema(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "schemas", name))
	if err != nil {
		t.Fatalf("read project schema: %v", err)
	}
	return string(data)
}

// TestSrclientRoundTrip drives the registry with the client the scorer
// uses, srclient v0.7.2, with caching off so every call reaches the server.
func TestSrclientRoundTrip(t *testing.T) {
	srv, _ := newServer(t, Config{})
	client := srclient.NewSchemaRegistryClient(srv.URL)
	client.CachingEnabled(false)
	client.CodecCreationEnabled(true)

	sensor := projectSchema(t, "sensor_reading.avsc")
	created, err := client.CreateSchema("sensors-value", sensor, srclient.Avro)
	if err != nil {
		t.Fatalf("CreateSchema: %v", err)
	}
	if created.ID() != 1 {
		t.Errorf("CreateSchema: id %d, want 1", created.ID())
	}
	if created.Codec() == nil {
		t.Errorf("CreateSchema: no codec from the schema the registry returned")
	}
	again, err := client.CreateSchema("sensors-value", sensor, srclient.Avro)
	if err != nil || again.ID() != created.ID() {
		t.Fatalf("CreateSchema again: id %v err %v, want id %d", idOf(again), err, created.ID())
	}

	text, err := client.CreateSchema("texts-value", projectSchema(t, "text_message.avsc"), srclient.Avro)
	if err != nil || text.ID() != 2 {
		t.Fatalf("CreateSchema text_message: id %v err %v, want id 2", idOf(text), err)
	}

	byID, err := client.GetSchema(created.ID())
	if err != nil {
		t.Fatalf("GetSchema: %v", err)
	}
	if !strings.Contains(byID.Schema(), `"name": "SensorReading"`) {
		t.Errorf("GetSchema: schema %q is not the one registered", byID.Schema())
	}

	evolved := strings.Replace(sensor, `"fields": [`,
		`"fields": [{"name": "site", "type": "string", "default": "unknown"},`, 1)
	ok, err := client.IsSchemaCompatible("sensors-value", evolved, "latest", srclient.Avro)
	if err != nil || !ok {
		t.Fatalf("IsSchemaCompatible(field with default): %v, %v; want true", ok, err)
	}
	breaking := strings.Replace(sensor, `"fields": [`, `"fields": [{"name": "site", "type": "string"},`, 1)
	ok, err = client.IsSchemaCompatible("sensors-value", breaking, "latest", srclient.Avro)
	if err != nil || ok {
		t.Fatalf("IsSchemaCompatible(field without default): %v, %v; want false", ok, err)
	}
	_, err = client.CreateSchema("sensors-value", breaking, srclient.Avro)
	var srErr srclient.Error
	if !errors.As(err, &srErr) || srErr.Code != 409 {
		t.Fatalf("CreateSchema(breaking): %v, want srclient.Error with code 409", err)
	}
	v2, err := client.CreateSchema("sensors-value", evolved, srclient.Avro)
	if err != nil || v2.ID() != 3 {
		t.Fatalf("CreateSchema(evolved): id %v err %v, want id 3", idOf(v2), err)
	}

	latest, err := client.GetLatestSchema("sensors-value")
	if err != nil {
		t.Fatalf("GetLatestSchema: %v", err)
	}
	if latest.ID() != 3 || latest.Version() != 2 {
		t.Errorf("GetLatestSchema: id %d version %d, want id 3 version 2", latest.ID(), latest.Version())
	}
	first, err := client.GetSchemaByVersion("sensors-value", 1)
	if err != nil || first.ID() != 1 {
		t.Errorf("GetSchemaByVersion(1): id %v err %v, want id 1", idOf(first), err)
	}
	found, err := client.LookupSchema("sensors-value", sensor, srclient.Avro)
	if err != nil || found.ID() != 1 || found.Version() != 1 {
		t.Errorf("LookupSchema: %+v err %v, want id 1 version 1", found, err)
	}

	versions, err := client.GetSchemaVersions("sensors-value")
	if err != nil || !slices.Equal(versions, []int{1, 2}) {
		t.Errorf("GetSchemaVersions: %v err %v, want [1 2]", versions, err)
	}
	subjects, err := client.GetSubjects()
	if err != nil || !slices.Equal(subjects, []string{"sensors-value", "texts-value"}) {
		t.Errorf("GetSubjects: %v err %v", subjects, err)
	}
	uses, err := client.GetSubjectVersionsById(1)
	if err != nil || len(uses) != 1 {
		t.Errorf("GetSubjectVersionsById: %v err %v, want one use", uses, err)
	}

	level, err := client.ChangeSubjectCompatibilityLevel("sensors-value", srclient.Full)
	if err != nil || *level != srclient.Full {
		t.Errorf("ChangeSubjectCompatibilityLevel: %v err %v", level, err)
	}
	level, err = client.GetCompatibilityLevel("sensors-value", false)
	if err != nil || *level != srclient.Full {
		t.Errorf("GetCompatibilityLevel: %v err %v", level, err)
	}
	level, err = client.GetCompatibilityLevel("texts-value", true)
	if err != nil || *level != srclient.Backward {
		t.Errorf("GetCompatibilityLevel(defaultToGlobal): %v err %v", level, err)
	}
	level, err = client.GetGlobalCompatibilityLevel()
	if err != nil || *level != srclient.Backward {
		t.Errorf("GetGlobalCompatibilityLevel: %v err %v", level, err)
	}

	if err := client.DeleteSubject("texts-value", true); err != nil {
		t.Fatalf("DeleteSubject(permanent): %v", err)
	}
	subjects, err = client.GetSubjectsIncludingDeleted()
	if err != nil || !slices.Equal(subjects, []string{"sensors-value"}) {
		t.Errorf("GetSubjectsIncludingDeleted after delete: %v err %v", subjects, err)
	}
	_, err = client.GetSchema(99)
	if !errors.As(err, &srErr) || srErr.Code != codeSchemaNotFound {
		t.Errorf("GetSchema(99): %v, want srclient.Error with code 40403", err)
	}
}

func idOf(s *srclient.Schema) any {
	if s == nil {
		return nil
	}
	return s.ID()
}
