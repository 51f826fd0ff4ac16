"""Constant folding reaches a fixpoint on the shape arithmetic that exporters emit.

A BERT-style self-attention block written the way torch.onnx exports HuggingFace
models: the head split's Reshape targets and the mask's Expand shape are computed
from Shape -> Gather -> Unsqueeze -> Concat (with torch's ConstantOfShape/Mul/
Equal/Where guard of expand), the score scale is 1/sqrt(float(head_size)) of a
Cast shape value, position ids are a Range over a Gathered sequence length, and the
attention mask becomes an additive bias both ways HuggingFace writes it:
(1 - float(mask)) * -10000 and Where(mask == 0, -10000, 0). kiln must fold all of
that while reading the model (the graph's shapes are static) and match ONNX Runtime
with a runtime mask that pads some positions.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness import assert_close, check_compiled, compile_model, run_npy, run_ort

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

B, S, HIDDEN, HEADS = 2, 5, 8, 2


def _i64(name, values):
    return numpy_helper.from_array(np.array(values, np.int64), name)


def _f32(name, values):
    return numpy_helper.from_array(np.array(values, np.float32), name)


def hf_attention_model(path):
    rng = np.random.default_rng(7)
    inits = [
        _i64("zero", 0), _i64("one", 1), _i64("axes0", [0]), _i64("axes1", [1]), _i64("axes2", [2]),
        _i64("heads", [HEADS]), _i64("heads_scalar", HEADS), _i64("minus_one", -1), _i64("four", [4]),
        _f32("one_f", 1.0), _f32("neg_big", -10000.0), _f32("zero_f", 0.0),
        _f32("pos_table", rng.standard_normal((16, HIDDEN)).astype(np.float32)),
    ] + [_f32(f"w{n}", rng.standard_normal((HIDDEN, HIDDEN)).astype(np.float32) / 3) for n in "qkv"]
    n = helper.make_node
    nodes = [
        # Sizes from the input's shape (torch: x.size(0), x.size(1), x.size(-1)).
        n("Shape", ["x"], ["xs"]),
        n("Gather", ["xs", "zero"], ["batch"], axis=0),
        n("Gather", ["xs", "one"], ["seq"], axis=0),
        n("Gather", ["xs", "minus_one"], ["hidden"], axis=0),
        n("Unsqueeze", ["batch", "axes0"], ["batch1"]),
        n("Unsqueeze", ["seq", "axes0"], ["seq1"]),
        n("Div", ["hidden", "heads_scalar"], ["head_size"]),
        n("Unsqueeze", ["head_size", "axes0"], ["head_size1"]),
        # position_ids = arange(seq).unsqueeze(0).expand(batch, seq); x += table[position_ids].
        n("Range", ["zero", "seq", "one"], ["positions"]),
        n("Unsqueeze", ["positions", "axes0"], ["positions2"]),
        n("Concat", ["batch1", "seq1"], ["pos_shape"], axis=0),
        n("Expand", ["positions2", "pos_shape"], ["position_ids"]),
        n("Gather", ["pos_table", "position_ids"], ["pos_emb"], axis=0),
        n("Add", ["x", "pos_emb"], ["h"]),
        # Heads: Reshape to (batch, seq, heads, head_size), then (batch, heads, seq, head_size).
        n("Concat", ["batch1", "seq1", "heads", "head_size1"], ["split_shape"], axis=0),
    ]
    for name in "qkv":
        nodes += [
            n("MatMul", ["h", f"w{name}"], [f"{name}_lin"]),
            n("Reshape", [f"{name}_lin", "split_shape"], [f"{name}_split"]),
            n("Transpose", [f"{name}_split"], [f"{name}_heads"],
              perm=[0, 2, 3, 1] if name == "k" else [0, 2, 1, 3]),
        ]
    nodes += [
        # scores / sqrt(float(head_size))
        n("MatMul", ["q_heads", "k_heads"], ["scores"]),
        n("Cast", ["head_size"], ["head_size_f"], to=TensorProto.FLOAT),
        n("Sqrt", ["head_size_f"], ["scale"]),
        n("Div", ["scores", "scale"], ["scaled"]),
        # get_extended_attention_mask: (1.0 - mask[:, None, None, :]) * -10000.0
        n("Unsqueeze", ["mask", "axes1"], ["mask3"]),
        n("Unsqueeze", ["mask3", "axes2"], ["mask4"]),
        n("Cast", ["mask4"], ["mask_f"], to=TensorProto.FLOAT),
        n("Sub", ["one_f", "mask_f"], ["inverted"]),
        n("Mul", ["inverted", "neg_big"], ["bias_old"]),
        # Newer HuggingFace: where(mask == 0, min, 0), expanded to (batch, heads, seq, seq)
        # through torch's expand guard: Where(shape == -1, 1, shape).
        n("Equal", ["mask4", "zero"], ["masked"]),
        n("Where", ["masked", "neg_big", "zero_f"], ["bias_new"]),
        n("Concat", ["batch1", "heads", "seq1", "seq1"], ["bias_shape"], axis=0),
        n("ConstantOfShape", ["four"], ["ones4"], value=helper.make_tensor("v", TensorProto.INT64, [1], [1])),
        n("Mul", ["ones4", "minus_one"], ["neg_ones4"]),
        n("Equal", ["bias_shape", "neg_ones4"], ["is_neg"]),
        n("Where", ["is_neg", "ones4", "bias_shape"], ["guarded_shape"]),
        n("Expand", ["bias_new", "guarded_shape"], ["bias_full"]),
        n("Add", ["scaled", "bias_old"], ["biased_old"]),
        n("Add", ["biased_old", "bias_full"], ["biased"]),
        n("Softmax", ["biased"], ["probs"], axis=-1),
        n("MatMul", ["probs", "v_heads"], ["ctx_heads"]),
        n("Transpose", ["ctx_heads"], ["ctx"], perm=[0, 2, 1, 3]),
        n("Unsqueeze", ["hidden", "axes0"], ["hidden1"]),
        n("Concat", ["batch1", "seq1", "hidden1"], ["merge_shape"], axis=0),
        n("Reshape", ["ctx", "merge_shape"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "hf_attention",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [B, S, HIDDEN]),
         helper.make_tensor_value_info("mask", TensorProto.INT64, [B, S])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [B, S, HIDDEN])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def test_hf_attention_mask_shape_arithmetic_folds_and_matches_ort(tmp_path):
    model = hf_attention_model(tmp_path / "m.onnx")
    out = tmp_path / "out"
    check_compiled(compile_model(model, out), out)
    meta = json.loads((out / "model.json").read_text())
    assert [i["name"] for i in meta["inputs"]] == ["x", "mask"], meta["inputs"]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((B, S, HIDDEN)).astype(np.float32)
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], np.int64)
    run, outs = run_npy(out, {"x": x, "mask": mask}, tmp_path / "run")
    assert run.returncode == 0, run.stderr
    assert_close(outs["y"], run_ort(model, {"x": x, "mask": mask})["y"], "y")
