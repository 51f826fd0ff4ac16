"""Every generator model, compiled by kiln, against ONNX Runtime.

Host: kernel levels 1, 2, 3 and 4 in NCHW, and --layout NHWC at levels 3 and 4, run
through the Python API at 1 and 2 threads; level 3 for narrower x86 ISAs (AVX2 as
x86-64-v3, SSE2 as x86-64) run on the host.
AArch64: level 2 (every model), level 4 (the models with Winograd convs) and --layout NHWC
at level 3 (two CNNs), cross-compiled and run under qemu with the cross-built kiln-run.
Also: what `kiln inspect` prints, model.json, `kiln run`/`kiln-run` on .npy files,
and that model.so needs nothing but libc.
"""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import onnx
import pytest

import generate
import harness
from harness import assert_all_close, check_compiled, compile_model, run_ort

MODELS = list(generate.MODELS)
LEVELS = [1, 2, 3, 4]
# Models with 3x3 convs that take level 4's Winograd path (ops/winograd.h).
WINOGRAD_MODELS = ["resnet18_like"]
# (level, layout) compiles of the model set: every level in NCHW, --layout NHWC at levels >= 3.
CONFIGS = [(level, "NCHW") for level in LEVELS] + [(3, "NHWC"), (4, "NHWC")]
INPUT_SEED = 1234
DTYPE_NAMES = {"float32": r"float32|f32|float", "int64": r"int64|i64"}
# Nothing a compiled model may need at run time besides libc (and libm/libdl/libpthread).
FORBIDDEN_DEPS = re.compile(r"LLVM|lld|protobuf|onnx|stdc\+\+|c\+\+|gomp|omp|blas", re.I)


@pytest.fixture(scope="session")
def compiled(tmp_path_factory, model_paths, kiln_bin):
    """compiled(model, level, target=None, layout="NCHW") -> folder; each compile runs once per session."""
    cache: dict = {}
    root = tmp_path_factory.mktemp("compiled")

    def get(name: str, level: int, target: str | None = None, layout: str = "NCHW"):
        key = (name, level, target, layout)
        if key not in cache:
            label = re.sub(r"[^A-Za-z0-9.-]+", "_", target) if target else "host"
            out = root / f"{name}-L{level}-{label}-{layout}"
            extra = ["--layout", layout] if layout != "NCHW" else []
            cache[key] = (compile_model(model_paths[name], out, target=target, level=level, extra=extra), out)
        proc, out = cache[key]
        check_compiled(proc, out)
        return out

    return get


@pytest.fixture(scope="session")
def references(model_paths):
    """reference(model) -> (seeded inputs, ORT outputs), computed once per model."""
    cache: dict = {}

    def get(name: str):
        if name not in cache:
            inputs = generate.make_inputs(model_paths[name], INPUT_SEED)
            cache[name] = (inputs, run_ort(model_paths[name], inputs))
        return cache[name]

    return get


def _graph_io(path):
    """([(name, shape, dtype)] of the graph's inputs, the same of its outputs)."""
    m = onnx.load(str(path), load_external_data=False)
    inits = {t.name for t in m.graph.initializer}

    def desc(vi):
        tt = vi.type.tensor_type
        return (vi.name, [d.dim_value for d in tt.shape.dim],
                np.dtype(onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type)))

    return ([desc(v) for v in m.graph.input if v.name not in inits],
            [desc(v) for v in m.graph.output])


# --- host -------------------------------------------------------------------------------

@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("level, layout", CONFIGS, ids=[f"L{lv}-{lay}" for lv, lay in CONFIGS])
@pytest.mark.parametrize("name", MODELS)
def test_host_matches_onnxruntime(kiln, compiled, references, name, level, layout, threads):
    out = compiled(name, level, layout=layout)
    inputs, ref = references(name)
    m = kiln.load(str(out), num_threads=threads)
    got = m.run({k: v.copy() for k, v in inputs.items()})
    assert_all_close(got, ref)
    # A loaded model runs many times with the same result.
    again = m.run({k: v.copy() for k, v in inputs.items()})
    for k in ref:
        np.testing.assert_array_equal(again[k], got[k], err_msg=f"second run differs: {k}")


# Other x86 ISAs than the host's, run on the host: AVX2 + FMA without AVX-512 (the
# reference machine's vector width; its tiles are 6x16 ymm) and the SSE2 baseline.
X86_ISA_CONFIGS = [("x86-64-v3", "NCHW"), ("x86-64-v3", "NHWC"), ("x86-64", "NCHW")]


