"""Compiles the generator's models with kiln and compares each output with ONNX Runtime.

    python3 bench/check_models.py [--build build-perf] [--level 3] [--target SPEC] [--aarch64]

Bar (SPEC): max abs err <= 1e-4 * max(1, max|ref|). Exits non-zero on any failure.
A correctness check for kernel work, not part of the test suite (tests/e2e is).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

REPO = Path(__file__).resolve().parents[1]
AARCH64 = "llvm -mtriple=aarch64-linux-gnu -mattr=+neon -mcpu=cortex-a72"
NP = {1: np.float32, 7: np.int64, 6: np.int32, 9: np.bool_, 11: np.float64}


def inputs_for(model: onnx.ModelProto, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    init = {i.name for i in model.graph.initializer}
    feeds = {}
    for inp in model.graph.input:
        if inp.name in init:
            continue
        t = inp.type.tensor_type
        shape = [d.dim_value if d.dim_value > 0 else 1 for d in t.shape.dim]
        feeds[inp.name] = rng.standard_normal(shape).astype(NP.get(t.elem_type, np.float32))
    return feeds


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-perf")
    ap.add_argument("--level", type=int, default=3)
    ap.add_argument("--target", default="")
    ap.add_argument("--aarch64", action="store_true", help="compile for AArch64 and run under qemu")
    ap.add_argument("--models", nargs="*", default=None)
    args = ap.parse_args()
    build = REPO / args.build
    target = AARCH64 if args.aarch64 else args.target
    tmp = Path(tempfile.mkdtemp(prefix="kiln_check_"))
    subprocess.run([sys.executable, str(REPO / "models/generate.py"), str(tmp / "m")], check=True,
                   stdout=subprocess.DEVNULL)
    failed = 0
    for path in sorted((tmp / "m").glob("*.onnx")):
        name = path.stem
        if args.models and name not in args.models:
            continue
        model = onnx.load(str(path))
        feeds = inputs_for(model, 7)
        ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)
        out = tmp / "o" / name
        cmd = [str(build / "bin/kiln"), "compile", "--input_path", str(path), "--output_path", str(out),
               "--optimization", f"category:kernel,level:{args.level}"]
        if target:
            cmd += ["--target", target]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        ind = tmp / "in" / name
        ind.mkdir(parents=True, exist_ok=True)
        run = []
        for k, v in feeds.items():
            np.save(ind / f"{k}.npy", v)
            run += ["--input", f"{k}={ind / (k + '.npy')}"]
        res = tmp / "res" / name
        if args.aarch64:
            cmd = ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", str(REPO / "build-aarch64/bin/kiln-run")]
        else:
            cmd = [str(build / "bin/kiln"), "run"]
        subprocess.run(cmd + ["--input_path", str(out), *run, "--output_dir", str(res)], check=True,
                       stdout=subprocess.DEVNULL)
        for o, r in zip(model.graph.output, ref):
            got = np.load(res / f"{o.name}.npy")
            err = float(np.max(np.abs(got.astype(np.float64) - r))) if r.size else 0.0
            bar = 1e-4 * max(1.0, float(np.max(np.abs(r))) if r.size else 1.0)
            ok = got.shape == r.shape and err <= bar
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name}:{o.name} max abs err {err:.3g} (bar {bar:.3g})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
