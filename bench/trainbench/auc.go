package main

import (
	"cmp"
	"slices"
)

// rocAUC returns the area under the ROC curve of scores against 0/1
// labels: the probability that a random positive scores above a random
// negative, ties counting one half.
func rocAUC(scores []float32, labels []float64) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(scores[a], scores[b]) })
	var positives, negatives, rankSum float64
	for start := 0; start < len(idx); {
		end := start
		for end < len(idx) && scores[idx[end]] == scores[idx[start]] {
			end++
		}
		midRank := float64(start+end+1) / 2 // 1-based ranks start+1..end
		for _, i := range idx[start:end] {
			if labels[i] == 1 {
				positives++
				rankSum += midRank
			}
		}
		start = end
	}
	negatives = float64(len(idx)) - positives
	if positives == 0 || negatives == 0 {
		return 0.5
	}
	return (rankSum - positives*(positives+1)/2) / (positives * negatives)
}