@pytest.mark.parametrize("cpu, layout", X86_ISA_CONFIGS, ids=[f"{c}-{lay}" for c, lay in X86_ISA_CONFIGS])
@pytest.mark.parametrize("name", MODELS)
def test_x86_isas_match_onnxruntime(kiln, compiled, references, name, cpu, layout):
    """Level 3 for a narrower x86 ISA than the host's (tile shapes follow the target's vector
    width and register count), run on the host, against ONNX Runtime."""
    if not harness.host_runs_x86(cpu):
        pytest.skip(f"this host cannot run {cpu} code")
    out = compiled(name, 3, target=f"llvm -mcpu={cpu}", layout=layout)
    inputs, ref = references(name)
    assert_all_close(kiln.load(str(out), num_threads=2).run({k: v.copy() for k, v in inputs.items()}), ref)


@pytest.mark.parametrize("name", MODELS)
def test_python_metadata(kiln, compiled, model_paths, name):
    m = kiln.load(str(compiled(name, 2)), num_threads=1)
    want_in, want_out = _graph_io(model_paths[name])
    for got, want in ((m.inputs, want_in), (m.outputs, want_out)):
        assert [(t.name, [int(d) for d in t.shape], np.dtype(t.dtype)) for t in got] == want


def test_two_models_in_one_process(kiln, compiled, references):
    """Two loaded models run independently and interleaved."""
    a = kiln.load(str(compiled("mlp", 2)), num_threads=2)
    b = kiln.load(str(compiled("small_cnn", 2)), num_threads=1)
    (ia, ra), (ib, rb) = references("mlp"), references("small_cnn")
    for _ in range(2):
        assert_all_close(a.run(ia), ra)
        assert_all_close(b.run(ib), rb)


def test_single_input_call_form(kiln, compiled, references):
    """`m(x)`: one input, one output, array in and array out."""
    m = kiln.load(str(compiled("small_cnn", 2)), num_threads=1)
    inputs, ref = references("small_cnn")
    (x,), (y,) = inputs.values(), ref.values()
    harness.assert_close(m(x), y)


def test_read_only_input_arrays(kiln, compiled, references):
    """Inputs the caller cannot write (np.frombuffer, numpy_helper) are accepted as-is."""
    m = kiln.load(str(compiled("ops_net", 2)), num_threads=1)
    inputs, ref = references("ops_net")
    frozen = {}
    for k, v in inputs.items():
        frozen[k] = v.copy()
        frozen[k].setflags(write=False)
    assert_all_close(m.run(frozen), ref)


def test_python_compile_api(kiln, tmp_path, model_paths, references):
    """kiln.compile takes a path or an onnx.ModelProto, with the CLI's options."""
    path = model_paths["ops_net"]
    inputs, ref = references("ops_net")
    for i, source in enumerate([str(path), onnx.load(str(path))]):
        out = tmp_path / f"out{i}"
        kiln.compile(source, str(out), target="llvm", optimization=["category:kernel,level:2"])
        assert (out / "model.so").is_file()
        assert_all_close(kiln.load(str(out), num_threads=1).run(inputs), ref)


@pytest.mark.parametrize("exe", ["kiln run", "kiln-run"])
def test_cli_run_npy(exe, kiln_bin, kiln_run_bin, compiled, references, tmp_path):
    """CLI run: inputs from .npy, one OUTPUT_DIR/<name>.npy per output (two outputs here)."""
    out = compiled("ops_net", 2)
    inputs, ref = references("ops_net")
    if exe == "kiln run":
        proc, got = harness.run_npy(out, inputs, tmp_path, exe=kiln_bin, subcommand=["run"])
    else:
        proc, got = harness.run_npy(out, inputs, tmp_path, exe=kiln_run_bin)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert_all_close(got, ref)


def test_cli_run_single_input_without_name(kiln_bin, compiled, references, tmp_path):
    """`--input FILE.npy` without NAME= for a single-input model."""
    out = compiled("small_cnn", 2)
    inputs, ref = references("small_cnn")
    (x,) = inputs.values()
    np.save(tmp_path / "x.npy", x)
    (tmp_path / "o").mkdir()
    proc = harness.run_cli(["run", "--input_path", out, "--input", tmp_path / "x.npy",
                            "--output_dir", tmp_path / "o"])
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert_all_close({f.stem: np.load(f) for f in (tmp_path / "o").glob("*.npy")}, ref)


def test_cli_benchmark(kiln_bin, compiled, references, tmp_path):
    out = compiled("mlp", 2)
    inputs, _ = references("mlp")
    (x,) = inputs.values()
    np.save(tmp_path / "x.npy", x)
    proc = harness.run_cli(["run", "--input_path", out, "--input", f"x={tmp_path / 'x.npy'}",
                            "--benchmark", "5", "--threads", "1"])
    assert proc.returncode == 0, proc.stderr + proc.stdout
    text = (proc.stdout + proc.stderr).lower()
    assert "median" in text and "min" in text, text


