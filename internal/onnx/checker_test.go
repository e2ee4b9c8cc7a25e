package onnx

import (
	"path/filepath"
	"testing"

	"github.com/streamscore/streamscore/internal/onnx/onnxtest"
)

func TestMarshalPassesONNXChecker(t *testing.T) {
	b, err := exampleModel().Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	onnxtest.Check(t, b)
}

func TestGoldenFilePassesONNXChecker(t *testing.T) {
	onnxtest.CheckFile(t, filepath.Join("testdata", "example.onnx"))
}
