package api_test

import (
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/streamscore/streamscore/internal/api"
	"github.com/streamscore/streamscore/internal/testkit"
)

// numericModel is quick gbdt options on features f0 to f{n-1} and the
// class label y.
func numericModel(features int) map[string]any {
	names := make([]string, features)
	for j := range names {
		names[j] = "f" + strconv.Itoa(j)
	}
	return map[string]any{"family": "gbdt", "features": names, "label": "y", "params": map[string]any{"num_trees": 3, "max_depth": 2}}
}

// rowsBody is n rows numbered from first, as pandas sends them: the
// model's features f0..., then other columns x0... up to columns in all,
// then the label y, 0 and 1 in turn.
func rowsBody(first, n, features, columns int) []byte {
	b := []byte{'['}
	for r := first; r < first+n; r++ {
		if r > first {
			b = append(b, ',')
		}
		b = append(b, '{')
		for j := range columns {
			if j < features {
				b = append(b, `"f`...)
				b = strconv.AppendInt(b, int64(j), 10)
			} else {
				b = append(b, `"x`...)
				b = strconv.AppendInt(b, int64(j-features), 10)
			}
			b = append(b, `":`...)
			b = strconv.AppendFloat(b, float64((r*7+j*13)%50)+float64(r%10)/10, 'f', -1, 64)
			b = append(b, ',')
		}
		b = append(b, `"y":`...)
		b = strconv.AppendInt(b, int64(r%2), 10)
		b = append(b, '}')
	}
	return append(b, ']')
}

// liveHeap is the heap still reachable, after collecting the rest.
func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

const mib = 1 << 20

// TestRowsHeldCompactly reproduces finding 7 of issue 10: rows held as
// maps cost about 90 bytes a value, so ten wide slices took a trainer from
// 66 MB to 1.8 GB. Many wide slices (most of their columns not the
// model's), and many long ones, must grow the live heap by at most 1.5
// times the rows' compact size (4 bytes and a bit per feature, 4 bytes per
// label) and a few MiB; the data budget must count at least that growth;
// and every row must still be there for training.
//
// Uploading the rows takes most of the time (87 MB of JSON, 7 s on two
// cores), so -short sends an eighth of it: held as maps, the model's
// values alone would still grow the heap 2.5 and 3.5 times the bound in
// the wide and long cases. `make test`
// sends it all, where the slack counts for less and the bound is closer
// to 1.5 times compact.
func TestRowsHeldCompactly(t *testing.T) {
	if testkit.RaceEnabled {
		t.Skip("measures the heap, which the race detector's instrumentation changes; make test runs it without -race")
	}
	type test struct {
		name     string
		features int // the model's
		columns  int // of each row, the model's features first
		slices   int
		rows     int // per slice
	}
	tests := []test{
		{name: "wide slices, most columns not read", features: 2000, columns: 20000, slices: 10, rows: 24},
		{name: "long slices", features: 10, columns: 12, slices: 10, rows: 20000},
	}
	if testing.Short() {
		tests = []test{
			{name: "wide slices, most columns not read", features: 2000, columns: 8000, slices: 10, rows: 8},
			{name: "long slices", features: 10, columns: 12, slices: 10, rows: 2500},
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newServer(t, api.Config{MaxBodyBytes: 64 * mib, MaxDataBytes: 1 << 30, MaxModelDataBytes: 1 << 30}, api.Deps{})
			c.must(http.StatusCreated, "PUT", "/models/m", numericModel(tt.features), nil)
			before := liveHeap()
			for s := range tt.slices {
				c.must(http.StatusOK, "PUT", "/models/m/data/train", rowsBody(s*tt.rows, tt.rows, tt.features, tt.columns), nil)
			}
			after := liveHeap()

			n := tt.slices * tt.rows
			compact := float64(n) * (float64(tt.features)*(4+1.0/8) + 4)
			growth := float64(after) - float64(before)
			const slack = 4 * mib
			values := float64(n * tt.features)
			if growth > 1.5*compact+slack {
				t.Errorf("%d rows of %d features grew the live heap by %.1f MiB (%.1f bytes a value); compact they are %.1f MiB",
					n, tt.features, growth/mib, growth/values, compact/mib)
			}
			held := gauge(t, c, "streamscore_api_data_bytes")
			if held < compact || held > 1.5*compact+float64(tt.slices)*4096 {
				t.Errorf("the data budget counts %.2f MiB for rows of %.2f MiB compact", held/mib, compact/mib)
			}
			if growth > held+slack {
				t.Errorf("the live heap grew by %.1f MiB, but the data budget counts %.1f MiB", growth/mib, held/mib)
			}
			t.Logf("%d values: live heap +%.1f MiB (%.2f bytes a value), budget %.1f MiB, compact %.1f MiB",
				n*tt.features, growth/mib, growth/values, held/mib, compact/mib)

			var res api.TrainResult
			c.must(http.StatusOK, "PUT", "/models/m/train", nil, &res)
			if res.TrainRows+res.HoldoutRows != n || len(res.Skipped) != 0 {
				t.Errorf("trained on %d and evaluated %d rows (skipped %v), want %d in all", res.TrainRows, res.HoldoutRows, res.Skipped, n)
			}
		})
	}
}

