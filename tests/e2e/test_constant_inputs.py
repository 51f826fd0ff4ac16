"""`kiln compile --constant_input NAME=FILE.npy`: shape-controlling graph inputs
(here TopK's K and ReduceSum's axes) frozen to constants. The compiled model no
longer has those inputs and matches ONNX Runtime fed the same values; a wrong
name, dtype or shape is exit status 2 naming the input.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness import check_compiled, compile_model, run_npy, run_ort

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402


def topk_reduce_model(path):
    """values, _ = TopK(x, k); y = ReduceSum(values, axes)."""
    nodes = [helper.make_node("TopK", ["x", "k"], ["values", "indices"], axis=1),
             helper.make_node("ReduceSum", ["values", "axes"], ["y"], keepdims=1)]
    graph = helper.make_graph(
        nodes, "topk_reduce",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 8]),
         helper.make_tensor_value_info("k", TensorProto.INT64, [1]),
         helper.make_tensor_value_info("axes", TensorProto.INT64, ["n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def _save(tmp_path, name, arr):
    f = tmp_path / f"{name}.npy"
    np.save(f, arr)
    return f


def test_frozen_inputs_compile_and_match_ort(tmp_path):
    model = topk_reduce_model(tmp_path / "m.onnx")
    k, axes = np.array([3], np.int64), np.array([1], np.int64)
    out = tmp_path / "out"
    proc = compile_model(model, out, extra=["--constant_input", f"k={_save(tmp_path, 'k', k)}",
                                            f"--constant_input=axes={_save(tmp_path, 'axes', axes)}"])
    check_compiled(proc, out)
    meta = json.loads((out / "model.json").read_text())
    assert [i["name"] for i in meta["inputs"]] == ["x"], meta["inputs"]
    x = np.random.default_rng(0).standard_normal((3, 8)).astype(np.float32)
    run, outs = run_npy(out, {"x": x}, tmp_path / "run")
    assert run.returncode == 0, run.stderr
    ref = run_ort(model, {"x": x, "k": k, "axes": axes})
    np.testing.assert_allclose(outs["y"], ref["y"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name, arr, message", [
    ("kk", np.array([3], np.int64), "--constant_input names 'kk', which is not an input of the model"),
    ("k", np.array([3], np.int32), "--constant_input 'k' is int32 but the model's input is int64"),
    ("k", np.array([[3]], np.int64), "--constant_input 'k' has shape 1x1 but the model's input has shape 1"),
])
def test_bad_constant_input_is_usage_error(tmp_path, name, arr, message):
    model = topk_reduce_model(tmp_path / "m.onnx")
    proc = compile_model(model, tmp_path / "out",
                         extra=["--constant_input", f"{name}={_save(tmp_path, 'c', arr)}"])
    assert proc.returncode == 2, proc.stderr + proc.stdout
    assert message in proc.stderr, proc.stderr
    assert not (tmp_path / "out" / "model.so").exists()
