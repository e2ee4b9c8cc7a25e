package testkit

// NonZero is counts without its zero entries: a skip count a test expects
// to be empty lists no reason that never happened.
func NonZero(counts map[string]int) map[string]int {
	out := map[string]int{}
	for k, c := range counts {
		if c != 0 {
			out[k] = c
		}
	}
	return out
}