// fillUntilRefused sends slices of 2000 rows of 10 features to model name
// until one is refused, and returns the rows kept and the refusal.
func fillUntilRefused(t *testing.T, c *client, name string) (int, response) {
	t.Helper()
	const rows = 2000
	for i := range 200 {
		r := c.do("PUT", "/models/"+name+"/data/train", rowsBody(i*rows, rows, 10, 10))
		if r.status != http.StatusOK {
			return i * rows, r
		}
	}
	t.Fatalf("model %s took 200 slices without reaching a data limit", name)
	return 0, response{}
}

// checkRefusal checks a slice refused by a data budget: 413, the field
// "rows", the limit and the setting that raises it named.
func checkRefusal(t *testing.T, r response, wants ...string) {
	t.Helper()
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("slice over the data limit = %d %s, want 413", r.status, r.body)
	}
	e := r.err(t)
	if e.Field != "rows" {
		t.Errorf("field %q, want rows", e.Field)
	}
	for _, w := range wants {
		if !strings.Contains(e.Error, w) {
			t.Errorf("error %q does not say %q", e.Error, w)
		}
	}
}

func heldRows(t *testing.T, c *client, name string) int {
	t.Helper()
	var info api.ModelInfo
	c.must(http.StatusOK, "GET", "/models/"+name, nil, &info)
	return info.Rows
}

// TestModelDataBudget fills a model up to its data limit: the slice that
// crosses it is refused with 413 naming the limit and its setting, nothing
// of it is kept, training works on what was kept, and dropping the rows
// gives their bytes back.
func TestModelDataBudget(t *testing.T) {
	c := newServer(t, api.Config{MaxModelDataBytes: mib}, api.Deps{})
	c.must(http.StatusCreated, "PUT", "/models/m", numericModel(10), nil)
	kept, refused := fillUntilRefused(t, c, "m")
	checkRefusal(t, refused, "max-model-data-bytes", "1.0 MiB", `model "m"`, "nothing of the slice was kept")
	if kept == 0 {
		t.Fatal("the first slice was refused")
	}
	if got := heldRows(t, c, "m"); got != kept {
		t.Errorf("model holds %d rows after the refused slice, want the %d kept before it", got, kept)
	}
	if held := gauge(t, c, "streamscore_api_data_bytes"); held > mib || held < float64(kept)*44 {
		t.Errorf("data gauge %v bytes for %d rows under a 1 MiB limit", held, kept)
	}

	var res api.TrainResult
	c.must(http.StatusOK, "PUT", "/models/m/train", nil, &res)
	if res.TrainRows+res.HoldoutRows != kept {
		t.Errorf("trained on %d and evaluated %d rows, want the %d kept", res.TrainRows, res.HoldoutRows, kept)
	}

	c.must(http.StatusOK, "DELETE", "/models/m/data/train", nil, nil)
	if held := gauge(t, c, "streamscore_api_data_bytes"); held != 0 {
		t.Errorf("data gauge %v bytes after the rows were dropped, want 0", held)
	}
	c.must(http.StatusOK, "PUT", "/models/m/data/train", rowsBody(0, 2000, 10, 10), nil)
}

// TestAllModelsDataBudget fills the API's data limit with one model: a
// slice for another is refused naming that limit, and deleting the first
// model makes room.
func TestAllModelsDataBudget(t *testing.T) {
	c := newServer(t, api.Config{MaxDataBytes: mib}, api.Deps{})
	c.must(http.StatusCreated, "PUT", "/models/a", numericModel(10), nil)
	c.must(http.StatusCreated, "PUT", "/models/b", numericModel(10), nil)
	_, refused := fillUntilRefused(t, c, "a")
	checkRefusal(t, refused, "max-data-bytes", "all models")
	r := c.do("PUT", "/models/b/data/train", rowsBody(0, 2000, 10, 10))
	checkRefusal(t, r, "max-data-bytes", "all models")
	if got := heldRows(t, c, "b"); got != 0 {
		t.Errorf("model b holds %d rows after its refused slice", got)
	}
	c.must(http.StatusNoContent, "DELETE", "/models/a", nil, nil)
	c.must(http.StatusOK, "PUT", "/models/b/data/train", rowsBody(0, 2000, 10, 10), nil)
}

