"""`kiln-run` (= `kiln run`) and `kiln-run inspect` on the fake models: .npy in
and out, random inputs, benchmark, exit statuses and messages; plus the AArch64
cross build under qemu when it is there."""

import os
import pathlib
import platform
import shutil
import subprocess

import numpy as np
import pytest

WEIGHTS = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5], dtype=np.float32)
SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]
QEMU = ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"]


def run(binary, *args):
    return subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True, timeout=120)


def test_named_and_unnamed_input_round_trip(kiln_run, fake_models, tmp_path):
    x = np.random.default_rng(0).standard_normal((2, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    for spec in (f"x={tmp_path / 'x.npy'}", tmp_path / "x.npy"):
        out_dir = tmp_path / "out"
        r = run(kiln_run, "--input_path", fake_models / "good", "--input", spec, "--output_dir", out_dir)
        assert r.returncode == 0, r.stderr
        assert "output 'y': float32 (2, 8)" in r.stdout
        assert "min " in r.stdout and "mean " in r.stdout
        np.testing.assert_allclose(np.load(out_dir / "y.npy"), 2 * x + WEIGHTS, rtol=1e-6)


def test_multi_output_names_are_sanitized(kiln_run, fake_models, tmp_path):
    x = np.ones((2, 8), np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "idx.npy", np.array([3, 4, 5], dtype=np.int64))
    r = run(kiln_run, "--input_path", fake_models / "multi", "--input", f"x={tmp_path / 'x.npy'}",
            "--input", f"idx={tmp_path / 'idx.npy'}", "--output_dir", tmp_path / "o", "--threads", 2)
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(tmp_path / "o")) == ["total.npy", "y.npy", "z_out_0.npy"]
    np.testing.assert_array_equal(np.load(tmp_path / "o" / "z_out_0.npy"), [10, 13, 16])
    total = np.load(tmp_path / "o" / "total.npy")
    assert total.shape == () and total == pytest.approx(float((2 * x + WEIGHTS).sum()))


def test_random_inputs_and_benchmark(kiln_run, fake_models):
    r = run(kiln_run, "--input_path", fake_models / "multi", "--benchmark", 25, "--threads", 2)
    assert r.returncode == 0, r.stderr
    assert "seeded pseudo-random values" in r.stdout
    assert "benchmark: 25 runs" in r.stdout and "median" in r.stdout and "min" in r.stdout
    again = run(kiln_run, "--input_path", fake_models / "multi")
    assert again.stdout.splitlines()[:3] == r.stdout.splitlines()[:3]  # same seed, same values


def test_profile_lists_the_kernels(kiln_run, fake_models):
    r = run(kiln_run, "--input_path", fake_models / "good", "--profile", 7, "--benchmark", 3)
    assert r.returncode == 0, r.stderr
    assert "benchmark: 3 runs" in r.stdout
    assert "profile: 7 runs after 2 warm-up, 1 thread(s):" in r.stdout and "in 1 kernels" in r.stdout
    assert r.stdout.splitlines()[-1].split()[-2:] == ["100.0", "fake_axpy"]


@pytest.mark.parametrize("args, message", [
    (["--bogus"], "unknown flag --bogus"),
    (["--inference_context", "cuda"], "is a CPU model"),
    (["--inference_context", "tpu"], "--inference_context must be cpu or cuda"),
    (["--threads", "-1"], "--threads needs a count >= 0"),
    (["--benchmark", "x"], "--benchmark needs a positive count"),
    (["--profile", "0"], "--profile needs a positive count"),
    (["--input", "nope=a.npy"], "has no input named 'nope' (inputs: x)"),
    (["--input", "missing.npy"], "input 'x': cannot open missing.npy"),
])
def test_usage_errors_exit_2(kiln_run, fake_models, args, message):
    r = run(kiln_run, "--input_path", fake_models / "good", *args)
    assert r.returncode == 2
    assert message in r.stderr


def test_input_mismatches_exit_2(kiln_run, fake_models, tmp_path):
    np.save(tmp_path / "f64.npy", np.zeros((2, 8)))
    np.save(tmp_path / "shape.npy", np.zeros((8, 2), np.float32))
    np.save(tmp_path / "fortran.npy", np.asfortranarray(np.zeros((2, 8), np.float32)))
    model = fake_models / "good"
    r = run(kiln_run, "--input_path", model, "--input", tmp_path / "f64.npy")
    assert r.returncode == 2
    assert "input 'x': expected float32 (2, 8), got float64 (2, 8)" in r.stderr
    r = run(kiln_run, "--input_path", model, "--input", tmp_path / "shape.npy")
    assert "expected float32 (2, 8), got float32 (8, 2)" in r.stderr and r.returncode == 2
    r = run(kiln_run, "--input_path", model, "--input", tmp_path / "fortran.npy")
    assert "Fortran order" in r.stderr and r.returncode == 2
    multi = fake_models / "multi"
    r = run(kiln_run, "--input_path", multi, "--input", f"x={tmp_path / 'shape.npy'}")
    assert r.returncode == 2


def test_load_errors_exit_2(kiln_run, fake_models, tmp_path):
    r = run(kiln_run)
    assert r.returncode == 2 and "--input_path DIR is required" in r.stderr
    r = run(kiln_run, "--input_path", tmp_path / "nothing")
    assert r.returncode == 2 and "nothing" in r.stderr
    r = run(kiln_run, "--input_path", fake_models / "bad_checksum")
    assert r.returncode == 2 and "corrupt" in r.stderr
    r = run(kiln_run, "--input_path", fake_models / "run_fails")
    assert r.returncode == 1 and "code 5" in r.stderr


def test_help(kiln_run):
    r = run(kiln_run, "--help")
    assert r.returncode == 0 and "--input_path DIR" in r.stdout and "--benchmark N" in r.stdout


def test_inspect(kiln_run, fake_models):
    r = run(kiln_run, "inspect", fake_models / "multi")
    assert r.returncode == 0, r.stderr
    for text in ("arch:", "cpu features:", "kiln version:  0.1.0-fake", "model ABI:     2",
                 "inputs (2):", "idx", "int64", "outputs (3):", "z/out:0", "arena:", "weights:",
                 '  "name": "fake",', '"shape": [2, 8]'):
        assert text in r.stdout
    r = run(kiln_run, "inspect", fake_models / "no_symbol")
    assert r.returncode == 2 and "not a kiln model" in r.stderr


def cross_compile_fake_model(out_dir: pathlib.Path, variant: int) -> pathlib.Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["aarch64-linux-gnu-gcc", "-O2", "-shared", "-fPIC", "-fvisibility=hidden",
                    f"-I{SOURCE_DIR / 'include'}", f"-DFAKE_VARIANT={variant}",
                    str(SOURCE_DIR / "tests/runtime/fake_model/fake_model.c"), "-o",
                    str(out_dir / "model.so")], check=True)
    return out_dir


