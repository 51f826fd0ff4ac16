"""kiln.compile from Python: an onnx.ModelProto or a path in, a loadable model
out; option strings go through the compiler's parsers; errors are KilnError.
Skipped while kiln._compiler is not loadable (the compiler is not linked)."""

import numpy as np
import pytest

import kiln

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def compiler_available():
    try:
        from kiln import _compiler  # noqa: F401
    except ImportError as e:
        pytest.fail(f"kiln._compiler not loadable: {e}")


def relu_add_model(shape=(2, 8)):
    """y = relu(x) + x, with the first dimension optionally symbolic."""
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Add", ["r", "x"], ["y"])]
    graph = helper.make_graph(nodes, "relu_add",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(shape))])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_compile_model_proto_and_run(tmp_path):
    out = kiln.compile(relu_add_model(), tmp_path / "m")
    assert out == str(tmp_path / "m")
    m = kiln.load(tmp_path / "m")
    x = np.random.default_rng(0).standard_normal((2, 8)).astype(np.float32)
    np.testing.assert_allclose(m(x), np.maximum(x, 0) + x, rtol=1e-6, atol=1e-6)


def test_compile_path_with_options(tmp_path):
    path = tmp_path / "model.onnx"
    onnx.save(relu_add_model(("batch", 8)), path)
    kiln.compile(path, tmp_path / "m", optimization=["category:kernel,level:2"],
                 input_shapes={"x": (3, 8)})
    m = kiln.load(tmp_path / "m")
    assert m.inputs[0].shape == (3, 8)
    kiln.compile(str(path), tmp_path / "m2", optimization="category:kernel,level:1",
                 input_shapes="x:4x8")
    assert kiln.load(tmp_path / "m2").inputs[0].shape == (4, 8)


def test_compile_errors_are_kiln_errors(tmp_path):
    with pytest.raises(kiln.KilnError, match="level"):
        kiln.compile(relu_add_model(), tmp_path / "bad", optimization=["category:kernel,level:9"])
    with pytest.raises(kiln.KilnError):
        kiln.compile(tmp_path / "missing.onnx", tmp_path / "out")
    with pytest.raises(kiln.KilnError, match="path or an onnx.ModelProto"):
        kiln.compile(42, tmp_path / "out")
    with pytest.raises(kiln.KilnError, match="input_shapes"):
        kiln.compile(relu_add_model(), tmp_path / "out", input_shapes={"x": "abc"})


def tile_model():
    """y = Tile(x, repeats) with repeats a graph input."""
    graph = helper.make_graph([helper.make_node("Tile", ["x", "repeats"], ["y"])], "tile",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
                               helper.make_tensor_value_info("repeats", TensorProto.INT64, [2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def test_compile_with_constant_inputs(tmp_path):
    kiln.compile(tile_model(), tmp_path / "m", constant_inputs={"repeats": np.array([2, 1], np.int64)})
    m = kiln.load(tmp_path / "m")
    assert [i.name for i in m.inputs] == ["x"]
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(m(x), np.tile(x, (2, 1)))


def test_constant_input_scalar(tmp_path):
    """A 0-d array freezes a scalar input (CumSum's axis)."""
    graph = helper.make_graph([helper.make_node("CumSum", ["x", "axis"], ["y"])], "cumsum",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
                               helper.make_tensor_value_info("axis", TensorProto.INT64, [])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    kiln.compile(model, tmp_path / "m", constant_inputs={"axis": np.array(1, np.int64)})
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(kiln.load(tmp_path / "m")(x), np.cumsum(x, axis=1))


def test_constant_inputs_errors(tmp_path):
    with pytest.raises(kiln.KilnError, match="'repeats' is int32 but the model's input is int64"):
        kiln.compile(tile_model(), tmp_path / "a", constant_inputs={"repeats": np.array([2, 1], np.int32)})
    with pytest.raises(kiln.KilnError, match="'reps', which is not an input"):
        kiln.compile(tile_model(), tmp_path / "b", constant_inputs={"reps": np.array([2, 1], np.int64)})
    with pytest.raises(kiln.KilnError, match="dtype complex64"):
        kiln.compile(tile_model(), tmp_path / "c", constant_inputs={"repeats": np.zeros(2, np.complex64)})


def conv_relu_model(w):
    """y = relu(conv3x3(x, w, pad 1)) on a 1x4x6x7 image."""
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["y"])]
    graph = helper.make_graph(nodes, "conv_relu",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6, 7])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, w.shape[0], 6, 7])],
                              [onnx.numpy_helper.from_array(w, "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_compile_layout_nhwc(tmp_path):
    """layout="NHWC": the conv computes in NHWC, the model keeps its NCHW input and output."""
    import json

    rng = np.random.default_rng(3)
    w = rng.standard_normal((5, 4, 3, 3)).astype(np.float32)
    x = rng.standard_normal((1, 4, 6, 7)).astype(np.float32)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    want = np.zeros((1, 5, 6, 7), np.float64)
    for kh in range(3):
        for kw in range(3):
            want += np.einsum("oc,nchw->nohw", w[:, :, kh, kw], xp[:, :, kh:kh + 6, kw:kw + 7])
    want = np.maximum(want, 0)
    kiln.compile(conv_relu_model(w), tmp_path / "m", layout="NHWC")
    m = kiln.load(tmp_path / "m")
    assert m.inputs[0].shape == (1, 4, 6, 7) and m.outputs[0].shape == (1, 5, 6, 7)
    np.testing.assert_allclose(m(x), want, rtol=1e-4, atol=1e-4)
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["options"]["layout"] == "NHWC"
    assert any(layer.get("layout") == "NHWC" for layer in meta["layers"])
    with pytest.raises(kiln.KilnError, match="needs kernel level 3 or 4"):
        kiln.compile(conv_relu_model(w), tmp_path / "bad", layout="NHWC", optimization="category:kernel,level:2")
    with pytest.raises(kiln.KilnError, match="not one of NCHW, NHWC"):
        kiln.compile(conv_relu_model(w), tmp_path / "bad2", layout="NWHC")
