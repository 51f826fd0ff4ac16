"""The `kiln` command line itself: --version, --help, and flag errors.

Every bad flag is exit status 2 with a one-line message that names it (SPEC §1);
target errors suggest the closest valid names. Flag errors come before the model is
read, and a failed compile leaves no model.so behind.
"""

from __future__ import annotations

import re

import pytest

from harness import run_cli


def _message(proc) -> str:
    return (proc.stderr or "") + (proc.stdout or "")


def assert_usage_error(proc, *patterns: str) -> str:
    """Exit status 2, a short message on stderr, and every regex in `patterns` found in it."""
    msg = _message(proc)
    assert proc.returncode == 2, f"exit status {proc.returncode}, expected 2; output:\n{msg}"
    assert proc.stderr.strip(), "exit status 2 without a message on stderr"
    assert len(proc.stderr.strip().splitlines()) <= 2, f"message is not short:\n{proc.stderr}"
    for pat in patterns:
        assert re.search(pat, msg), f"message lacks /{pat}/:\n{msg}"
    return msg


def _compile(example_model, out, *extra):
    return run_cli(["compile", "--input_path", example_model, "--output_path", out, *extra], timeout=120)


def test_version(kiln_bin):
    proc = run_cli(["--version"], exe=kiln_bin)
    assert proc.returncode == 0, _message(proc)
    assert re.fullmatch(r"kiln \d+\.\d+\.\d+\s*", proc.stdout), proc.stdout


def test_help_lists_commands(kiln_bin):
    proc = run_cli(["--help"], exe=kiln_bin)
    assert proc.returncode == 0, _message(proc)
    for command in ("compile", "run", "inspect", "--version"):
        assert command in proc.stdout, proc.stdout


def test_compile_help(kiln_bin):
    proc = run_cli(["compile", "--help"], exe=kiln_bin)
    assert proc.returncode == 0, _message(proc)
    for word in ("--input_path", "--output_path", "--target", "--layout", "--optimization",
                 "category:kernel,level:<1-4>", "category:graph,iterations:<0-30000>", "--input_shapes",
                 "cuda[:MODEL]"):
        assert word in proc.stdout, f"{word} missing from compile --help:\n{proc.stdout}"


def test_no_command_and_unknown_command(kiln_bin):
    assert run_cli([], exe=kiln_bin).returncode == 2
    assert_usage_error(run_cli(["compiel"], exe=kiln_bin), r"unknown command 'compiel'")


def test_unknown_flag(kiln_bin, tmp_path):
    proc = run_cli(["compile", "--input_path", "m.onnx", "--output_path", tmp_path / "out", "--foo"], exe=kiln_bin)
    msg = assert_usage_error(proc)
    assert "kiln compile: unknown option '--foo' (see kiln compile --help)" in msg
    proc = run_cli(["compile", "--input_path", "m.onnx", "--output_path", tmp_path / "out", "--inputpath=x"],
                   exe=kiln_bin)
    assert_usage_error(proc, r"unknown option '--inputpath'")


@pytest.mark.parametrize("missing", ["--input_path", "--output_path"])
def test_missing_required_option(kiln_bin, tmp_path, missing):
    args = {"--input_path": "m.onnx", "--output_path": str(tmp_path / "out")}
    del args[missing]
    proc = run_cli(["compile", *[w for kv in args.items() for w in kv]], exe=kiln_bin)
    assert_usage_error(proc, re.escape(f"missing required option {missing}"))


def test_unknown_mcpu_suggests(kiln_bin, example_model, tmp_path):
    out = tmp_path / "out"
    proc = _compile(example_model, out, "--target", "llvm", "-mtriple=x86_64-linux-gnu", "-mcpu=skylkae")
    assert_usage_error(proc, r"unknown -mcpu 'skylkae'", r"did you mean: skylake\b")
    assert not (out / "model.so").exists()


def test_unknown_mcpu_quoted_form(kiln_bin, example_model, tmp_path):
    proc = _compile(example_model, tmp_path / "out", "--target", "llvm -mtriple=aarch64-linux-gnu -mcpu=cortex-a27")
    assert_usage_error(proc, r"unknown -mcpu 'cortex-a27' for aarch64", r"cortex-a72")