@pytest.fixture(scope="module")
def aarch64_fake_model(tmp_path_factory):
    if shutil.which("aarch64-linux-gnu-gcc") is None:
        pytest.fail("aarch64-linux-gnu-gcc not installed (scripts/setup.sh installs it)")
    return cross_compile_fake_model(tmp_path_factory.mktemp("a64") / "good", 0)


def test_host_refuses_aarch64_model(kiln_run, aarch64_fake_model):
    if platform.machine() != "x86_64":
        pytest.skip("checks an x86-64 host refusing an AArch64 model")
    r = run(kiln_run, "--input_path", aarch64_fake_model)
    assert r.returncode == 2
    assert "was compiled for aarch64, but this machine is x86_64" in r.stderr


def test_aarch64_kiln_run_under_qemu(aarch64_fake_model, tmp_path):
    binary = SOURCE_DIR / "build-aarch64" / "bin" / "kiln-run"
    if not binary.exists() or shutil.which("qemu-aarch64") is None:
        pytest.fail("run scripts/build_aarch64_runtime.sh first (needs qemu-user)")
    r = subprocess.run(QEMU + [str(binary), "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "--input_path" in r.stdout
    x = np.arange(16, dtype=np.float32).reshape(2, 8)
    np.save(tmp_path / "x.npy", x)
    r = subprocess.run(QEMU + [str(binary), "--input_path", str(aarch64_fake_model), "--input",
                               str(tmp_path / "x.npy"), "--output_dir", str(tmp_path / "o"),
                               "--threads", "2"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    np.testing.assert_allclose(np.load(tmp_path / "o" / "y.npy"), 2 * x + WEIGHTS)
    # A Cortex-A53 has no i8mm/SVE: the loader refuses instead of crashing.
    lacking = cross_compile_fake_model(tmp_path / "lacking", 2)
    r = subprocess.run(["qemu-aarch64", "-cpu", "cortex-a53", "-L", "/usr/aarch64-linux-gnu", str(binary),
                        "--input_path", str(lacking)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "but this CPU lacks them" in r.stderr