@pytest.mark.parametrize("level", [1, 3])
def test_profile_names_the_layers(kiln, compiled, references, level):
    """Model.profile times every kernel the run calls: the layers model.json lists, in order."""
    m = kiln.load(str(compiled("small_cnn", level)), num_threads=1)
    inputs, _ = references("small_cnn")
    rows = m.profile(inputs, runs=3)
    layers = m.metadata["layers"]
    assert [r["kernel"] for r in rows] == [layer["kernel"] for layer in layers]
    assert all(r["ms"] >= 0 and r["ops"] == layer["ops"] for r, layer in zip(rows, layers))
    assert sum(r["ms"] for r in rows) > 0


@pytest.mark.parametrize("name", ["small_cnn", "ops_net"])
def test_inspect_and_model_json(kiln_bin, compiled, model_paths, name):
    out = compiled(name, 2)
    proc = harness.run_cli(["inspect", out])
    assert proc.returncode == 0, proc.stderr + proc.stdout
    text = proc.stdout
    want_in, want_out = _graph_io(model_paths[name])
    for tname, shape, dtype in want_in + want_out:
        assert tname in text, f"`kiln inspect` does not name {tname}:\n{text}"
        assert re.search(harness.shape_regex(shape), text), (
            f"`kiln inspect` does not show {tname}'s shape {shape}:\n{text}")
        assert re.search(DTYPE_NAMES[str(dtype)], text), (
            f"`kiln inspect` does not show {tname}'s dtype {dtype}:\n{text}")
    blob = json.dumps(json.loads((out / "model.json").read_text()))
    for tname, _, _ in want_in + want_out:
        assert tname in blob, f"model.json does not name {tname}"


@pytest.mark.parametrize("name", ["resnet18_like", "mobilenetv2_like"])
def test_nhwc_model_json(compiled, model_paths, name):
    """--layout NHWC: model.json records it, every conv layer runs NHWC, the model's own
    inputs and outputs keep their NCHW shapes."""
    meta = json.loads((compiled(name, 3, layout="NHWC") / "model.json").read_text())
    assert meta["options"]["layout"] == "NHWC"
    want_in, want_out = _graph_io(model_paths[name])
    assert [t["shape"] for t in meta["inputs"]] == [s for _, s, _ in want_in]
    assert [t["shape"] for t in meta["outputs"]] == [s for _, s, _ in want_out]
    convs = [l for l in meta["layers"] if l["ops"][0] == "Conv"]
    assert convs and all(l.get("layout") == "NHWC" for l in convs), convs
    # The only layout change left is the model input's (the pooled features reach the
    # classifier through a Reshape).
    assert sum(l["ops"][0] == "Transpose" for l in meta["layers"]) == 1, meta["layers"]


@pytest.mark.parametrize("name", WINOGRAD_MODELS)
def test_level4_model_json_names_winograd_layers(compiled, name):
    """Level 4 is more than level 3: the eligible 3x3 convs run Winograd, and model.json says which."""
    meta = json.loads((compiled(name, 4) / "model.json").read_text())
    assert meta["options"]["effective_kernel_level"] == 4
    wino = [l for l in meta["layers"] if "Winograd" in l["strategy"]]
    assert wino and all(l["ops"][0] == "Conv" for l in wino), meta["layers"]
    level3 = json.loads((compiled(name, 3) / "model.json").read_text())
    assert not any("Winograd" in l["strategy"] for l in level3["layers"])


