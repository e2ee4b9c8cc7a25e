package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/streamscore/streamscore/internal/train"
)

//go:embed sklearn_fit.py
var sklearnScript []byte

// timing is one fit's wall and CPU time.
type timing struct {
	wall, cpu time.Duration
}

// result is one library's fits.
type result struct {
	name    string
	timings []timing
	auc     float64
}

func run(ctx context.Context, o options) error {
	runtime.GOMAXPROCS(o.threads)
	fmt.Printf("generating %d training and %d holdout rows of %d features\n", o.rows, o.holdoutRows, numFeatures)
	trainSet, holdout := generate(o.rows, 1), generate(o.holdoutRows, 2)

	dir, err := os.MkdirTemp("", "trainbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	prefix := filepath.Join(dir, "data")
	script := filepath.Join(dir, "sklearn_fit.py")
	if !o.skipPython {
		if err := trainSet.writeBinary(prefix + ".train"); err != nil {
			return err
		}
		if err := holdout.writeBinary(prefix + ".holdout"); err != nil {
			return err
		}
		if err := os.WriteFile(script, sklearnScript, 0o600); err != nil {
			return err
		}
	}

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	goResult := result{name: "Go (internal/train)"}
	skResult := result{name: "scikit-learn " + sklearnVersion(o.python)}
	// The libraries take turns, so that a change in the machine's load
	// falls on both.
	for r := range o.runs {
		ens, t, err := fitGo(ctx, o, trainSet)
		if err != nil {
			return err
		}
		goResult.timings = append(goResult.timings, t)
		fmt.Printf("run %d: Go %.2fs", r+1, t.wall.Seconds())
		if r == o.runs-1 {
			if goResult.auc, err = holdoutAUC(ens, holdout); err != nil {
				return err
			}
		}
		if o.skipPython {
			fmt.Println()
			continue
		}
		out, err := fitSklearn(ctx, o, script, prefix)
		if err != nil {
			return err
		}
		skResult.timings = append(skResult.timings, out.timings...)
		skResult.auc = out.auc
		fmt.Printf(", scikit-learn %.2fs\n", out.timings[0].wall.Seconds())
	}
	results := []result{goResult}
	if !o.skipPython {
		results = append(results, skResult)
	}
	report(os.Stdout, o, results)
	return nil
}

func goConfig(o options) train.Config {
	cfg := train.DefaultConfig()
	cfg.Objective = train.BinaryLogLoss
	cfg.MaxIter = o.trees
	cfg.MaxDepth = o.depth
	cfg.LearningRate = 0.1
	cfg.MaxBins = 255
	cfg.MinSamplesLeaf = 20
	cfg.L2Regularization = 0
	cfg.MaxLeafNodes = 0 // depth-wise to o.depth, as sklearn_fit.py's max_leaf_nodes=None
	cfg.EarlyStopping = train.EarlyStoppingOff
	return cfg
}

func fitGo(ctx context.Context, o options, t table) (*train.Ensemble, timing, error) {
	data, err := train.NewDataset(t.features, numFeatures, t.labels)
	if err != nil {
		return nil, timing{}, err
	}
	runtime.GC() // the previous fit's garbage is not this fit's cost
	wall, cpu := time.Now(), processCPU()
	ens, err := train.Fit(ctx, goConfig(o), data)
	if err != nil {
		return nil, timing{}, fmt.Errorf("go fit: %w", err)
	}
	return ens, timing{wall: time.Since(wall), cpu: processCPU() - cpu}, nil
}

func holdoutAUC(ens *train.Ensemble, holdout table) (float64, error) {
	proba := make([]float32, 2*holdout.numRows())
	if err := ens.PredictProbaBatch(holdout.features, proba); err != nil {
		return 0, fmt.Errorf("go predict: %w", err)
	}
	p1 := make([]float32, holdout.numRows())
	for i := range p1 {
		p1[i] = proba[2*i+1]
	}
	return rocAUC(p1, holdout.labels), nil
}

// fitSklearn fits scikit-learn once in a new Python process.
func fitSklearn(ctx context.Context, o options, script, prefix string) (result, error) {
	cmd := exec.CommandContext(ctx, o.python, script, prefix,
		strconv.Itoa(o.rows), strconv.Itoa(o.holdoutRows), strconv.Itoa(numFeatures),
		"1", strconv.Itoa(o.trees), strconv.Itoa(o.depth))
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS="+strconv.Itoa(o.threads))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, fmt.Errorf("scikit-learn fit: %w", err)
	}
	var parsed struct {
		Seconds    []float64 `json:"seconds"`
		CPUSeconds []float64 `json:"cpu_seconds"`
		AUC        float64   `json:"auc"`
	}
	if err := json.Unmarshal(out, &parsed); err != nil {
		return result{}, fmt.Errorf("scikit-learn fit printed %q: %w", out, err)
	}
	if len(parsed.Seconds) == 0 || len(parsed.Seconds) != len(parsed.CPUSeconds) {
		return result{}, errors.New("scikit-learn fit reported no timings")
	}
	var r result
	for i, s := range parsed.Seconds {
		r.timings = append(r.timings, timing{wall: seconds(s), cpu: seconds(parsed.CPUSeconds[i])})
	}
	r.auc = parsed.AUC
	return r, nil
}

func sklearnVersion(python string) string {
	out, err := exec.Command(python, "-c", "import sklearn; print(sklearn.__version__)").Output()
	if err != nil {
		return "(version unknown)"
	}
	return string(trimNewline(out))
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// processCPU returns the CPU time, user and system, the process has used.
func processCPU() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
