package online

// What the join charges its budget, in bytes. TestHeldBytesCoverHeap
// measures the heap a join really grows by, across the sizes where its key
// map grows, and checks these cover it; the figures are for 64-bit Go 1.26.
const (
	// heldItemBytes is one held prediction or label: the held struct (88
	// bytes, in the 96-byte size class) and its pointer in the key's
	// prediction slice or in the waiting heap, doubled for the slack of a
	// growing slice.
	heldItemBytes = 96 + 2*8
	// entryBytesFixed is one held key besides its bytes: the entry struct
	// (48) and its share of the key map, measured between 28 and 66 bytes
	// (24 bytes of key and value and a control byte a slot, at a load
	// between 7/8 and 7/16 as the map grows, and the map's directory),
	// charged at 80: a few bytes over the worst measured, since a budget
	// that the heap outgrows by 1% is no bound.
	entryBytesFixed = 48 + 80
)

func heldBytes(n *held) int64 {
	return heldItemBytes + allocBytes(8*len(n.scores))
}

func entryBytes(key string) int64 {
	return entryBytesFixed + allocBytes(len(key))
}

// allocBytes bounds what the allocator hands out for n bytes. Go's size
// classes are 8 and 16, then steps of 16 up to 256, 32 up to 512 and at
// most 128 up to 1024; beyond, a step is under a seventh of the size (the
// widest, 28672 to 32768), and a large object takes whole 8 KiB pages.
func allocBytes(n int) int64 {
	roundUp := func(n, step int) int64 { return int64((n + step - 1) / step * step) }
	switch {
	case n == 0:
		return 0
	case n <= 8:
		return 8
	case n <= 256:
		return roundUp(n, 16)
	case n <= 512:
		return roundUp(n, 32)
	case n <= 1024:
		return roundUp(n, 128)
	case n <= 32<<10:
		return int64(n + n/7 + 16)
	default:
		return roundUp(n, 8<<10)
	}
}
