package catalog

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

// FuzzApply feeds the catalog's reader arbitrary records, as anyone able to
// write to the topic could: it must skip what it cannot use, never panic,
// keep its state consistent (every listed version resolvable, within the
// limits) and always have a next version number to publish.
func FuzzApply(f *testing.F) {
	f.Add("m/v/1/0123456789abcdef", []byte(`{"name":"m","version":1,"family":"gbdt","sha256":"00","size":1,"chunks":1}`))
	f.Add("m/v/1/0123456789abcdef/chunk/0", []byte{1, 2, 3})
	f.Add("m/alias/champion/0123456789abcdef", []byte(`{"name":"m","alias":"champion","version":1}`))
	f.Add("m/alias/champion/0123456789abcdef", []byte(`{"version":-1}`))
	f.Add("m/v/x/y", []byte(`null`))
	f.Add("/////", []byte(`{`))
	f.Add("m/v/99999999999999999999/0123456789abcdef", []byte(`{}`))
	// The forged shapes of issue 10, finding 5 first.
	const sha = `"sha256":"0000000000000000000000000000000000000000000000000000000000000000"`
	f.Add("sens/v/9223372036854775807/0123456789abcde6",
		[]byte(`{"name":"sens","version":9223372036854775807,`+sha+`,"size":100,"chunks":1}`))
	f.Add("sens/v/2147483647/0123456789abcde6", []byte(`{"name":"sens","version":2147483647,`+sha+`,"size":100,"chunks":1}`))
	f.Add("sens/v/1000/0123456789abcde6", []byte(`{"name":"sens","version":1000,`+sha+`,"size":100,"chunks":1}`))
	f.Add("sens/v/0/0123456789abcde6", []byte(`{"name":"sens","version":0,`+sha+`,"size":100,"chunks":1}`))
	f.Add("sens/v/1/0123456789abcde6", []byte(`{"name":"other","version":1,`+sha+`,"size":100,"chunks":1}`))
	f.Add("sens/v/1/0123456789abcde6", []byte(`{"name":"sens","version":1,`+sha+`,"size":1099511627776,"chunks":1}`))
	f.Add("sens/v/1/0123456789abcde6", []byte(`{"name":"sens","version":1,`+sha+`,"size":100,"chunks":1000000000}`))
	f.Add("sens/v/1/0123456789abcde6", []byte(`{"name":"sens","version":1,`+sha+`,"size":100,"chunks":1,"parent":1}`))
	f.Add("sens/v/1/0123456789abcde6/chunk/9223372036854775807", []byte("x"))
	f.Add("sens/v/1/0123456789abcde6/chunk/16777216", []byte("x"))
	f.Add("sens/alias/champion/0123456789abcde6", []byte(`{"name":"sens","alias":"champion","version":9223372036854775807}`))
	f.Add("sens/alias/champion/0123456789abcde6", []byte(`{"name":"other","alias":"champion","version":1}`))
	f.Add("sens/alias/champion/0123456789abcde6", []byte(`{"name":"sens","alias":"champion","version":1,"previous":-5}`))
	f.Add("sens/v/1/0123456789abcde6", []byte(`{"version":`+strings.Repeat("9", 10000)+`}`))
	f.Add("sens/v/1/0123456789abcde6", []byte(`{"params":`+strings.Repeat("[", 20000)+strings.Repeat("]", 20000)+`}`))
	f.Add(strings.Repeat("sens/", 200), []byte(`{}`))
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		s := newState(slog.New(slog.DiscardHandler), nil)
		s.apply(key, value, 0)
		s.apply(key, value, 1) // the same record twice, as after a rewind
		var skipped int64
		for reason, n := range s.skips() {
			if !slices.Contains(SkipReasons(), reason) {
				t.Errorf("skipped for reason %q, which SkipReasons does not list", reason)
			}
			skipped += n
		}
		if skipped > 2 {
			t.Errorf("%d records skipped out of 2", skipped)
		}
		for _, name := range s.modelNames() {
			for _, v := range s.versions(name) {
				if _, err := s.entry(name, v.Version); err != nil {
					t.Fatalf("version %d of %q is listed but not found: %v", v.Version, name, err)
				}
				least, most := chunkRange(v.Size)
				if v.Version < 1 || v.Version > MaxVersionStep || v.Size < 1 || v.Size > MaxArtifactSize ||
					v.Chunks < least || v.Chunks > most {
					t.Errorf("kept version %d of %q: size %d, %d chunks", v.Version, name, v.Size, v.Chunks)
				}
			}
			if next, err := s.nextVersion(name); err != nil || next < 2 {
				t.Errorf("next version of %q: %d, %v", name, next, err)
			}
			// An alias points at a version its model had; resolving it
			// must find it or say it was withdrawn, never panic.
			for alias := range s.aliases(name) {
				_, _ = s.resolve(name, alias)
			}
		}
	})
}

// TestNextVersionStopsAtMaximum: Publish is refused, with ErrInvalid, only
// once a model has used every number up to MaxVersion.
func TestNextVersionStopsAtMaximum(t *testing.T) {
	for _, tc := range []struct {
		name    string
		highest int
		want    int
		wantErr bool
	}{
		{"new model", 0, 1, false},
		{"after version 7", 7, 8, false},
		{"one below the maximum", MaxVersion - 1, MaxVersion, false},
		{"at the maximum", MaxVersion, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newState(slog.New(slog.DiscardHandler), nil)
			if tc.highest > 0 {
				s.model("m").highest = tc.highest
			}
			got, err := s.nextVersion("m")
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Fatalf("next %d, %v; want %d, error %v", got, err, tc.want, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

// TestWithdrawnNumberNotReused: a version withdrawn by a tombstone keeps its
// number, so that no reader ever sees one number name two artifacts.
func TestWithdrawnNumberNotReused(t *testing.T) {
	s := newState(slog.New(slog.DiscardHandler), nil)
	const sha = "0000000000000000000000000000000000000000000000000000000000000000"
	for n := 1; n <= 2; n++ {
		s.apply(fmt.Sprintf("m/v/%d/0123456789abcdef", n),
			fmt.Appendf(nil, `{"name":"m","version":%d,"sha256":"%s","size":10,"chunks":1}`, n, sha), int64(n))
	}
	s.apply("m/v/2/0123456789abcdef", nil, 3)
	if got := len(s.versions("m")); got != 1 {
		t.Fatalf("%d versions after withdrawing version 2, want 1", got)
	}
	if next, err := s.nextVersion("m"); err != nil || next != 3 {
		t.Errorf("next version %d, %v; want 3", next, err)
	}
}
