package sample

import (
	"reflect"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/schemas"
)

// TestGroupedSensorsFollowFlat encodes grouped readings with their schema
// and decodes them again, and checks each carries the flat reading's
// values, the same anomaly, and nothing more than a site and a status:
// every measurement by its path, the battery's record null exactly where
// the flat battery is, only a foundry's temperature changed.
func TestGroupedSensorsFollowFlat(t *testing.T) {
	codec, err := goavro.NewCodec(schemas.SensorReadingGrouped)
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]avropath.Path{}
	for flat, p := range groupedPaths {
		paths[flat] = avropath.MustParse(p)
	}
	flat, grouped := NewSensors(5, 200, 0.05), NewGroupedSensors(5, 200, 0.05)
	sites, statuses, hot, mains := map[string]bool{}, map[string]int{}, 0, 0
	for i := range 5000 {
		f, fa := flat.Next()
		gen, ga := grouped.Next()
		body, err := codec.BinaryFromNative(nil, gen)
		if err != nil {
			t.Fatalf("reading %d does not fit the schema: %v", i, err)
		}
		back, _, err := codec.NativeFromBinary(body)
		if err != nil {
			t.Fatalf("reading %d: %v", i, err)
		}
		g := back.(map[string]any)
		if fa != ga || g["device_id"] != f["device_id"] || !g["ts"].(time.Time).Equal(f["ts"].(time.Time)) {
			t.Fatalf("reading %d: grouped %v (anomaly %v) is not flat %v (anomaly %v)", i, g, ga, f, fa)
		}
		if len(g) != 8 {
			t.Fatalf("reading %d has fields %v; want the flat ones grouped, a site and a status", i, g)
		}
		for name, p := range paths {
			got, present, err := p.Read(g)
			if err != nil {
				t.Fatalf("reading %d: %v", i, err)
			}
			want := f[name]
			if v, ok := want.(map[string]any); ok {
				want = v["double"] // the flat battery's union branch
			}
			switch {
			case want == nil && !present:
				mains++
			case name == "temperature" && got == want.(float64)+hotSiteTemp:
				hot++
			case !reflect.DeepEqual(got, want):
				t.Fatalf("reading %d: %s is %v (present %v), the flat reading's %v", i, p, got, present, want)
			}
		}
		sites[g["site"].(string)] = true
		statuses[g["status"].(string)]++
	}
	if len(sites) < 20 || hot == 0 || mains == 0 || len(statuses) != len(Statuses) {
		t.Fatalf("%d sites, %d foundry readings, %d on mains, statuses %v: not the mix the bench needs", len(sites), hot, mains, statuses)
	}
	t.Logf("%d sites, %d foundry readings, %d on mains, statuses %v", len(sites), hot, mains, statuses)
}

// TestGroupedSensorSpec checks the grouped model reads what its schema
// has: the flat model's ten columns through paths, then the site and the
// status with their category tables, every path resolved against the
// schema.
func TestGroupedSensorSpec(t *testing.T) {
	spec, err := GroupedSensorSpec("grouped", "1", 5000)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := avropath.ParseSchema(schemas.SensorReadingGrouped)
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.CheckSchema(schema); err != nil {
		t.Fatal(err)
	}
	in := spec.Inputs[0]
	if in.Width() != len(SensorFeatures)+2 {
		t.Fatalf("%d columns, want %d", in.Width(), len(SensorFeatures)+2)
	}
	for i, f := range in.Fields[:len(SensorFeatures)] {
		if f.Field != groupedPaths[SensorFeatures[i]] || f.Categorical() {
			t.Fatalf("column %d reads %+v, want %s as a number", i, f, groupedPaths[SensorFeatures[i]])
		}
	}
	site, status := in.Fields[len(SensorFeatures)], in.Fields[len(SensorFeatures)+1]
	if site.Field != "site" || len(site.Categories) < 20 || len(site.Categories) > NestedMaxCategories || status.Field != "status" || status.Categories[0] != "OK" {
		t.Fatalf("categorical features %+v and %+v", site, status)
	}
	data, err := GroupedSensorData(spec, 1, 2000)
	if err != nil {
		t.Fatal(err)
	}
	if data.Categories(len(SensorFeatures)) != len(site.Categories)+2 || data.Categories(0) != 0 {
		t.Fatalf("site column has %d codes, temperature %d", data.Categories(len(SensorFeatures)), data.Categories(0))
	}
}
