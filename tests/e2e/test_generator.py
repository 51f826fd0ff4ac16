"""models/generate.py: the test models are valid, deterministic and cover the listed ops."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

import generate
import harness
from harness import run_ort

ALL = [*generate.MODELS, *generate.EXTRA]


@pytest.mark.parametrize("name", ALL)
def test_model_is_valid_and_runs_in_onnxruntime(models_dir, name):
    path = models_dir / f"{name}.onnx" if name in generate.MODELS else harness.MODELS_DIR / "example.onnx"
    m = onnx.load(str(path))
    onnx.checker.check_model(m, full_check=True)
    assert m.ir_version == generate.IR_VERSION
    assert [(o.domain, o.version) for o in m.opset_import] == [("", generate.OPSET)]
    assert all(t.data_type == onnx.TensorProto.FLOAT for t in m.graph.initializer
               if t.dims and len(t.dims) > 1), "weights must be fp32"
    outs = run_ort(path, generate.make_inputs(m, 0))
    for k, v in outs.items():
        assert v.dtype == np.float32 and np.isfinite(v).all(), k
        # Realistic scale: neither exploding nor collapsed to a constant.
        assert 1e-3 < np.abs(v).max() < 100, (k, float(np.abs(v).max()))
        assert v.std() > 1e-4, k


def test_models_are_deterministic():
    for name in ALL:
        assert (generate.build(name).SerializeToString()
                == generate.build(name).SerializeToString()), name


def test_committed_example_is_current_and_small():
    path = harness.MODELS_DIR / "example.onnx"
    data = path.read_bytes()
    assert len(data) < 200_000
    assert data == generate.build("example").SerializeToString(), (
        "models/example.onnx is stale: python3 models/generate.py models --only example")


def test_inputs_are_seeded():
    m = generate.build("ops_net")
    a, b, c = (generate.make_inputs(m, s) for s in (3, 3, 4))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["x"], c["x"])
    assert a["ids"].dtype == np.int64 and a["ids"].min() >= 0 and a["ids"].max() < 16


def _ops(m):
    return {n.op_type for n in m.graph.node}


# The fp32 op set the foundation promises end to end on real models (the
# conformance suite covers a wider list op by op).
MODEL_OPS = frozenset("""
    Conv Gemm MatMul Add Sub Mul Div Pow Max Min Relu LeakyRelu Clip Sigmoid Tanh
    HardSigmoid HardSwish Exp Log Sqrt Neg Abs Erf MaxPool AveragePool GlobalAveragePool
    GlobalMaxPool BatchNormalization Flatten Reshape Transpose Concat Softmax Identity
    Constant Shape Gather Squeeze Unsqueeze Dropout
""".split())


def test_models_cover_the_listed_ops():
    covered = set().union(*(_ops(generate.build(n)) for n in generate.MODELS))
    missing = sorted(MODEL_OPS - covered)
    assert not missing, f"no generator model uses {missing}"


def test_resnet18_topology():
    m = generate.build("resnet18_like")
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    # 1 stem + 8 blocks x 2 + 3 downsample projections = 20 (torchvision's resnet18).
    assert len(convs) == 20
    assert sum(n.op_type == "Add" for n in m.graph.node) == 8
    stem = {a.name: onnx.helper.get_attribute_value(a) for a in convs[0].attribute}
    assert stem["kernel_shape"] == [7, 7] and stem["strides"] == [2, 2]
    big = generate.build("resnet18_like", size=224)
    assert [d.dim_value for d in big.graph.input[0].type.tensor_type.shape.dim] == [1, 3, 224, 224]


def test_mobilenetv2_blocks():
    m = generate.build("mobilenetv2_like")
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    depthwise = [n for n in convs
                 if onnx.helper.get_attribute_value(
                     next(a for a in n.attribute if a.name == "group")) > 1]
    assert len(depthwise) == 17  # one per inverted residual block
    clips = [n for n in m.graph.node if n.op_type == "Clip"]
    assert clips and all(len(n.input) == 3 and not n.attribute for n in clips)  # opset-11+ form
    assert sum(n.op_type == "Add" for n in m.graph.node) == 10  # residual connections