def test_unknown_feature_and_triple(kiln_bin, example_model, tmp_path):
    proc = _compile(example_model, tmp_path / "a", "--target", "llvm", "-mattr=+avx2,+avx512ff")
    assert_usage_error(proc, r"unknown feature 'avx512ff'", r"avx512f")
    proc = _compile(example_model, tmp_path / "b", "--target", "llvm", "-mtriple=x86_46-linux-gnu")
    assert_usage_error(proc, r"unknown -mtriple 'x86_46-linux-gnu'")
    proc = _compile(example_model, tmp_path / "c", "--target", "llvm", "-mcpu", "skylake")
    assert_usage_error(proc, r"unexpected argument 'skylake'", r"-mcpu=skylake")
    proc = _compile(example_model, tmp_path / "d", "--target", "llvm", "-march=skylake")
    assert_usage_error(proc, r"unknown target flag '-march=skylake'")


def test_unknown_cuda_model(kiln_bin, example_model, tmp_path):
    proc = _compile(example_model, tmp_path / "out", "--target", "cuda:t5")
    assert_usage_error(proc, r"unknown CUDA model 't5'", r"\bt4\b", r"\bh100\b")


@pytest.mark.parametrize("value, pattern", [
    ("category:kernel,level:7", r"level must be 1, 2, 3 or 4"),
    ("category:kernel", r"needs level"),
    ("category:speed,level:2", r"unknown category 'speed' \(valid: kernel, cuda, graph\)"),
    ("category:cuda,enabled:maybe", r"enabled must be true or false"),
    ("category:graph,iterations:40000", r"iterations must be an integer from 0 to 30000"),
    ("category:graph,rounds:5", r"unknown key 'rounds'"),
    ("kernel=3", r"expected key:value"),
])
def test_bad_optimization(kiln_bin, example_model, tmp_path, value, pattern):
    out = tmp_path / "out"
    proc = _compile(example_model, out, "--optimization", value)
    assert_usage_error(proc, r"--optimization", pattern)
    assert not (out / "model.so").exists()


def test_bad_layout_and_shapes(kiln_bin, example_model, tmp_path):
    assert_usage_error(_compile(example_model, tmp_path / "a", "--layout", "NWHC"), r"NCHW or NHWC, not 'NWHC'")
    assert_usage_error(_compile(example_model, tmp_path / "b", "--input_shapes", "pixels:1x0x8"),
                       r"dimension '0' of input 'pixels'")
    assert_usage_error(_compile(example_model, tmp_path / "c", "--input_shapes", "pixels"), r"has no ':'")


@pytest.mark.parametrize("extra, pattern", [
    (["--target", "cuda:t4"], r"--layout NHWC is for CPU targets only"),
    (["--optimization", "category:kernel,level:2"], r"--layout NHWC needs kernel level 3 or 4 \(got level 2\)"),
    (["--optimization", "category:kernel,level:1"], r"--layout NHWC needs kernel level 3 or 4 \(got level 1\)"),
])
def test_nhwc_needs_a_cpu_target_and_level_3(kiln_bin, example_model, tmp_path, extra, pattern):
    out = tmp_path / "out"
    assert_usage_error(_compile(example_model, out, "--layout", "NHWC", *extra), pattern)
    assert not (out / "model.so").exists()


def test_split_and_quoted_targets_compile(kiln_bin, example_model, tmp_path):
    """The documented forms: target flags as separate words, in one quoted word, and --target=."""
    for i, target_args in enumerate([["--target", "llvm", "-mcpu=skylake"],
                                     ["--target", "llvm -mcpu=skylake"],
                                     ["--target=llvm", "-mcpu=skylake", "--optimization=category:kernel,level:2"]]):
        out = tmp_path / f"out{i}"
        proc = _compile(example_model, out, *target_args)
        assert proc.returncode == 0, f"{target_args}: exit {proc.returncode}\n{_message(proc)}"
        assert (out / "model.so").is_file()