def _two_tile_model(path):
    """64 channels at 28x28 (3x3 + ReLU: Winograd F(4x4)), a strided 1x1 to 256 channels at
    14x14, then 3x3 + bias + residual Add + ReLU there (F(2x2): U at 36 points costs more to
    stream than its multiplies save, ops/winograd.cpp)."""
    from onnx import TensorProto, helper, numpy_helper  # noqa: PLC0415

    rng = np.random.default_rng(5)

    def weight(name, shape):
        fan_in = shape[1] * shape[2] * shape[3]
        return numpy_helper.from_array((rng.standard_normal(shape) * np.sqrt(2 / fan_in)).astype(np.float32), name)

    inits = [weight("w1", [64, 64, 3, 3]), weight("w2", [256, 64, 1, 1]), weight("w3", [256, 256, 3, 3]),
             numpy_helper.from_array(rng.standard_normal(256).astype(np.float32) * 0.1, "b3")]
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2"], ["c2"], strides=[2, 2]),
             helper.make_node("Conv", ["c2", "w3", "b3"], ["c3"], pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["c3", "c2"], ["s"]),
             helper.make_node("Relu", ["s"], ["y"])]
    graph = helper.make_graph(nodes, "two_tiles",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64, 28, 28])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 256, 14, 14])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return {"x": np.maximum(rng.standard_normal((1, 64, 28, 28)), 0).astype(np.float32)}


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_level4_winograd_tiles_match_onnxruntime(kiln_bin, tmp_path, layout):
    """Level 4 picks the Winograd tile per layer (F(4x4) and F(2x2) in one model), names it in
    model.json, and matches ONNX Runtime in both layouts, with the fused residual epilogue."""
    path = tmp_path / "two_tiles.onnx"
    inputs = _two_tile_model(path)
    out = tmp_path / "out"
    extra = ["--layout", layout] if layout != "NCHW" else []
    check_compiled(compile_model(path, out, level=4, extra=extra), out)
    meta = json.loads((out / "model.json").read_text())
    strategies = [l["strategy"] for l in meta["layers"] if l["ops"][0] == "Conv"]
    assert sum("Winograd F(4x4, 3x3)" in s for s in strategies) == 1, strategies
    assert sum("Winograd F(2x2, 3x3)" in s for s in strategies) == 1, strategies
    proc, got = harness.run_npy(out, inputs, tmp_path)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert_all_close(got, run_ort(path, inputs))


@pytest.mark.parametrize("name", ["small_cnn", "resnet18_like"])
def test_model_so_needs_only_libc(compiled, name):
    so = compiled(name, 3) / "model.so"
    needed = harness.needed_libraries(so)
    bad = [n for n in needed if FORBIDDEN_DEPS.search(n)]
    assert not bad, f"{so} needs {bad} (NEEDED: {needed})"


# --- AArch64 under qemu -----------------------------------------------------------------

@pytest.fixture(scope="session")
def aarch64_kiln_run():
    exe = harness.aarch64_build_dir() / "bin" / "kiln-run"
    assert exe.is_file(), (f"{exe} not found: build it with scripts/build_aarch64_runtime.sh "
                           "(scripts/build.sh runs it)")
    assert shutil.which("qemu-aarch64"), "qemu-aarch64 not found (scripts/setup.sh installs it)"
    return exe


@pytest.mark.parametrize("name, level, layout", [(name, 2, "NCHW") for name in MODELS] +
                         [("small_cnn", 3, "NHWC"), ("mobilenetv2_like", 3, "NHWC")])
def test_aarch64_matches_onnxruntime(compiled, references, aarch64_kiln_run, name, level, layout, tmp_path):
    """Level 2 for the model set; --layout NHWC at level 3 (NEON 9x12 tiles) for two CNNs."""
    out = compiled(name, level, harness.AARCH64_TARGET, layout=layout)
    so = out / "model.so"
    header = so.read_bytes()[:20]
    assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == 183, (
        f"{so} is not an AArch64 ELF object (e_machine != EM_AARCH64)")
    bad = [n for n in harness.needed_libraries(so) if FORBIDDEN_DEPS.search(n)]
    assert not bad, f"{so} needs {bad}"
    inputs, ref = references(name)
    proc, got = harness.run_npy(out, inputs, tmp_path, exe=aarch64_kiln_run,
                                prefix=harness.qemu_prefix())
    assert proc.returncode == 0, f"kiln-run under qemu failed:\n{proc.stderr}{proc.stdout}"
    assert_all_close(got, ref)


@pytest.mark.parametrize("name", WINOGRAD_MODELS)
def test_aarch64_level4_matches_onnxruntime(compiled, references, aarch64_kiln_run, name, tmp_path):
    """Level 4 on NEON: Winograd F(4x4, 3x3) with the 4-lane tile shape, under qemu."""
    out = compiled(name, 4, harness.AARCH64_TARGET)
    meta = json.loads((out / "model.json").read_text())
    assert any("Winograd" in l["strategy"] for l in meta["layers"]), meta["layers"]
    inputs, ref = references(name)
    proc, got = harness.run_npy(out, inputs, tmp_path, exe=aarch64_kiln_run, prefix=harness.qemu_prefix())
    assert proc.returncode == 0, f"kiln-run under qemu failed:\n{proc.stderr}{proc.stdout}"
    assert_all_close(got, ref)


def test_inspect_cross_compiled_model(kiln_bin, compiled):
    """An AArch64 object cannot load on x86-64, but `kiln inspect` still describes it."""
    out = compiled("mlp", 2, harness.AARCH64_TARGET)
    proc = harness.run_cli(["inspect", out])
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert re.search(r"aarch64|arm64", proc.stdout, re.I), proc.stdout
    assert "probs" in proc.stdout, proc.stdout
