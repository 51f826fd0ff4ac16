"""Quantized models (QDQ and QOperator) compiled by kiln, against ONNX Runtime.

The models are models/generate.py's QUANTIZED set: ONNX Runtime's quantizer
applied to the model set (weights per-channel int8, activations per-tensor uint8
calibrated on seeded inputs) and one QOperator model. The oracle is ONNX Runtime
running the same model with graph optimizations disabled, i.e. the float
semantics DequantizeLinear -> float op -> QuantizeLinear. kiln computes the
quantized convolutions and matmuls in integers (int32 accumulation) and
requantizes with ONNX's rounding, so an output may differ from the oracle by a
quantization step where a value lies near a rounding boundary:

- shallow nets: >= 99 % of output elements within one step and none beyond two;
- deep nets (ResNet-18, MobileNetV2 topologies): a flip in one layer moves the
  next layer's inputs by a step and such flips cascade through the depth, so the
  bound is looser (DEEP_WITHIN_ONE / DEEP_MAX_STEPS below); the classifiers
  must agree on the top-1 class for >= 99 % of the seeded inputs.

Also: model.json and `kiln inspect` give every layer's precision and why, and
malformed quantization parameters are errors (exit 2) that name the node.
"""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import generate
import harness
from harness import check_compiled, compile_model

SHALLOW = ["mlp_qdq", "small_cnn_qdq", "qop_cnn_qoperator"]
DEEP = ["resnet18_like_qdq", "mobilenetv2_like_qdq"]
SEEDS = range(2000, 2032)
DEEP_WITHIN_ONE = 0.98
DEEP_MAX_STEPS = 4


