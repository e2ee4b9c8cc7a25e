package main

import (
	"context"
	"testing"

	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/train"
)

// TestModelConfig fits the benchmark's model on its training rows and
// checks it has the Python peer's shape: every one of its trees, none
// deeper than the peer's, and some with more than the 31 leaves of
// train.DefaultConfig, which a leaf cap would forbid.
func TestModelConfig(t *testing.T) {
	spec := sample.SensorSpec("sensor-anomaly", "bench")
	data, err := sample.SensorData(spec, 1, trainRows)
	if err != nil {
		t.Fatal(err)
	}
	ens := fitBenchModel(t, data)
	mostLeaves := 0
	for _, tree := range ens.Trees {
		leaves := 0
		for _, n := range tree.Nodes {
			if n.Leaf {
				leaves++
			}
		}
		mostLeaves = max(mostLeaves, leaves)
	}
	if mostLeaves <= train.DefaultConfig().MaxLeafNodes {
		t.Fatalf("at most %d leaves a tree: capped as train.DefaultConfig's trees are", mostLeaves)
	}
	t.Logf("%d trees, up to %d leaves", len(ens.Trees), mostLeaves)
}

// depth is the depth of the subtree at node i, in edges.
func depth(tree train.Tree, i int32) int {
	n := tree.Nodes[i]
	if n.Leaf {
		return 0
	}
	return 1 + max(depth(tree, n.Left), depth(tree, n.Right))
}

// fitBenchModel fits the benchmark's model config on data and checks the
// shape every benchmark model has: all its trees, none deeper than the
// Python peer's.
func fitBenchModel(t *testing.T, data *train.Dataset) *train.Ensemble {
	t.Helper()
	ens, err := train.Fit(context.Background(), modelConfig(), data)
	if err != nil {
		t.Fatal(err)
	}
	if len(ens.Trees) != modelTrees || ens.Stats.EarlyStopped {
		t.Fatalf("%d trees (early stopped: %v), want %d", len(ens.Trees), ens.Stats.EarlyStopped, modelTrees)
	}
	for i, tree := range ens.Trees {
		if d := depth(tree, 0); d > modelDepth {
			t.Fatalf("tree %d has depth %d, over %d", i, d, modelDepth)
		}
	}
	return ens
}
