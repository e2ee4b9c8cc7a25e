package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
)

const numFeatures = 10

// table is a row-major feature matrix and its 0/1 labels.
type table struct {
	features []float32
	labels   []float64
}

func (t table) numRows() int { return len(t.labels) }

// generate returns n rows of a deterministic credit-risk-like binary task
// (drawRow), with about 5% missing values in two features.
func generate(n int, seed uint64) table {
	rng := newRand(seed)
	t := table{features: make([]float32, 0, n*numFeatures), labels: make([]float64, n)}
	var x [numFeatures]float64
	for i := range n {
		t.labels[i] = drawRow(rng, &x, true)
		for _, v := range x {
			t.features = append(t.features, float32(v))
		}
	}
	return t
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x7a1)) }

// drawRow fills x with one row of the task and returns its 0/1 label:
// skewed amounts, a count, a bounded ratio, interactions, a threshold
// effect and two pure-noise features. With missing, about 5% of x[3] and
// of x[8] are NaN, the first informative; without, the same draws are made
// and ignored, so both kinds of rows follow the same sequence. Labels are
// drawn from the sigmoid of the signal, so no model is perfect.
func drawRow(rng *rand.Rand, x *[numFeatures]float64, missing bool) float64 {
	x[0] = math.Exp(rng.NormFloat64())            // amount, log-normal
	x[1] = float64(rng.IntN(12))                  // count of past events
	x[2] = rng.Float64()                          // utilisation ratio
	x[3] = rng.NormFloat64()                      // score
	x[4] = 4*rng.Float64() - 2                    // periodic effect
	x[5] = rng.NormFloat64()                      // interacts with x3
	x[6] = float64(rng.IntN(5))                   // category code
	x[7] = 18 + 60*rng.Float64()                  // age
	x[8], x[9] = rng.NormFloat64(), rng.Float64() // noise
	s := 0.8*math.Log(x[0]) - 0.25*x[1] + 2*(x[2]-0.5)*(x[2]-0.5)*4 + 0.9*x[3] +
		math.Sin(2*x[4]) + 0.6*x[3]*x[5] - 0.3*x[6] - 0.02*(x[7]-45) - 0.5
	if x[2] > 0.9 {
		s += 0.8
	}
	if rng.Float64() < 0.05 && missing {
		x[3] = math.NaN()
		s += 0.5 // missingness carries signal
	}
	if rng.Float64() < 0.05 && missing {
		x[8] = math.NaN()
	}
	if rng.Float64() < 1/(1+math.Exp(-s)) {
		return 1
	}
	return 0
}

// writeBinary writes the features as little-endian float32, row-major, to
// path+".x" and the labels as little-endian float64 to path+".y": numpy's
// fromfile reads them as they are.
func (t table) writeBinary(path string) error {
	if err := writeLE(path+".x", t.features); err != nil {
		return err
	}
	return writeLE(path+".y", t.labels)
}

func writeLE(path string, data any) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := binary.Write(w, binary.LittleEndian, data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
