package drift

// Report is the statistics of what was observed since the last Reset.
func (w *Window) Report() Report {
	rep := Report{Records: w.records, Reference: w.reference, Features: make([]FeatureReport, len(w.cols))}
	for i := range w.cols {
		rep.Features[i] = w.cols[i].report(&w.meta[i], w.records)
	}
	if w.classify {
		rep.Prediction.ClassShares = w.classes.shares(w.records)
	}
	if w.scored > 0 {
		rep.Prediction.Mean = ptr(w.scoreSum / float64(w.scored))
		if w.scoreCounts != nil {
			expected := merge(w.scoreShares, w.scorePSI, w.scorePSIN, 1, 1)
			actual := mergeCounts(w.scoreCounts, w.scorePSI, w.scorePSIN, w.scored)
			rep.Prediction.PSI = ptr(psi(expected, actual))
		}
	}
	return rep
}

func (c *liveColumn) report(meta *columnMeta, records int64) FeatureReport {
	fr := FeatureReport{Name: meta.name, Kind: meta.kind}
	if records == 0 {
		return fr
	}
	fr.NullRate = float64(c.nulls) / float64(records)
	if c.kindCode != categoricalCode && c.values > 0 {
		fr.Mean = ptr(c.sum / float64(c.values))
	}
	ref := meta.ref
	if ref == nil {
		return fr
	}
	switch c.kindCode {
	case categoricalCode:
		actual := make([]float64, len(c.counts))
		for code, n := range c.counts {
			actual[code] = float64(n) / float64(records)
		}
		fr.PSI = ptr(psi(ref.Shares, actual))
		fr.OutOfRangeRate = ptr(actual[c.otherCode])
		return fr
	case numericCode:
		if nonNull := c.values + c.nonFinite; nonNull > 0 {
			fr.OutOfRangeRate = ptr(float64(c.outOfRange+c.nonFinite) / float64(nonNull))
		}
		if c.values > 0 {
			fr.KS = ptr(ks(ref.Shares, c.counts, c.values))
		}
	case textCode:
		if c.vocab != nil && c.words > 0 {
			fr.OutOfRangeRate = ptr(float64(c.outside) / float64(c.words))
		}
	}
	// Values' bins over all records, with the null bin last: a column
	// that turns null drifts too.
	expected := append(merge(ref.Shares, meta.psiBin, meta.psiBins, 1-ref.NullRate, 0), ref.NullRate)
	actual := append(mergeCounts(c.counts, meta.psiBin, meta.psiBins, records), fr.NullRate)
	fr.PSI = ptr(psi(expected, actual))
	return fr
}

// merge sums shares into PSI bins, scaled by scale, with room for extra
// more bins.
func merge(shares []float64, bin []int, bins int, scale float64, extra int) []float64 {
	out := make([]float64, bins, bins+extra)
	for i, s := range shares {
		out[bin[i]] += s * scale
	}
	return out
}

// mergeCounts sums counts into PSI bins as shares of total, with room
// for one more bin.
func mergeCounts(counts []int64, bin []int, bins int, total int64) []float64 {
	out := make([]float64, bins, bins+1)
	for i, n := range counts {
		out[bin[i]] += float64(n) / float64(total)
	}
	return out
}

func ptr(v float64) *float64 { return &v }