// TestRowsOfARunningTrainingStayCounted drops a model's rows while a
// training reads them: their bytes stay counted (they are still in memory)
// until the training ends, then are given back whole.
func TestRowsOfARunningTrainingStayCounted(t *testing.T) {
	gate := newGate()
	c := newServer(t, api.Config{MaxModelDataBytes: mib}, api.Deps{Publisher: gate})
	c.must(http.StatusCreated, "PUT", "/models/m", numericModel(10), nil)
	fillUntilRefused(t, c, "m")
	var started api.TaskStarted
	c.must(http.StatusAccepted, "PUT", "/models/m/train?async=true", nil, &started)
	<-gate.entered

	held := gauge(t, c, "streamscore_api_data_bytes")
	c.must(http.StatusOK, "DELETE", "/models/m/data/train", nil, nil)
	if got := gauge(t, c, "streamscore_api_data_bytes"); got != held {
		t.Errorf("data gauge %v after dropping rows a training reads, want %v until it ends", got, held)
	}
	r := c.do("PUT", "/models/m/data/train", rowsBody(0, 2000, 10, 10))
	checkRefusal(t, r, "max-model-data-bytes")

	close(gate.release)
	if info := c.waitTask(started.TaskID); info.State != api.StateSucceeded {
		t.Fatalf("training %+v", info)
	}
	if got := gauge(t, c, "streamscore_api_data_bytes"); got != 0 {
		t.Errorf("data gauge %v once the training ended, want 0", got)
	}
	c.must(http.StatusOK, "PUT", "/models/m/data/train", rowsBody(0, 2000, 10, 10), nil)
}

// TestConcurrentUploadsStayWithinBudget races sixteen uploaders over four
// models against one data limit: what is held never passes it, every
// slice is kept whole or not at all, and the refusals are 413s.
func TestConcurrentUploadsStayWithinBudget(t *testing.T) {
	const limit = 2 * mib
	c := newServer(t, api.Config{MaxDataBytes: limit}, api.Deps{})
	models := []string{"a", "b", "c", "d"}
	for _, m := range models {
		c.must(http.StatusCreated, "PUT", "/models/"+m, numericModel(10), nil)
	}
	var (
		accepted [4]atomic.Int64
		refused  atomic.Int64
		wg       sync.WaitGroup
	)
	const rows = 1500
	for g := range 16 {
		wg.Go(func() {
			for i := range 20 {
				r := c.send("PUT", "/models/"+models[g%4]+"/data/train", rowsBody((g*20+i)*rows, rows, 10, 10), map[string]string{"Content-Type": "application/json"})
				switch r.status {
				case http.StatusOK:
					accepted[g%4].Add(1)
				case http.StatusRequestEntityTooLarge:
					refused.Add(1)
					return
				default:
					t.Errorf("upload = %d %s", r.status, r.body)
					return
				}
			}
		})
	}
	wg.Wait()
	if refused.Load() == 0 {
		t.Fatal("no upload was refused: the limit was never reached")
	}
	if held := gauge(t, c, "streamscore_api_data_bytes"); held > limit {
		t.Errorf("data gauge %v bytes, over the %d-byte limit", held, limit)
	}
	for i, m := range models {
		if got, want := heldRows(t, c, m), int(accepted[i].Load())*rows; got != want {
			t.Errorf("model %s holds %d rows, want the %d of its accepted slices", m, got, want)
		}
	}
}

// TestArrayFieldNotDecoded: a feature sent as a huge array is refused by
// name without being decoded: a 16 MiB array of numbers, decoded as []any,
// took half a gigabyte for one request. An 8 MiB array and a bound half as
// large prove the same.
func TestArrayFieldNotDecoded(t *testing.T) {
	c := newServer(t, api.Config{MaxBodyBytes: 32 * mib}, api.Deps{})
	c.must(http.StatusCreated, "PUT", "/models/m", numericModel(2), nil)
	var b strings.Builder
	b.WriteString(`[{"f0": [`)
	for i := range 4 << 20 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('0')
	}
	b.WriteString(`], "f1": 1, "y": 1}]`)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	resp := c.do("PUT", "/models/m/data/train", []byte(b.String()))
	runtime.ReadMemStats(&after)
	if e := resp.err(t); resp.status != http.StatusBadRequest || e.Field != "rows[0].f0" || !strings.Contains(e.Error, "is an array") {
		t.Fatalf("got %d %+v, want 400 naming rows[0].f0 as an array", resp.status, e)
	}
	// The body itself is read and buffered (a few times 8 MiB at most);
	// decoded, the array was 30 times that.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 80*mib {
		t.Fatalf("refusing the array allocated %d MiB", grew/mib)
	}
}
