"""Builds torch_mlp.onnx, a model really trained elsewhere, with PyTorch, for
the catalog's import tests (import_torch_test.go), with its feature mapping
(torch_mlp.spec.json) and PyTorch's own answers for a few rows
(torch_mlp.expected.json).

The model is a two-layer MLP (3 inputs -> 16 -> 2 classes, softmax output)
trained on a seeded synthetic sensor data set: temperature, vibration and
pressure readings, where a machine is in "alert" when it runs hot and shakes.

torch is a large package, needed only to regenerate these files, never by
the tests. On Debian (python3-torch, python3-onnx):

    apt-get install -y python3-torch python3-onnx
    /usr/bin/python3 cmd/trainer/testdata/make_torch.py

The export uses the classic TorchScript-based exporter (passing
dynamo=False when the installed torch has that argument; Debian 12's torch
1.13 predates it), opset 17, with a dynamic batch axis. Regenerating with another torch version may change the bytes of the
ONNX file and the expected probabilities; commit all four files together.
"""

import inspect
import json
import os

import numpy as np
import onnx
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
FIELDS = ["temperature", "vibration", "pressure"]
LABELS = ["ok", "alert"]
OPSET = 17

torch.manual_seed(7)
rng = np.random.default_rng(7)


def sensor_rows(n):
    """n readings and their labels; float32, as the model sees them."""
    temperature = rng.normal(60.0, 12.0, n)
    vibration = rng.gamma(2.0, 0.4, n)
    pressure = rng.normal(3.0, 0.5, n)
    risk = 0.08 * (temperature - 65.0) + 2.5 * (vibration - 0.9) - 0.6 * (pressure - 3.0)
    noise = rng.normal(0.0, 0.5, n)
    x = np.stack([temperature, vibration, pressure], axis=1).astype(np.float32)
    y = (risk + noise > 0).astype(np.int64)
    return x, y


class MLP(nn.Module):
    """Standardises its inputs (constants learnt from the training set, so a
    scorer feeds raw readings), then 3 -> 16 -> 2 with a softmax."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean))
        self.register_buffer("std", torch.tensor(std))
        self.hidden = nn.Linear(3, 16)
        self.out = nn.Linear(16, 2)

    def logits(self, x):
        h = torch.relu(self.hidden((x - self.mean) / self.std))
        return self.out(h)

    def forward(self, x):
        return torch.softmax(self.logits(x), dim=1)


x_train, y_train = sensor_rows(2000)
model = MLP(x_train.mean(axis=0), x_train.std(axis=0))
opt = torch.optim.Adam(model.parameters(), lr=0.02)
xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
for epoch in range(300):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model.logits(xt), yt)
    loss.backward()
    opt.step()
model.eval()

x_test, y_test = sensor_rows(500)
with torch.no_grad():
    accuracy = (model(torch.from_numpy(x_test)).argmax(dim=1).numpy() == y_test).mean()
print(f"torch {torch.__version__}: train loss {loss.item():.4f}, holdout accuracy {accuracy:.3f}")

onnx_path = os.path.join(HERE, "torch_mlp.onnx")
kwargs = {}
if "dynamo" in inspect.signature(torch.onnx.export).parameters:
    kwargs["dynamo"] = False
torch.onnx.export(
    model,
    (torch.zeros(1, 3),),
    onnx_path,
    input_names=["input"],
    output_names=["probabilities"],
    dynamic_axes={"input": {0: "N"}, "probabilities": {0: "N"}},
    opset_version=OPSET,
    do_constant_folding=True,
    **kwargs,
)
exported = onnx.load(onnx_path)
onnx.checker.check_model(exported, full_check=True)
# Keep the file reproducible and free of local paths.
exported.doc_string = ""
onnx.save(exported, onnx_path)
print(f"wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes, exporter: classic, opset {OPSET})")

spec = {
    "name": "torch_mlp",
    "task": "classification",
    "labels": LABELS,
    "inputs": [{"name": "input", "type": "float", "fields": [{"field": f} for f in FIELDS]}],
    "outputs": {"scores": "probabilities"},
}
with open(os.path.join(HERE, "torch_mlp.spec.json"), "w") as f:
    json.dump(spec, f, indent=2)
    f.write("\n")

# A few dozen holdout rows, plus a few far outside the training range, with
# PyTorch's float32 probabilities. float(np.float32) is the float32's exact
# value as a double, so Go reads back the very same float32.
x_check = np.concatenate([x_test[:36], np.array([[0, 0, 0], [120, 4, 1], [20, 0.01, 6], [-40, 10, -3]], np.float32)])
with torch.no_grad():
    probs = model(torch.from_numpy(x_check)).numpy().astype(np.float32)
rows = [
    {
        "record": {f: float(np.float32(v)) for f, v in zip(FIELDS, row)},
        "probabilities": [float(np.float32(p)) for p in prob],
    }
    for row, prob in zip(x_check, probs)
]
expected = {
    "torch_version": torch.__version__,
    "exporter": "torch.onnx.export, TorchScript-based" + (" (dynamo=False)" if kwargs else ""),
    "opset": OPSET,
    "rows": rows,
}
with open(os.path.join(HERE, "torch_mlp.expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
    f.write("\n")
print(f"wrote {len(rows)} expected rows")