@pytest.fixture(scope="session")
def quantized_paths(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("quantized")
    args = [str(d)]
    for name in generate.QUANTIZED:
        args += ["--only", name]
    generate.main(args)
    return {name: d / f"{name}.onnx" for name in generate.QUANTIZED}


@pytest.fixture(scope="session")
def compiled_quantized(tmp_path_factory, quantized_paths, kiln_bin):
    cache: dict = {}
    root = tmp_path_factory.mktemp("compiled_quantized")

    def get(name: str, level: int = 3, target: str | None = None):
        key = (name, level, target)
        if key not in cache:
            label = re.sub(r"[^A-Za-z0-9.-]+", "_", target) if target else "host"
            out = root / f"{name}-L{level}-{label}"
            cache[key] = (compile_model(quantized_paths[name], out, target=target, level=level), out)
        proc, out = cache[key]
        check_compiled(proc, out)
        return out

    return get


def ort_float_semantics(path):
    """ONNX Runtime without graph optimizations: no QDQ fusion, float DQ -> op -> Q."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def output_steps(model: onnx.ModelProto) -> dict:
    """{graph output: its quantization step}: the scale of the DequantizeLinear that makes it."""
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    outs = {o.name for o in model.graph.output}
    return {n.output[0]: float(inits[n.input[1]]) for n in model.graph.node
            if n.op_type == "DequantizeLinear" and n.output[0] in outs}


def compare(kiln, path, out_dir, seeds=SEEDS):
    """(fraction of elements within one step, max steps, top-1 agreement) over the seeds."""
    model = onnx.load(str(path))
    steps = output_steps(model)
    assert steps, "the quantized model's outputs should come from DequantizeLinear"
    sess = ort_float_semantics(path)
    m = kiln.load(str(out_dir))
    within, total, worst, agree = 0, 0, 0.0, 0
    for seed in seeds:
        x = generate.make_inputs(model, seed)
        ref = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, x)))
        got = m.run(x)
        for name, step in steps.items():
            assert got[name].shape == ref[name].shape and got[name].dtype == ref[name].dtype, name
            d = np.abs(got[name].astype(np.float64) - ref[name].astype(np.float64)) / step
            within += int(np.count_nonzero(d <= 1.0 + 1e-3))
            total += d.size
            worst = max(worst, float(d.max()))
        first = next(iter(steps))
        agree += int(np.argmax(got[first].reshape(-1)) == np.argmax(ref[first].reshape(-1)))
    return within / total, worst, agree / len(seeds)


@pytest.mark.parametrize("level", [1, 2, 3])
@pytest.mark.parametrize("name", SHALLOW)
def test_shallow_nets_within_one_step(kiln, compiled_quantized, quantized_paths, name, level):
    frac, worst, top1 = compare(kiln, quantized_paths[name], compiled_quantized(name, level))
    print(f"{name} L{level}: {frac:.4%} within one step, max {worst:.2f} steps, top-1 {top1:.0%}")
    assert frac >= 0.99, f"{name}: only {frac:.2%} of outputs within one quantization step"
    assert worst <= 2 + 1e-3, f"{name}: an output is {worst:.2f} quantization steps off"


@pytest.mark.parametrize("name", DEEP)
def test_deep_classifiers_agree_on_top1(kiln, compiled_quantized, quantized_paths, name):
    frac, worst, top1 = compare(kiln, quantized_paths[name], compiled_quantized(name))
    print(f"{name}: {frac:.4%} within one step, max {worst:.2f} steps, top-1 {top1:.0%}")
    assert top1 >= 0.99, f"{name}: top-1 agrees on only {top1:.0%} of the inputs"
    assert frac >= DEEP_WITHIN_ONE, f"{name}: only {frac:.2%} of outputs within one step"
    assert worst <= DEEP_MAX_STEPS + 1e-3, f"{name}: an output is {worst:.2f} steps off"


@pytest.mark.parametrize("name", [*SHALLOW, *DEEP])
def test_layers_report_precision(compiled_quantized, name):
    out = compiled_quantized(name)
    meta = json.loads((out / "model.json").read_text())
    layers = meta["layers"]
    assert all(layer["precision"] in ("int8", "fp32") and layer["precision_reason"] for layer in layers), layers
    integer = [layer for layer in layers if layer["ops"][0] in ("ConvInteger", "MatMulInteger")]
    assert integer and all(layer["precision"] == "int8" for layer in integer)
    # ONNX Runtime's quantizer leaves no Conv/MatMul in float on these models; at level 3
    # kiln runs MobileNetV2's depthwise convs in fp32 by choice (the fp32 depthwise kernel
    # beats int8 plain loops) and says so.
    floats = [layer for layer in layers if layer["ops"][0] in ("Conv", "MatMul")]
    assert all(layer["precision"] == "fp32" and "depthwise" in layer["precision_reason"] for layer in floats)
    assert bool(floats) == (name == "mobilenetv2_like_qdq"), floats
    # The int8 convs and the MatMulIntegers (constant weights here) name their
    # register-tile kernel.
    assert all("int8 register tiles" in layer["strategy"] for layer in integer), integer
    text = harness.run_cli(["inspect", out]).stdout
    assert "precision" in text and "int8" in text
    assert integer[0]["kernel"] in text and integer[0]["precision_reason"] in text, text


def test_qoperator_model_uses_the_contrib_ops(quantized_paths):
    m = onnx.load(str(quantized_paths["qop_cnn_qoperator"]))
    ops = {(n.domain or "ai.onnx", n.op_type) for n in m.graph.node}
    for op in ("QLinearAdd", "QLinearMul", "QLinearConcat", "QLinearGlobalAveragePool"):
        assert ("com.microsoft", op) in ops, ops
    assert ("ai.onnx", "QLinearConv") in ops and ("ai.onnx", "QLinearMatMul") in ops


def test_float_layers_of_a_mixed_model_say_why(compiled_quantized):
    meta = json.loads((compiled_quantized("mlp_qdq") / "model.json").read_text())
    softmax = [layer for layer in meta["layers"] if layer["ops"][0] == "Softmax"]
    assert softmax and softmax[0]["precision"] == "fp32"
    assert "no int8 kernel for Softmax" in softmax[0]["precision_reason"]


AARCH64_DOTPROD = harness.AARCH64_TARGET.replace("-mattr=+neon", "-mattr=+neon,+dotprod")


@pytest.mark.parametrize("name, level, target",
                         [(n, 2, harness.AARCH64_TARGET) for n in ["small_cnn_qdq", "qop_cnn_qoperator"]] +
                         [(n, 3, t) for n in ["small_cnn_qdq", "qop_cnn_qoperator", "resnet18_like_qdq"]
                          for t in [harness.AARCH64_TARGET, AARCH64_DOTPROD]])
def test_aarch64_matches(compiled_quantized, quantized_paths, name, level, target, tmp_path):
    """Cross-compiled for AArch64 and run under qemu: the same integers as on the host. At
    level 3 the int8 kernels use NEON sdot/udot with +dotprod and widening multiplies
    without it (the host: VNNI or vpmaddwd); every path is exact, so the outputs are equal."""
    exe = harness.aarch64_build_dir() / "bin" / "kiln-run"
    assert exe.is_file(), f"{exe} not found: build it with scripts/build_aarch64_runtime.sh"
    assert shutil.which("qemu-aarch64"), "qemu-aarch64 not found (scripts/setup.sh installs it)"
    host = compiled_quantized(name, level)
    arm = compiled_quantized(name, level, target)
    if level == 3:
        meta = json.loads((arm / "model.json").read_text())
        kind = "8-bit dot products" if "dotprod" in target else "int16 pair products"
        assert any(kind in l["strategy"] for l in meta["layers"]), meta["layers"]
    model = onnx.load(str(quantized_paths[name]))
    inputs = generate.make_inputs(model, SEEDS[0])
    proc, got = harness.run_npy(arm, inputs, tmp_path / "arm", exe=exe, prefix=harness.qemu_prefix())
    assert proc.returncode == 0, f"kiln-run under qemu failed:\n{proc.stderr}{proc.stdout}"
    proc, want = harness.run_npy(host, inputs, tmp_path / "host", exe=harness.kiln_run_bin())
    assert proc.returncode == 0, proc.stderr
    assert sorted(got) == sorted(want)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k])


@pytest.mark.parametrize("cpu", ["x86-64-v3", "x86-64"])
@pytest.mark.parametrize("name", ["small_cnn_qdq", "qop_cnn_qoperator", "resnet18_like_qdq"])
def test_x86_isas_give_the_host_integers(kiln, compiled_quantized, quantized_paths, name, cpu):
    """Level 3 for AVX2 (x86-64-v3: the int16 pairs form, vpmaddwd) and for SSE2, run on the
    host: the same outputs bit for bit as the host's code (VNNI where the host has it)."""
    if not harness.host_runs_x86(cpu):
        pytest.skip(f"this host cannot run {cpu} code")
    host = compiled_quantized(name, 3)
    narrow = compiled_quantized(name, 3, f"llvm -mcpu={cpu}")
    meta = json.loads((narrow / "model.json").read_text())
    assert any("int16 pair products" in l["strategy"] for l in meta["layers"]), meta["layers"]
    inputs = generate.make_inputs(onnx.load(str(quantized_paths[name])), SEEDS[0])
    want = kiln.load(str(host)).run(inputs)
    got = kiln.load(str(narrow)).run(inputs)
    assert sorted(got) == sorted(want)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)


