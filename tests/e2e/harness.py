"""Shared helpers for kiln's end-to-end and conformance tests.

Where the build is, how to call the CLI, how to get an ONNX Runtime reference and
how to compare against it with the SPEC's bar. Plain functions (no pytest), so the
conformance runner's CLI can use them too.
"""

from __future__ import annotations

import os
import platform
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
MODELS_DIR = REPO / "models"
# One compile or run may take this long before it counts as a hang.
TIMEOUT_S = int(os.environ.get("KILN_TEST_TIMEOUT", "600"))
AARCH64_TARGET = "llvm -mtriple=aarch64-linux-gnu -mattr=+neon -mcpu=cortex-a72"
QEMU_SYSROOT = "/usr/aarch64-linux-gnu"


def _repo_path(value: str) -> Path:
    p = Path(value)
    return p if p.is_absolute() else REPO / p


def build_dir() -> Path:
    """The host build: $KILN_BUILD_DIR (relative paths are from the repo root), else build/."""
    return _repo_path(os.environ.get("KILN_BUILD_DIR", "build"))


def aarch64_build_dir() -> Path:
    """The AArch64 runtime-only build made by scripts/build_aarch64_runtime.sh."""
    return _repo_path(os.environ.get("KILN_AARCH64_BUILD_DIR", "build-aarch64"))


def kiln_bin() -> Path:
    return build_dir() / "bin" / "kiln"


def kiln_run_bin() -> Path:
    return build_dir() / "bin" / "kiln-run"


def python_dir() -> Path:
    return build_dir() / "python"


def import_kiln():
    """Imports the kiln Python package from the build (build/python first on sys.path)."""
    p = str(python_dir())
    if p not in sys.path:
        sys.path.insert(0, p)
    import kiln  # noqa: PLC0415 (the path is only known at run time)
    return kiln


def run_cli(args, timeout: int = TIMEOUT_S, exe: Path | None = None, cwd=None,
            prefix=()) -> subprocess.CompletedProcess:
    """Runs `kiln ARGS...` (or `exe`), capturing text output; never raises on failure."""
    cmd = [*prefix, str(exe or kiln_bin()), *[str(a) for a in args]]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd)


def compile_args(path, out, target: str | None = None, level: int | None = None,
                 extra=()) -> list[str]:
    args = ["compile", "--input_path", str(path), "--output_path", str(out)]
    if target:
        # The documented form: the target's flags as separate words after --target.
        args += ["--target", *shlex.split(target)]
    if level is not None:
        args += ["--optimization", f"category:kernel,level:{level}"]
    return args + [str(e) for e in extra]


def compile_model(path, out, target: str | None = None, level: int | None = None,
                  extra=(), timeout: int = TIMEOUT_S) -> subprocess.CompletedProcess:
    """`kiln compile` through the CLI; returns the CompletedProcess (check .returncode)."""
    return run_cli(compile_args(path, out, target, level, extra), timeout=timeout)


def check_compiled(proc: subprocess.CompletedProcess, out) -> None:
    """Fails with kiln's own message when a compile did not produce DIR/model.so."""
    assert proc.returncode == 0, (
        f"kiln compile failed (exit {proc.returncode}):\n{proc.stderr}{proc.stdout}")
    assert (Path(out) / "model.so").is_file(), f"kiln compile wrote no {out}/model.so"


def qemu_prefix() -> list[str]:
    return ["qemu-aarch64", "-L", QEMU_SYSROOT]


def run_npy(model_dir, inputs: dict, work: Path, exe: Path | None = None, prefix=(),
            subcommand=(), timeout: int = TIMEOUT_S, extra=()
            ) -> tuple[subprocess.CompletedProcess, dict]:
    """Runs a compiled model with `kiln-run` (or `exe` + `subcommand`, e.g. kiln + ["run"]),
    inputs and outputs as .npy files; `prefix` is an emulator command (qemu).

    Returns the process and {output name: array} read back from the output folder."""
    work = Path(work)
    in_dir, out_dir = work / "in", work / "out"
    in_dir.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    args = [*subcommand, "--input_path", str(model_dir), "--output_dir", str(out_dir)]
    for i, (name, arr) in enumerate(inputs.items()):
        f = in_dir / f"input{i}.npy"
        np.save(f, arr)
        args += ["--input", f"{name}={f}"]
    exe = exe or kiln_run_bin()
    proc = run_cli([*args, *extra], exe=exe, prefix=prefix, timeout=timeout)
    outs = {f.stem: np.load(f) for f in sorted(out_dir.glob("*.npy"))}
    return proc, outs


