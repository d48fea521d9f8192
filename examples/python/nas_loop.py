"""A NAS loop in Python that ranks MobileNetV2-style candidates by their predicted latency on one
device, with predictors pulled by `litepred predictor pull` and plain onnxruntime: no litepred
installed. Usage:  python nas_loop.py PREDICTORS_DIR [N_CANDIDATES]

The predictors take a kernel's feature vector (the columns each <type>.json names) and give its
latency in ms; a model's latency is the sum over its kernels, each times its type's in-network
factor (device.json's composition), plus the device's run overhead (device.json). This file computes the features of the kernels a MobileNetV2 block runs as; for
any other ONNX model, POST it to the coordinator instead (see predict_onnx below).
"""
import json
import random
import sys
import urllib.request
from collections import defaultdict
from pathlib import Path

import numpy as np
import onnxruntime as ort


def out_hw(hw, k, s):
    pad = (k - 1) // 2
    return (hw + 2 * pad - k) // s + 1


def conv(type_, hw, cin, cout, k, s):
    """conv-bn-relu6, conv-bn, ...: features as litepred's kernel library computes them."""
    params = cout * (k * k * cin + 1)
    o = out_hw(hw, k, s)
    return type_, {"HW": hw, "CIN": cin, "COUT": cout, "KERNEL_SIZE": k, "STRIDES": s, "GROUPS": 1,
                   "W": hw, "DILATION": 1, "FLOPS": 2 * o * o * params / 1e6, "PARAMS": params / 1e6,
                   "ACTIVATION_MB": 4 * (cin * hw * hw + cout * o * o) / 2**20}


def dwconv(type_, hw, cin, k, s):
    params = cin * (k * k + 1)
    o = out_hw(hw, k, s)
    return type_, {"HW": hw, "CIN": cin, "KERNEL_SIZE": k, "STRIDES": s, "W": hw, "DILATION": 1,
                   "FLOPS": 2 * o * o * params / 1e6, "PARAMS": params / 1e6,
                   "ACTIVATION_MB": 4 * (cin * hw * hw + cin * o * o) / 2**20}


def add(hw, cin):
    return "add", {"HW": hw, "CIN": cin, "W": hw, "BCAST": 0, "FLOPS": cin * hw * hw / 1e6, "PARAMS": 0.0, "ACTIVATION_MB": 4 * 3 * cin * hw * hw / 2**20}


def global_avgpool(hw, cin):
    return "global-avgpool", {"HW": hw, "CIN": cin, "W": hw, "FLOPS": cin * hw * hw / 1e6, "PARAMS": 0.0, "ACTIVATION_MB": 4 * (cin * hw * hw + cin) / 2**20}


def fc(cin, cout):
    p = cout * (cin + 1)
    return "fc", {"CIN": cin, "COUT": cout, "FLOPS": 2 * p / 1e6, "PARAMS": p / 1e6, "ACTIVATION_MB": 4 * (cin + cout) / 2**20}


# MobileNetV2's stages: (channels, blocks, first stride); each block chooses kernel size and expansion.
STAGES = [(24, 2, 2), (32, 3, 2), (64, 4, 2), (96, 3, 1), (160, 3, 2), (320, 1, 1)]


def kernels_of(choices, resolution=224):
    """The kernels a candidate runs as (stem, inverted residual blocks, head)."""
    hw, cin = out_hw(resolution, 3, 2), 32
    ks = [conv("conv-bn-relu6", resolution, 3, 32, 3, 2), dwconv("dwconv-bn-relu6", hw, 32, 3, 1), conv("conv-bn", hw, 32, 16, 1, 1)]
    cin = 16
    it = iter(choices)
    for cout, n, first_stride in STAGES:
        for i in range(n):
            k, e = next(it)
            s = first_stride if i == 0 else 1
            mid = cin * e
            ks.append(conv("conv-bn-relu6", hw, cin, mid, 1, 1))
            ks.append(dwconv("dwconv-bn-relu6", hw, mid, k, s))
            o = out_hw(hw, k, s)
            ks.append(conv("conv-bn", o, mid, cout, 1, 1))
            if s == 1 and cin == cout:
                ks.append(add(o, cout))
            hw, cin = o, cout
    ks += [conv("conv-bn-relu6", hw, cin, 1280, 1, 1), global_avgpool(hw, 1280), fc(1280, 1000)]
    return ks


class Device:
    """The pulled predictors of one device, run batched: one session.run per kernel type."""

    def __init__(self, folder):
        folder = Path(folder)
        manifest = json.loads((folder / "device.json").read_text())
        self.id, self.overhead_ms = manifest["deviceId"], manifest["overheadMs"]
        # In-network factor per kernel type, fitted on whole models the device measured (if it has them).
        composition = manifest.get("composition") or {}
        self.factors, self.shared = composition.get("factors", {}), composition.get("shared", 1.0)
        self.predictors = {}
        for p in manifest["predictors"]:
            meta = json.loads((folder / p["metadata"]).read_text())
            session = ort.InferenceSession(str(folder / p["onnx"]), providers=["CPUExecutionProvider"])
            self.predictors[p["kernelType"]] = (session, meta["input"]["name"], meta["input"]["columns"], meta["output"]["name"])

    def latency_ms(self, candidates):
        """Predicted latency (ms) of each candidate, a list of (kernel type, features) pairs."""
        rows = defaultdict(list)  # kernel type -> [(candidate index, features)]
        for i, kernels in enumerate(candidates):
            for type_, features in kernels:
                rows[type_].append((i, features))
        totals = np.full(len(candidates), self.overhead_ms)
        for type_, items in rows.items():
            if type_ not in self.predictors:
                raise KeyError(f"{self.id} has no {type_} predictor; pull it or adapt the device for it")
            session, input_name, columns, output_name = self.predictors[type_]
            x = np.array([[f[c] for c in columns] for _, f in items], dtype=np.float32)
            ms = session.run([output_name], {input_name: x})[0][:, 0] * self.factors.get(type_, self.shared)
            np.add.at(totals, [i for i, _ in items], ms)
        return totals


def predict_onnx(coordinator, device_id, model_path, input_shape=None):
    """Any ONNX model, decomposed and predicted by the coordinator (POST /api/devices/ID/predict)."""
    query = f"?inputShape={','.join(map(str, input_shape))}" if input_shape else ""
    req = urllib.request.Request(f"{coordinator}/api/devices/{device_id}/predict{query}", data=Path(model_path).read_bytes(),
                                 headers={"Content-Type": "application/octet-stream"}, method="POST")
    with urllib.request.urlopen(req) as res:
        return json.load(res)  # latencyMs, overheadMs, kernels (per-kernel predictions), coverage, missingPredictors


if __name__ == "__main__":
    device = Device(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    blocks = sum(b for _, b, _ in STAGES)
    rng = random.Random(0)
    candidates = [[(rng.choice([3, 5, 7]), rng.choice([3, 6])) for _ in range(blocks)] for _ in range(n)]
    latencies = device.latency_ms([kernels_of(c) for c in candidates])
    order = np.argsort(latencies)
    print(f"{n} candidates on {device.id}: predicted {latencies.min():.2f} .. {latencies.max():.2f} ms (median {np.median(latencies):.2f})")
    print("fastest:", " ".join(f"k{k}e{e}" for k, e in candidates[order[0]]), f"{latencies[order[0]]:.2f} ms")