def test_dynamic_quantization(kiln, tmp_path):
    """ONNX Runtime's quantize_dynamic: DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul.

    The integer parts are exact and the rest is the same float arithmetic, so the
    outputs meet the fp32 bar."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    onnx.save(generate.build("mlp"), tmp_path / "mlp.onnx")
    quantize_dynamic(tmp_path / "mlp.onnx", tmp_path / "mlp_dynamic.onnx", weight_type=QuantType.QInt8)
    path = tmp_path / "mlp_dynamic.onnx"
    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert {"DynamicQuantizeLinear", "MatMulInteger"} <= ops, ops
    check_compiled(compile_model(path, tmp_path / "out"), tmp_path / "out")
    m = kiln.load(str(tmp_path / "out"))
    sess = ort_float_semantics(path)
    for seed in SEEDS[:8]:
        x = generate.make_inputs(onnx.load(str(path)), seed)
        harness.assert_all_close(m.run(x), dict(zip([o.name for o in sess.get_outputs()], sess.run(None, x))))


# --- errors ---------------------------------------------------------------------------

def _qdq_model(tmp_path, w_scale=(0.1, 0.2), axis=0, x_zp=np.uint8(128)):
    """x -> Q -> DQ -> Conv(DQ(w)) -> out: a malformed variant per argument."""
    x_zp = np.asarray(x_zp)
    inits = [
        numpy_helper.from_array(np.array(0.05, np.float32), "x_scale"),
        numpy_helper.from_array(x_zp, "x_zp"),
        numpy_helper.from_array(np.ones((2, 3, 1, 1), np.int8), "w"),
        numpy_helper.from_array(np.array(w_scale, np.float32), "w_scale"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zp"], ["xq"], name="q_x"),
        helper.make_node("DequantizeLinear", ["xq", "x_scale", "x_zp"], ["xf"], name="dq_x"),
        helper.make_node("DequantizeLinear", ["w", "w_scale"], ["wf"], name="dq_w", axis=axis),
        helper.make_node("Conv", ["xf", "wf"], ["y"], name="conv"),
    ]
    g = helper.make_graph(nodes, "bad_qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    path = tmp_path / "bad.onnx"
    onnx.save(m, path)
    return path


@pytest.mark.parametrize("variant,expected", [
    ({"w_scale": (0.1, 0.0)}, ["DequantizeLinear 'dq_w'", "'w_scale' element 1 is 0"]),
    ({"axis": 1}, ["DequantizeLinear 'dq_w'", "has 2 values but axis 1", "does not match"]),
    ({"x_zp": np.float32(1.0)}, ["QuantizeLinear 'q_x'", "zero point"]),
])
def test_malformed_quantization_is_an_error_naming_the_node(kiln_bin, tmp_path, variant, expected):
    proc = compile_model(_qdq_model(tmp_path, **variant), tmp_path / "out")
    assert proc.returncode == 2, proc.stderr
    for text in expected:
        assert text in proc.stderr, proc.stderr
    assert not (tmp_path / "out" / "model.so").exists()


# --- residual blocks: the Add fuses into the conv's epilogue ----------------------------

def _residual_model(path, unfused: bool = False):
    """Two quantized residual blocks as ONNX Runtime's quantizer writes them (QDQ): an
    identity shortcut (conv 3x3 -> Relu -> Q -> DQ, + DQ(x) -> Relu -> Q) and a conv
    shortcut (two 1x1 convs, each -> Q -> DQ, added -> Q). kiln fuses each Add with its
    DequantizeLinears into a conv's epilogue; `unfused` also makes the Add inputs graph
    outputs, which keeps them in memory (the graph kiln ran before the fusion)."""
    rng = np.random.default_rng(7)
    inits, nodes = [], []

    def const(name, value):
        inits.append(numpy_helper.from_array(value, name))
        return name

    def qdq(src, name, scale, zp):
        """src -> QuantizeLinear -> DequantizeLinear: (the quantized, the dequantized) names."""
        const(f"{name}_s", np.array(scale, np.float32))
        const(f"{name}_z", np.array(zp, np.uint8))
        nodes.append(helper.make_node("QuantizeLinear", [src, f"{name}_s", f"{name}_z"], [f"{name}_q"]))
        nodes.append(helper.make_node("DequantizeLinear", [f"{name}_q", f"{name}_s", f"{name}_z"], [f"{name}_f"]))
        return f"{name}_f"

    def conv(src, name, cin, cout, k, x_scale):
        w_scale = rng.uniform(0.003, 0.005, cout).astype(np.float32)
        const(f"{name}_w", rng.integers(-64, 65, (cout, cin, k, k)).astype(np.int8))
        const(f"{name}_ws", w_scale)
        const(f"{name}_wz", np.zeros(cout, np.int8))
        const(f"{name}_b", rng.integers(-500, 500, cout).astype(np.int32))
        const(f"{name}_bs", (np.float32(x_scale) * w_scale).astype(np.float32))
        nodes.append(helper.make_node("DequantizeLinear", [f"{name}_w", f"{name}_ws", f"{name}_wz"], [f"{name}_wf"],
                                      axis=0))
        nodes.append(helper.make_node("DequantizeLinear", [f"{name}_b", f"{name}_bs"], [f"{name}_bf"], axis=0))
        nodes.append(helper.make_node("Conv", [src, f"{name}_wf", f"{name}_bf"], [f"{name}_y"], name=name,
                                      pads=[k // 2] * 4))
        return f"{name}_y"

    x = qdq("x", "x", 0.03, 128)
    nodes.append(helper.make_node("Relu", [conv(x, "a", 16, 16, 3, 0.03)], ["a_r"]))
    a = qdq("a_r", "a", 0.03, 0)
    nodes.append(helper.make_node("Add", [a, x], ["s1"]))
    nodes.append(helper.make_node("Relu", ["s1"], ["s1_r"]))
    r = qdq("s1_r", "r", 0.04, 0)
    m = qdq(conv(r, "m", 16, 32, 1, 0.04), "m", 0.02, 128)
    s = qdq(conv(r, "sc", 16, 32, 1, 0.04), "sc", 0.025, 120)
    nodes.append(helper.make_node("Add", [m, s], ["s2"]))
    out = qdq("s2", "out", 0.04, 128)
    outputs = [out] + ([x, a, m, s] if unfused else [])
    g = helper.make_graph(nodes, "residual_qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 8, 8])],
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
                          initializer=inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


@pytest.mark.parametrize("level, layout", [(1, "NCHW"), (2, "NCHW"), (3, "NCHW"), (4, "NCHW"), (3, "NHWC"),
                                           (4, "NHWC")])
def test_residual_add_fuses_into_the_conv_epilogue(kiln, tmp_path, level, layout):
    """The fused residual blocks give the unfused graph's outputs bit for bit (the same
    float32 arithmetic in the epilogue: the conv's requantized value, both
    dequantized values, the Add, the Relu, the QuantizeLinear) and stay within one
    quantization step of ONNX Runtime."""
    extra = ["--layout", layout] if layout == "NHWC" else []
    dirs = {}
    for unfused in (False, True):
        path = _residual_model(tmp_path / f"residual_{unfused}.onnx", unfused)
        dirs[unfused] = tmp_path / f"out_{unfused}"
        check_compiled(compile_model(path, dirs[unfused], level=level, extra=extra), dirs[unfused])
    layers = json.loads((dirs[False] / "model.json").read_text())["layers"]
    anchors = ["ConvInteger"] if level >= 2 else ["ConvInteger", "DequantizeLinear"]
    # The residual Add after the conv's Requantize (which dequantizes in place, the
    # other branch joining as a DequantizeLinear side input).
    fused = [l["ops"] for l in layers
             if "Requantize" in l["ops"] and {"Add", "DequantizeLinear"} <= set(l["ops"][l["ops"].index("Requantize"):])]
    assert len(fused) == 2 and all(ops[0] in anchors for ops in fused), [l["ops"] for l in layers]
    unfused_layers = json.loads((dirs[True] / "model.json").read_text())["layers"]
    assert not any(l["ops"].count("DequantizeLinear") >= 2 for l in unfused_layers), unfused_layers

    sess = ort_float_semantics(str(tmp_path / "residual_False.onnx"))
    got, want = kiln.load(str(dirs[False])), kiln.load(str(dirs[True]))
    within, total, worst = 0, 0, 0.0
    for seed in SEEDS[:8]:
        x = {"x": np.random.default_rng(seed).normal(0, 1, (1, 16, 8, 8)).astype(np.float32)}
        out = got.run(x)["out_f"]
        np.testing.assert_array_equal(out, want.run(x)["out_f"])
        d = np.abs(out.astype(np.float64) - sess.run(None, x)[0]) / 0.04
        within += int(np.count_nonzero(d <= 1.0 + 1e-3))
        total += d.size
        worst = max(worst, float(d.max()))
    assert within / total >= 0.99 and worst <= 2 + 1e-3, (within / total, worst)