def run_ort(path, inputs: dict) -> dict:
    """ONNX Runtime (CPUExecutionProvider) outputs as {name: array}."""
    import onnxruntime as ort  # noqa: PLC0415 (heavy; only where needed)

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, inputs)))


def _where(flat_index, shape) -> tuple:
    return tuple(int(i) for i in np.unravel_index(int(flat_index), shape))


def _val(a, at):
    return a[at].item() if a.ndim else a.item()


def _is_float(dtype: np.dtype) -> bool:
    """numpy floats, and ml_dtypes' bfloat16/float8/float4 (kind "V", float8_e5m2 "f")."""
    return np.issubdtype(dtype, np.floating) or dtype.kind == "f" or (
        dtype.kind == "V" and dtype.name.startswith(("float", "bfloat")))


def mismatch(got, ref, name: str = "output") -> str | None:
    """None when `got` matches `ref` by the SPEC's bar, else a one-line reason.

    Floats: max |got - ref| <= 1e-4 * max(1, max|ref|), NaN where ref is NaN, and equal
    infinities. Integers and bools: exact. Shape and dtype must match exactly."""
    ref = np.asarray(ref)
    if not isinstance(got, np.ndarray):
        return f"{name}: got {type(got).__name__}, expected an array"
    if got.dtype != ref.dtype:
        return f"{name}: dtype {got.dtype}, expected {ref.dtype}"
    if got.shape != ref.shape:
        return f"{name}: shape {list(got.shape)}, expected {list(ref.shape)}"
    if got.size == 0:
        return None
    if not _is_float(ref.dtype):
        diff = np.flatnonzero(got.reshape(-1) != ref.reshape(-1))
        if diff.size:
            at = _where(diff[0], ref.shape)
            return (f"{name}: {diff.size} of {ref.size} elements differ, first at {list(at)}: "
                    f"got {_val(got, at)!r}, expected {_val(ref, at)!r}")
        return None
    g, r = got.astype(np.float64), ref.astype(np.float64)
    nan_r, nan_g = np.isnan(r), np.isnan(g)
    if (nan_r != nan_g).any():
        at = _where(np.flatnonzero((nan_r != nan_g).reshape(-1))[0], ref.shape)
        return (f"{name}: NaN mismatch at {list(at)}: got {_val(got, at)!r}, "
                f"expected {_val(ref, at)!r}")
    inf_r = np.isinf(r)
    if (inf_r != np.isinf(g)).any() or (g[inf_r] != r[inf_r]).any():
        return f"{name}: infinities differ"
    finite = ~(nan_r | inf_r)
    if not finite.any():
        return None
    err = np.where(finite, np.abs(g - r), 0.0)
    scale = max(1.0, float(np.abs(r[finite]).max()))
    bar = 1e-4 * scale
    worst = int(np.argmax(err))
    max_err = float(err.reshape(-1)[worst])
    if max_err > bar:
        at = _where(worst, ref.shape)
        return (f"{name}: max abs error {max_err:.3g} > {bar:.3g} (1e-4*{scale:.3g}) at "
                f"{list(at)}: got {_val(got, at)!r}, expected {_val(ref, at)!r}")
    return None


def assert_close(got, ref, name: str = "output") -> None:
    """Asserts the SPEC's numerical bar; the message gives the max error and where."""
    reason = mismatch(got, ref, name)
    assert reason is None, reason


def assert_all_close(got: dict, ref: dict) -> None:
    """Same set of outputs, each within the bar."""
    assert sorted(got) == sorted(ref), f"outputs {sorted(got)}, expected {sorted(ref)}"
    reasons = [r for r in (mismatch(got[k], ref[k], k) for k in ref) if r]
    assert not reasons, "; ".join(reasons)


def shape_regex(shape) -> str:
    """A regex matching a shape written as 1x3x32x32, [1, 3, 32, 32] or (1,3,32,32)."""
    return r"\D{1,3}".join(str(int(d)) for d in shape)


def needed_libraries(so_path) -> list[str]:
    """The DT_NEEDED entries of an ELF file (readelf -d)."""
    out = subprocess.run(["readelf", "-d", str(so_path)], capture_output=True, text=True,
                         check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def host_runs_x86(cpu: str) -> bool:
    """Whether this host can run code for `cpu` (x86-64-v3 needs AVX2, FMA, BMI2, F16C, MOVBE)."""
    if platform.machine() not in ("x86_64", "AMD64"):
        return False
    if cpu == "x86-64":
        return True
    flags = set(Path("/proc/cpuinfo").read_text().split())
    return {"avx2", "fma", "bmi2", "f16c", "movbe"} <= flags
