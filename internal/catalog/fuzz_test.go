package catalog

import (
	"log/slog"
	"testing"
)

// FuzzApply feeds the catalog's reader arbitrary records, as anyone able to
// write to the topic could: it must skip what it cannot use, never panic,
// and keep its state consistent (every listed version resolvable).
func FuzzApply(f *testing.F) {
	f.Add("m/v/1/0123456789abcdef", []byte(`{"name":"m","version":1,"family":"gbdt","sha256":"00","size":1,"chunks":1}`))
	f.Add("m/v/1/0123456789abcdef/chunk/0", []byte{1, 2, 3})
	f.Add("m/alias/champion/0123456789abcdef", []byte(`{"name":"m","alias":"champion","version":1}`))
	f.Add("m/alias/champion/0123456789abcdef", []byte(`{"version":-1}`))
	f.Add("m/v/x/y", []byte(`null`))
	f.Add("/////", []byte(`{`))
	f.Add("m/v/99999999999999999999/0123456789abcdef", []byte(`{}`))
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		s := newState(slog.New(slog.DiscardHandler))
		s.apply(key, value, 0)
		s.apply(key, value, 1) // the same record twice, as after a rewind
		for _, name := range s.modelNames() {
			for _, v := range s.versions(name) {
				if _, err := s.entry(name, v.Version); err != nil {
					t.Fatalf("version %d of %q is listed but not found: %v", v.Version, name, err)
				}
			}
			// An alias may point at a version withdrawn or never
			// published; resolving it must say so, not panic.
			for alias := range s.aliases(name) {
				_, _ = s.resolve(name, alias)
			}
		}
	})
}
