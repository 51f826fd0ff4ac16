#!/usr/bin/env python3
"""kiln's test model set, built with onnx.helper from seeded random weights.

    python3 models/generate.py OUT_DIR [--only NAME ...] [--families] [--size N]

writes OUT_DIR/<name>.onnx for every model in MODELS (fp32, opset 17, IR 8; each
passes onnx.checker); --families (or --only NAME) adds the real model families in
FAMILIES (BERT, ViT, EfficientNet, U-Net, YOLO neck; bert_like_gelu is opset 20, IR 9);
--quantized (or --only NAME) adds the quantized models in QUANTIZED: QDQ versions of mlp,
small_cnn, resnet18_like and mobilenetv2_like and one QOperator model, made by ONNX
Runtime's quantizer (weights per-channel int8, activations per-tensor uint8 calibrated
on seeded inputs).
Nothing here is downloaded and no model is committed except the small README example
(models/example.onnx), so the same script regenerates the whole set bit for bit.
`make_inputs(model, seed)` gives seeded inputs for any of them (and for any
static-shaped model).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8
# metadata_props key giving the [lo, hi) range make_inputs draws an integer input from.
INT_RANGE_KEY = "kiln.input_range."


class GraphBuilder:
    """Accumulates nodes and seeded initializers; names every node and value uniquely."""

    def __init__(self, seed: int):
        self.rs = np.random.RandomState(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.counts: dict[str, int] = {}

    def name(self, prefix: str) -> str:
        n = self.counts.get(prefix, 0)
        self.counts[prefix] = n + 1
        return f"{prefix}_{n}"

    def const(self, array: np.ndarray, prefix: str = "w") -> str:
        name = self.name(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type: str, inputs: list[str], n_out: int = 1, **attrs):
        node_name = self.name(op_type.lower())
        outs = [f"{node_name}_out{i}" if n_out > 1 else f"{node_name}_out" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=node_name, **attrs))
        return outs[0] if n_out == 1 else outs

    # --- layers with realistic weights -------------------------------------------------

    def conv(self, x: str, cin: int, cout: int, k: int, stride: int = 1, pad: int | None = None,
             group: int = 1, bias: bool = True) -> str:
        pad = k // 2 if pad is None else pad
        fan_in = (cin // group) * k * k
        w = (self.rs.standard_normal((cout, cin // group, k, k)) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        ins = [x, self.const(w, "conv_w")]
        if bias:
            ins.append(self.const((self.rs.standard_normal(cout) * 0.05).astype(np.float32), "conv_b"))
        return self.op("Conv", ins, kernel_shape=[k, k], strides=[stride, stride],
                       pads=[pad] * 4, group=group, dilations=[1, 1])

    def bn(self, x: str, c: int, gamma_scale: float = 1.0) -> str:
        rs = self.rs
        gamma = (rs.uniform(0.5, 1.2, c) * gamma_scale).astype(np.float32)
        beta = (rs.standard_normal(c) * 0.1).astype(np.float32)
        mean = (rs.standard_normal(c) * 0.2).astype(np.float32)
        var = rs.uniform(0.5, 2.0, c).astype(np.float32)
        return self.op("BatchNormalization",
                       [x, self.const(gamma, "bn_scale"), self.const(beta, "bn_bias"),
                        self.const(mean, "bn_mean"), self.const(var, "bn_var")],
                       epsilon=1e-5, momentum=0.9)

    def gemm(self, x: str, cin: int, cout: int) -> str:
        """A classifier/FC layer in the torch export form: Gemm(x, W^T) with transB=1."""
        w = (self.rs.standard_normal((cout, cin)) * np.sqrt(1.0 / cin)).astype(np.float32)
        b = (self.rs.standard_normal(cout) * 0.05).astype(np.float32)
        return self.op("Gemm", [x, self.const(w, "fc_w"), self.const(b, "fc_b")],
                       alpha=1.0, beta=1.0, transB=1)

    def relu6(self, x: str) -> str:
        # Clip in its opset-11+ form: min and max are inputs, not attributes.
        lo = self.const(np.array(0.0, np.float32), "clip_min")
        hi = self.const(np.array(6.0, np.float32), "clip_max")
        return self.op("Clip", [x, lo, hi])

    def model(self, name: str, inputs, outputs, doc: str, metadata: dict | None = None,
              opset: int = OPSET) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, name, inputs, outputs, initializer=self.inits)
        m = helper.make_model(graph, producer_name="kiln-models", doc_string=doc,
                              opset_imports=[helper.make_opsetid("", opset)])
        # Opsets 19 and 20 came with IR version 9.
        m.ir_version = IR_VERSION if opset <= 18 else 9
        for k, v in (metadata or {}).items():
            m.metadata_props.add(key=k, value=v)
        onnx.checker.check_model(m, full_check=True)
        return m


def _in(name: str, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, list(shape))


def _out(name: str, dtype=TensorProto.FLOAT, shape=None):
    return helper.make_tensor_value_info(name, dtype, shape)


def _rename_output(b: GraphBuilder, value: str, new: str) -> str:
    """Gives the last node's output a readable graph-output name."""
    node = b.nodes[-1]
    assert node.output[0] == value
    node.output[0] = new
    return new


# --- the models -----------------------------------------------------------------------

def build_mlp(seed: int = 1, batch: int = 4) -> onnx.ModelProto:
    """Gemm(transB)+Relu, MatMul+Add+Relu, Gemm, Softmax: a 256-128-64-10 classifier."""
    b = GraphBuilder(seed)
    h = b.op("Relu", [b.gemm("x", 256, 128)])
    w2 = (b.rs.standard_normal((128, 64)) * np.sqrt(2.0 / 128)).astype(np.float32)
    h = b.op("MatMul", [h, b.const(w2, "mm_w")])
    h = b.op("Add", [h, b.const((b.rs.standard_normal(64) * 0.05).astype(np.float32), "mm_b")])
    h = b.op("Relu", [h])
    logits = b.gemm(h, 64, 10)
    y = _rename_output(b, b.op("Softmax", [logits], axis=-1), "probs")
    return b.model("mlp", [_in("x", [batch, 256])], [_out(y, shape=[batch, 10])],
                   "MLP: Gemm(transB)+Relu, MatMul+Add, Softmax")


def build_small_cnn(seed: int = 2, size: int = 32, classes: int = 10) -> onnx.ModelProto:
    """Conv+BN+Relu, MaxPool, strided padded Conv, AveragePool, GAP, Flatten, Gemm."""
    b = GraphBuilder(seed)
    h = b.op("Relu", [b.bn(b.conv("x", 3, 16, 3, bias=False), 16)])
    h = b.op("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])
    h = b.op("Relu", [b.conv(h, 16, 32, 3, stride=2, pad=1)])
    h = b.op("AveragePool", [h], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1],
             count_include_pad=0)
    h = b.op("Relu", [b.bn(b.conv(h, 32, 32, 3), 32)])
    h = b.op("GlobalAveragePool", [h])
    h = b.op("Flatten", [h], axis=1)
    y = _rename_output(b, b.gemm(h, 32, classes), "logits")
    return b.model("small_cnn", [_in("x", [1, 3, size, size])], [_out(y, shape=[1, classes])],
                   "small CNN classifier")


def build_resnet18_like(seed: int = 3, size: int = 64) -> onnx.ModelProto:
    """The ResNet-18 topology (torchvision's, BN unfused) with He-initialized weights."""
    b = GraphBuilder(seed)
    h = b.op("Relu", [b.bn(b.conv("input", 3, 64, 7, stride=2, pad=3, bias=False), 64)])
    h = b.op("MaxPool", [h], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 64
    for stage, cout in enumerate([64, 128, 256, 512]):
        for block in range(2):
            stride = 2 if (stage > 0 and block == 0) else 1
            r = b.op("Relu", [b.bn(b.conv(h, cin, cout, 3, stride=stride, bias=False), cout)])
            # The last BN of a residual branch starts small, as in zero-init-residual
            # training, so that activations stay O(1) through eight blocks.
            r = b.bn(b.conv(r, cout, cout, 3, bias=False), cout, gamma_scale=0.3)
            if stride != 1 or cin != cout:
                skip = b.bn(b.conv(h, cin, cout, 1, stride=stride, pad=0, bias=False), cout)
            else:
                skip = h
            h = b.op("Relu", [b.op("Add", [r, skip])])
            cin = cout
    h = b.op("Flatten", [b.op("GlobalAveragePool", [h])], axis=1)
    y = _rename_output(b, b.gemm(h, 512, 1000), "logits")
    return b.model("resnet18_like", [_in("input", [1, 3, size, size])], [_out(y, shape=[1, 1000])],
                   f"ResNet-18 topology, {size}x{size} input")


def _make_divisible(v: float, divisor: int = 8) -> int:
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def build_mobilenetv2_like(seed: int = 4, size: int = 64, width: float = 0.35,
                           classes: int = 1000) -> onnx.ModelProto:
    """MobileNetV2 (torchvision's block table) with a width multiplier."""
    b = GraphBuilder(seed)
    cin = _make_divisible(32 * width)
    h = b.relu6(b.bn(b.conv("input", 3, cin, 3, stride=2, bias=False), cin))
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    for t, c, n, s in settings:
        cout = _make_divisible(c * width)
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = cin * t
            r = h
            if t != 1:
                r = b.relu6(b.bn(b.conv(r, cin, hidden, 1, pad=0, bias=False), hidden))
            r = b.relu6(b.bn(b.conv(r, hidden, hidden, 3, stride=stride, group=hidden, bias=False),
                             hidden))
            r = b.bn(b.conv(r, hidden, cout, 1, pad=0, bias=False), cout, gamma_scale=0.5)
            h = b.op("Add", [h, r]) if (stride == 1 and cin == cout) else r
            cin = cout
    last = _make_divisible(1280 * max(1.0, width))
    h = b.relu6(b.bn(b.conv(h, cin, last, 1, pad=0, bias=False), last))
    h = b.op("Flatten", [b.op("GlobalAveragePool", [h])], axis=1)
    y = _rename_output(b, b.gemm(h, last, classes), "logits")
    return b.model("mobilenetv2_like", [_in("input", [1, 3, size, size])],
                   [_out(y, shape=[1, classes])],
                   f"MobileNetV2 blocks, width {width}, {size}x{size} input")


def build_shape_net(seed: int = 5, size: int = 16) -> onnx.ModelProto:
    """What torch.onnx.export writes for `x.view(x.size(0), -1)`, plus HardSwish gating."""
    b = GraphBuilder(seed)
    c = b.conv("x", 3, 8, 3)
    shape = b.op("Shape", [c])
    n = b.op("Gather", [shape, b.const(np.array(0, np.int64), "idx")], axis=0)
    n1 = b.op("Unsqueeze", [n, b.const(np.array([0], np.int64), "axes")])
    target = b.op("Concat", [n1, b.const(np.array([-1], np.int64), "minus_one")], axis=0)
    gate = b.op("Mul", [b.op("HardSwish", [c]), b.op("Sigmoid", [c])])
    flat = b.op("Reshape", [c, target])
    t = b.op("Transpose", [gate], perm=[0, 2, 3, 1])
    t_flat = b.op("Reshape", [t, target])
    y = _rename_output(b, b.op("Concat", [flat, t_flat], axis=1), "features")
    return b.model("shape_net", [_in("x", [2, 3, size, size])],
                   [_out(y, shape=[2, 2 * 8 * size * size])],
                   "torch-style Shape->Gather->Unsqueeze->Concat->Reshape")


def build_ops_net(seed: int = 6) -> onnx.ModelProto:
    """One small graph touching every remaining listed op; two outputs, an int64 input."""
    b = GraphBuilder(seed)
    x, ids = "x", "ids"
    one = b.op("Constant", [], value=numpy_helper.from_array(np.array(1.0, np.float32), "one"))
    ax = b.op("Abs", [x])
    lrelu = b.op("LeakyRelu", [x], alpha=0.1)
    th = b.op("Tanh", [lrelu])
    hsig = b.op("HardSigmoid", [x], alpha=0.2, beta=0.5)
    clipped = b.op("Clip", [x, b.const(np.array(-3.0, np.float32), "lo"),
                            b.const(np.array(3.0, np.float32), "hi")])
    ex = b.op("Exp", [clipped])
    lg = b.op("Log", [b.op("Add", [ax, one])])          # log of a positive value
    sq = b.op("Sqrt", [ax])                              # sqrt of |x|
    ng = b.op("Neg", [sq])
    er = b.op("Erf", [x])
    pw = b.op("Pow", [b.op("Add", [ax, b.const(np.array(0.5, np.float32), "half")]),
                      b.const(np.array(1.5, np.float32), "exponent")])
    dv = b.op("Div", [th, b.op("Add", [sq, one])])
    sb = b.op("Sub", [hsig, dv])
    mx = b.op("Max", [sb, er, ng])
    mn = b.op("Min", [lg, pw, ex])
    elem = b.op("Add", [b.op("Mul", [mx, mn]), b.op("Identity", [th])])
    elem = _rename_output(b, b.op("Dropout", [elem]), "elementwise")
    pooled = b.op("GlobalMaxPool", [elem])                                   # [2,8,1,1]
    pooled = b.op("Squeeze", [pooled, b.const(np.array([2, 3], np.int64), "axes")])  # [2,8]
    table = (b.rs.standard_normal((16, 8)) * 0.5).astype(np.float32)
    emb = b.op("Gather", [b.const(table, "embedding"), ids], axis=0)        # [3,8]
    emb = b.op("Unsqueeze", [emb, b.const(np.array([0], np.int64), "axes")])   # [1,3,8]
    emb = b.op("Squeeze", [emb, b.const(np.array([0], np.int64), "axes")])     # [3,8]
    y = _rename_output(b, b.op("Concat", [pooled, emb], axis=0), "rows")     # [5,8]
    return b.model("ops_net", [_in(x, [2, 8, 5, 5]), _in(ids, [3], TensorProto.INT64)],
                   [_out("elementwise", shape=[2, 8, 5, 5]), _out(y, shape=[5, 8])],
                   "elementwise, pooling, shape and gather ops in one graph",
                   metadata={INT_RANGE_KEY + ids: "0,16"})


def build_example(seed: int = 7) -> onnx.ModelProto:
    """The README's example: a tiny CNN classifier on 1x3x32x32 (committed, < 200 KB)."""
    b = GraphBuilder(seed)
    h = b.op("Relu", [b.conv("input", 3, 16, 3)])
    h = b.op("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])
    h = b.op("Relu", [b.bn(b.conv(h, 16, 32, 3, bias=False), 32)])
    h = b.op("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])
    h = b.op("Relu", [b.conv(h, 32, 64, 3)])
    h = b.op("Flatten", [b.op("GlobalAveragePool", [h])], axis=1)
    y = _rename_output(b, b.op("Softmax", [b.gemm(h, 64, 10)], axis=1), "probabilities")
    return b.model("example", [_in("input", [1, 3, 32, 32])], [_out(y, shape=[1, 10])],
                   "kiln README example: tiny CNN classifier")


# --- real model families (transformers, detectors, segmentation) ----------------------
# Small but structurally faithful: each reproduces the op pattern its exporter
# (torch.onnx / HuggingFace / timm / YOLOv5) writes. Not in MODELS: they have their
# own end-to-end test (tests/e2e/test_model_families.py), and bert_like_gelu needs
# opset 20.

def _i64(values) -> np.ndarray:
    return np.asarray(values, np.int64)


def _linear(b: GraphBuilder, x: str, cin: int, cout: int, prefix: str = "lin") -> str:
    """torch nn.Linear on a [.., cin] activation: MatMul(x, W^T stored [cin, cout]) + Add."""
    w = (b.rs.standard_normal((cin, cout)) * np.sqrt(1.0 / cin)).astype(np.float32)
    bias = (b.rs.standard_normal(cout) * 0.02).astype(np.float32)
    y = b.op("MatMul", [x, b.const(w, prefix + "_w")])
    return b.op("Add", [y, b.const(bias, prefix + "_b")])


def _layer_norm(b: GraphBuilder, x: str, d: int, eps: float) -> str:
    gamma = (1.0 + b.rs.standard_normal(d) * 0.1).astype(np.float32)
    beta = (b.rs.standard_normal(d) * 0.05).astype(np.float32)
    return b.op("LayerNormalization", [x, b.const(gamma, "ln_scale"), b.const(beta, "ln_bias")],
                axis=-1, epsilon=eps)


def _gelu_erf(b: GraphBuilder, x: str) -> str:
    """What torch exports for nn.GELU() below opset 20: x * 0.5 * (1 + erf(x / sqrt(2)))."""
    e = b.op("Erf", [b.op("Div", [x, b.const(np.array(np.sqrt(2.0), np.float32), "sqrt2")])])
    one_plus = b.op("Add", [e, b.const(np.array(1.0, np.float32), "one")])
    return b.op("Mul", [b.op("Mul", [x, one_plus]), b.const(np.array(0.5, np.float32), "half")])


def _silu(b: GraphBuilder, x: str) -> str:
    return b.op("Mul", [x, b.op("Sigmoid", [x])])


def _bert_mask_classic(b: GraphBuilder, mask: str) -> str:
    """HF BERT's extended mask: (1 - mask[:, None, None, :].float()) * -10000, added to scores."""
    m = b.op("Unsqueeze", [mask, b.const(_i64([1, 2]), "axes")])
    m = b.op("Cast", [m], to=TensorProto.FLOAT)
    m = b.op("Sub", [b.const(np.array(1.0, np.float32), "one"), m])
    return b.op("Mul", [m, b.const(np.array(-10000.0, np.float32), "mask_neg")])


def build_bert_like(seed: int = 11, gelu_op: bool = False, seq: int = 16, hidden: int = 64,
                    heads: int = 4, layers: int = 2, vocab: int = 100, ffn: int = 256
                    ) -> onnx.ModelProto:
    """A BERT encoder as HuggingFace exports it: embeddings, 2 attention layers, pooler.

    Layer 0 masks with the classic additive (1-mask)*-10000; layer 1 with the
    Equal/Expand/Where form of newer exports. The FFN's GELU is the Erf pattern
    (opset 17), or with gelu_op the Gelu op (opset 20; exact in layer 0, tanh in 1)."""
    b = GraphBuilder(seed)
    rs = b.rs
    dh = hidden // heads
    word = b.const((rs.standard_normal((vocab, hidden)) * 0.5).astype(np.float32), "word_emb")
    pos_table = b.const((rs.standard_normal((seq, hidden)) * 0.2).astype(np.float32), "pos_emb")
    type_table = b.const((rs.standard_normal((2, hidden)) * 0.2).astype(np.float32), "type_emb")
    # position_ids and token_type_ids are registered buffers in HF: initializers here.
    pos_ids = b.const(_i64(np.arange(seq)[None, :]), "position_ids")
    type_ids = b.const(np.zeros((1, seq), np.int64), "token_type_ids")
    e = b.op("Add", [b.op("Gather", [word, "input_ids"], axis=0),
                     b.op("Gather", [type_table, type_ids], axis=0)])
    e = b.op("Add", [e, b.op("Gather", [pos_table, pos_ids], axis=0)])
    h = _layer_norm(b, e, hidden, 1e-12)

    additive = _bert_mask_classic(b, "attention_mask")                      # [1,1,1,S]
    is_pad = b.op("Unsqueeze", ["attention_mask", b.const(_i64([1, 2]), "axes")])
    is_pad = b.op("Equal", [is_pad, b.const(np.array(0, np.int64), "zero")])  # [1,1,1,S] bool
    is_pad = b.op("Expand", [is_pad, b.const(_i64([1, heads, seq, seq]), "mask_shape")])
    neg_min = b.const(np.array(np.finfo(np.float32).min, np.float32), "neg_min")
    heads_shape = b.const(_i64([0, 0, heads, dh]), "heads_shape")
    merge_shape = b.const(_i64([0, 0, hidden]), "merge_shape")
    scale = b.const(np.array(np.sqrt(dh), np.float32), "sqrt_dh")

    for layer in range(layers):
        q = b.op("Transpose", [b.op("Reshape", [_linear(b, h, hidden, hidden, "q"), heads_shape])],
                 perm=[0, 2, 1, 3])
        k = b.op("Transpose", [b.op("Reshape", [_linear(b, h, hidden, hidden, "k"), heads_shape])],
                 perm=[0, 2, 3, 1])
        v = b.op("Transpose", [b.op("Reshape", [_linear(b, h, hidden, hidden, "v"), heads_shape])],
                 perm=[0, 2, 1, 3])
        scores = b.op("Div", [b.op("MatMul", [q, k]), scale])               # [1,H,S,S]
        if layer % 2 == 0:
            scores = b.op("Add", [scores, additive])
        else:
            scores = b.op("Where", [is_pad, neg_min, scores])
        probs = b.op("Softmax", [scores], axis=-1)
        ctx = b.op("Transpose", [b.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        ctx = b.op("Reshape", [ctx, merge_shape])
        h = _layer_norm(b, b.op("Add", [_linear(b, ctx, hidden, hidden, "attn_out"), h]), hidden,
                        1e-12)
        f = _linear(b, h, hidden, ffn, "ffn_in")
        if gelu_op:
            f = b.op("Gelu", [f], approximate="none" if layer % 2 == 0 else "tanh")
        else:
            f = _gelu_erf(b, f)
        f = _linear(b, f, ffn, hidden, "ffn_out")
        h = _layer_norm(b, b.op("Add", [f, h]), hidden, 1e-12)

    last = b.op("Identity", [h])
    _rename_output(b, last, "last_hidden_state")
    first = b.op("Gather", ["last_hidden_state", b.const(np.array(0, np.int64), "cls_index")],
                 axis=1)
    pooled = _rename_output(b, b.op("Tanh", [b.gemm(first, hidden, hidden)]), "pooler_output")
    name = "bert_like_gelu" if gelu_op else "bert_like"
    return b.model(name, [_in("input_ids", [1, seq], TensorProto.INT64),
                          _in("attention_mask", [1, seq], TensorProto.INT64)],
                   [_out("last_hidden_state", shape=[1, seq, hidden]),
                    _out(pooled, shape=[1, hidden])],
                   f"HF-style BERT encoder, {layers} layers, hidden {hidden}, {heads} heads",
                   metadata={INT_RANGE_KEY + "input_ids": f"0,{vocab}",
                             INT_RANGE_KEY + "attention_mask": "1,2"},
                   opset=20 if gelu_op else OPSET)


def build_bert_like_gelu(seed: int = 11) -> onnx.ModelProto:
    return build_bert_like(seed, gelu_op=True)


def build_vit_like(seed: int = 12, size: int = 32, patch: int = 8, hidden: int = 64,
                   heads: int = 4, depth: int = 2, mlp: int = 128, classes: int = 10
                   ) -> onnx.ModelProto:
    """A timm-style ViT: patch Conv, cls token, position embedding, pre-norm blocks with a
    fused qkv projection (Reshape/Transpose/Gather unbind), GELU MLP, cls-token head."""
    b = GraphBuilder(seed)
    rs = b.rs
    n = (size // patch) ** 2 + 1
    dh = hidden // heads
    p = b.conv("pixel_values", 3, hidden, patch, stride=patch, pad=0)       # [1,D,g,g]
    p = b.op("Reshape", [p, b.const(_i64([0, 0, -1]), "flat_shape")])       # flatten(2)
    p = b.op("Transpose", [p], perm=[0, 2, 1])                              # [1,g*g,D]
    cls = b.const((rs.standard_normal((1, 1, hidden)) * 0.5).astype(np.float32), "cls_token")
    h = b.op("Concat", [cls, p], axis=1)
    pos = b.const((rs.standard_normal((1, n, hidden)) * 0.2).astype(np.float32), "pos_embed")
    h = b.op("Add", [h, pos])
    qkv_shape = b.const(_i64([1, n, 3, heads, dh]), "qkv_shape")
    merge_shape = b.const(_i64([1, n, hidden]), "merge_shape")
    scale = b.const(np.array(dh ** -0.5, np.float32), "attn_scale")
    for _ in range(depth):
        a = _layer_norm(b, h, hidden, 1e-6)
        qkv = b.op("Reshape", [_linear(b, a, hidden, 3 * hidden, "qkv"), qkv_shape])
        qkv = b.op("Transpose", [qkv], perm=[2, 0, 3, 1, 4])                # [3,1,H,N,dh]
        q, k, v = (b.op("Gather", [qkv, b.const(np.array(i, np.int64), "unbind")], axis=0)
                   for i in range(3))
        q = b.op("Mul", [q, scale])
        scores = b.op("MatMul", [q, b.op("Transpose", [k], perm=[0, 1, 3, 2])])
        ctx = b.op("MatMul", [b.op("Softmax", [scores], axis=-1), v])
        ctx = b.op("Reshape", [b.op("Transpose", [ctx], perm=[0, 2, 1, 3]), merge_shape])
        h = b.op("Add", [h, _linear(b, ctx, hidden, hidden, "proj")])
        m = _linear(b, _layer_norm(b, h, hidden, 1e-6), hidden, mlp, "fc1")
        h = b.op("Add", [h, _linear(b, _gelu_erf(b, m), mlp, hidden, "fc2")])
    h = _layer_norm(b, h, hidden, 1e-6)
    cls_out = b.op("Gather", [h, b.const(np.array(0, np.int64), "cls_index")], axis=1)
    y = _rename_output(b, b.gemm(cls_out, hidden, classes), "logits")
    return b.model("vit_like", [_in("pixel_values", [1, 3, size, size])],
                   [_out(y, shape=[1, classes])],
                   f"ViT, {size}x{size} image, patch {patch}, {depth} blocks")


def build_efficientnet_like(seed: int = 13, size: int = 64, classes: int = 10) -> onnx.ModelProto:
    """EfficientNet MBConv blocks: SiLU, depthwise convs (3x3 and 5x5), squeeze-excitation,
    BN (unfused), identity residuals."""
    b = GraphBuilder(seed)
    h = _silu(b, b.bn(b.conv("input", 3, 16, 3, stride=2, bias=False), 16))
    cin = 16
    # (expand ratio, kernel, stride, out channels, repeats)
    blocks = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 64, 1)]
    for t, k, s, c, reps in blocks:
        for i in range(reps):
            stride = s if i == 0 else 1
            hidden = cin * t
            r = h
            if t != 1:
                r = _silu(b, b.bn(b.conv(r, cin, hidden, 1, pad=0, bias=False), hidden))
            r = _silu(b, b.bn(b.conv(r, hidden, hidden, k, stride=stride, group=hidden, bias=False),
                              hidden))
            squeezed = max(1, cin // 4)
            se = b.op("GlobalAveragePool", [r])
            se = _silu(b, b.conv(se, hidden, squeezed, 1, pad=0))
            se = b.op("Sigmoid", [b.conv(se, squeezed, hidden, 1, pad=0)])
            r = b.op("Mul", [r, se])
            r = b.bn(b.conv(r, hidden, c, 1, pad=0, bias=False), c, gamma_scale=0.5)
            h = b.op("Add", [r, h]) if (stride == 1 and cin == c) else r
            cin = c
    h = _silu(b, b.bn(b.conv(h, cin, 128, 1, pad=0, bias=False), 128))
    h = b.op("Flatten", [b.op("GlobalAveragePool", [h])], axis=1)
    y = _rename_output(b, b.gemm(h, 128, classes), "logits")
    return b.model("efficientnet_like", [_in("input", [1, 3, size, size])],
                   [_out(y, shape=[1, classes])], f"EfficientNet MBConv+SE, {size}x{size} input")


def _resize(b: GraphBuilder, x: str, mode: str, ctm: str, **attrs) -> str:
    """Resize x2 in the opset-11+ form: X, an empty roi, scales."""
    scales = b.const(np.array([1.0, 1.0, 2.0, 2.0], np.float32), "scales")
    return b.op("Resize", [x, "", scales], mode=mode, coordinate_transformation_mode=ctm, **attrs)


def build_unet_like(seed: int = 14, size: int = 64, classes: int = 2) -> onnx.ModelProto:
    """A 3-level U-Net: conv pairs + MaxPool down; up by ConvTranspose(2, stride 2), by Resize
    nearest (torch's asymmetric/floor) and by Resize linear (half_pixel); skip Concats;
    final 1x1 conv."""
    b = GraphBuilder(seed)

    def double_conv(x: str, cin: int, cout: int) -> str:
        x = b.op("Relu", [b.bn(b.conv(x, cin, cout, 3, bias=False), cout)])
        return b.op("Relu", [b.bn(b.conv(x, cout, cout, 3, bias=False), cout)])

    s1 = double_conv("input", 3, 8)                                          # [8,64,64]
    s2 = double_conv(b.op("MaxPool", [s1], kernel_shape=[2, 2], strides=[2, 2]), 8, 16)
    s3 = double_conv(b.op("MaxPool", [s2], kernel_shape=[2, 2], strides=[2, 2]), 16, 32)
    h = double_conv(b.op("MaxPool", [s3], kernel_shape=[2, 2], strides=[2, 2]), 32, 64)  # 8x8
    # up 1: ConvTranspose, weight [cin, cout, k, k]
    # stride == kernel: each output pixel sees one tap of each of the 64 input channels.
    w = (b.rs.standard_normal((64, 32, 2, 2)) * np.sqrt(2.0 / 64)).astype(np.float32)
    bias = (b.rs.standard_normal(32) * 0.05).astype(np.float32)
    up = b.op("ConvTranspose", [h, b.const(w, "convt_w"), b.const(bias, "convt_b")],
              kernel_shape=[2, 2], strides=[2, 2])
    h = double_conv(b.op("Concat", [up, s3], axis=1), 64, 32)               # 16x16
    # up 2: nearest as torch exports nn.Upsample(scale_factor=2)
    up = _resize(b, b.conv(h, 32, 16, 1, pad=0), "nearest", "asymmetric", nearest_mode="floor")
    h = double_conv(b.op("Concat", [up, s2], axis=1), 32, 16)               # 32x32
    # up 3: bilinear, align_corners=False
    up = _resize(b, b.conv(h, 16, 8, 1, pad=0), "linear", "half_pixel")
    h = double_conv(b.op("Concat", [up, s1], axis=1), 16, 8)                # 64x64
    y = _rename_output(b, b.conv(h, 8, classes, 1, pad=0), "mask_logits")
    return b.model("unet_like", [_in("input", [1, 3, size, size])],
                   [_out(y, shape=[1, classes, size, size])],
                   f"U-Net, ConvTranspose + Resize nearest/linear up-steps, {size}x{size} input")


def build_detector_neck_like(seed: int = 15, size: int = 64, classes: int = 80,
                             anchors: int = 3) -> onnx.ModelProto:
    """A YOLOv5-style detector: SiLU backbone giving P3/P4/P5, FPN top-down path (Resize
    nearest x2 + Concat), 1x1 heads, Split into xy/wh/obj/cls along the channel axis,
    Sigmoid, grid/anchor decoding, Reshape/Transpose to [1, N, 5+classes], Concat."""
    b = GraphBuilder(seed)
    no = 5 + classes

    def conv_act(x, cin, cout, k=3, stride=1):
        return _silu(b, b.bn(b.conv(x, cin, cout, k, stride=stride, bias=False), cout))

    h = conv_act("images", 3, 16, stride=2)                                 # 32x32
    p3 = conv_act(h, 16, 32, stride=2)                                      # 16x16
    p4 = conv_act(p3, 32, 64, stride=2)                                     # 8x8
    p5 = conv_act(p4, 64, 128, stride=2)                                    # 4x4
    # top-down
    t5 = conv_act(p5, 128, 64, k=1)
    n4 = conv_act(b.op("Concat", [_resize(b, t5, "nearest", "asymmetric", nearest_mode="floor"),
                                  p4], axis=1), 128, 64)
    t4 = conv_act(n4, 64, 32, k=1)
    n3 = conv_act(b.op("Concat", [_resize(b, t4, "nearest", "asymmetric", nearest_mode="floor"),
                                  p3], axis=1), 64, 32)
    levels = [(n3, 32, size // 4), (n4, 64, size // 8), (t5, 64, size // 16)]
    split = b.const(_i64([2, 2, 1, classes]), "split")
    outs = []
    for i, (x, cin, g) in enumerate(levels):
        stride = size // g
        y = b.conv(x, cin, anchors * no, 1, pad=0)                          # [1,A*no,g,g]
        y = b.op("Reshape", [y, b.const(_i64([1, anchors, no, g, g]), "head_shape")])
        xy, wh, obj, cls = b.op("Split", [y, split], n_out=4, axis=2)
        xy, wh, obj, cls = (b.op("Sigmoid", [t]) for t in (xy, wh, obj, cls))
        gy, gx = np.meshgrid(np.arange(g), np.arange(g), indexing="ij")
        grid = (np.stack([gx, gy])[None, None] - 0.5).astype(np.float32)    # [1,1,2,g,g]
        two = b.const(np.array(2.0, np.float32), "two")
        xy = b.op("Mul", [b.op("Add", [b.op("Mul", [xy, two]), b.const(grid, "grid")]),
                          b.const(np.array(stride, np.float32), "stride")])
        anchor = (np.array([[10, 13], [16, 30], [33, 23]], np.float32)[:anchors] * (i + 1))
        wh2 = b.op("Mul", [wh, two])
        wh = b.op("Mul", [b.op("Mul", [wh2, wh2]),
                          b.const(anchor.reshape(1, anchors, 2, 1, 1), "anchor_grid")])
        y = b.op("Concat", [xy, wh, obj, cls], axis=2)                      # [1,A,no,g,g]
        y = b.op("Transpose", [y], perm=[0, 1, 3, 4, 2])                    # [1,A,g,g,no]
        outs.append(b.op("Reshape", [y, b.const(_i64([1, -1, no]), "det_shape")]))
    n = anchors * sum(g * g for _, _, g in levels)
    y = _rename_output(b, b.op("Concat", outs, axis=1), "detections")
    return b.model("detector_neck_like", [_in("images", [1, 3, size, size])],
                   [_out(y, shape=[1, n, no])],
                   f"YOLO-style FPN neck + decoded heads, {size}x{size} input")


# --- quantized models (ONNX Runtime's quantizer) ------------------------------------
# QDQ versions of the model set, and one QOperator model. onnxruntime.quantization
# calibrates activations (MinMax, per-tensor uint8) on CALIBRATION_SEEDS' inputs and
# quantizes weights per output channel to int8; quant_pre_process first folds BN into
# the convs as deployment flows do. Deterministic for a given onnxruntime version.
CALIBRATION_SEEDS = range(100, 116)


def build_qop_cnn(seed: int = 8, size: int = 16) -> onnx.ModelProto:
    """The float net behind qop_cnn_qoperator: every QOperator op kiln imports appears in
    its quantized form (QLinearConv, QLinearAdd, QLinearConcat, QLinearMul, MaxPool on
    uint8, QLinearGlobalAveragePool, QLinearMatMul)."""
    b = GraphBuilder(seed)
    a = b.op("Relu", [b.conv("input", 3, 16, 3)])
    r = b.op("Relu", [b.conv(a, 16, 16, 3)])
    c = b.op("Add", [a, r])
    d = b.conv(c, 16, 16, 1, pad=0)
    e = b.op("Concat", [c, d], axis=1)
    f = b.op("Mul", [e, b.op("MaxPool", [e], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])])
    h = b.op("Flatten", [b.op("GlobalAveragePool", [f])], axis=1)
    w = (b.rs.standard_normal((32, 10)) * np.sqrt(1.0 / 32)).astype(np.float32)
    y = b.op("MatMul", [h, b.const(w, "fc_w")])
    y = b.op("Add", [y, b.const((b.rs.standard_normal(10) * 0.05).astype(np.float32), "fc_b")])
    y = _rename_output(b, y, "logits")
    return b.model("qop_cnn", [_in("input", [1, 3, size, size])], [_out(y, shape=[1, 10])],
                   "conv/add/concat/mul/pool/matmul net for QOperator quantization")


def quantize(model: onnx.ModelProto, qoperator: bool = False) -> onnx.ModelProto:
    """`model` through onnxruntime.quantization.quantize_static (QDQ, or QOperator)."""
    import tempfile  # noqa: PLC0415

    from onnxruntime.quantization import (  # noqa: PLC0415 (only quantized models need it)
        CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process  # noqa: PLC0415

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.data = iter([make_inputs(model, s) for s in CALIBRATION_SEEDS])

        def get_next(self):
            return next(self.data, None)

    with tempfile.TemporaryDirectory() as d:
        fp, pre, out = (os.path.join(d, f) for f in ("float.onnx", "pre.onnx", "quant.onnx"))
        onnx.save(model, fp)
        # ORT's optimizer folds BN into the convs (and would also fuse MatMul+Add into
        # Gemm, which QOperator quantizes to the contrib QGemm: skipped without BN).
        has_bn = any(n.op_type == "BatchNormalization" for n in model.graph.node)
        quant_pre_process(fp, pre, skip_symbolic_shape=True, skip_optimization=not has_bn)
        quantize_static(pre, out, Reader(),
                        quant_format=QuantFormat.QOperator if qoperator else QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        per_channel=True, calibrate_method=CalibrationMethod.MinMax)
        q = onnx.load(out)
    q.graph.name = model.graph.name + ("_qoperator" if qoperator else "_qdq")
    return q


def _quantized(base, qoperator: bool = False):
    """A builder of `base` (a model name, or a float builder) quantized by ONNX Runtime."""
    def builder(size: int | None = None) -> onnx.ModelProto:
        if callable(base):
            return quantize(base() if size is None else base(size=size), qoperator)
        return quantize(build(base, size), qoperator)
    return builder


# name -> builder(size=None) ; builders taking a spatial size get it from --size.
MODELS = {
    "mlp": build_mlp,
    "small_cnn": build_small_cnn,
    "resnet18_like": build_resnet18_like,
    "mobilenetv2_like": build_mobilenetv2_like,
    "shape_net": build_shape_net,
    "ops_net": build_ops_net,
}
EXTRA = {"example": build_example}
# Quantized models, built on request (--only NAME or --quantized); see above MODELS.
QUANTIZED = {
    "mlp_qdq": _quantized("mlp"),
    "small_cnn_qdq": _quantized("small_cnn"),
    "resnet18_like_qdq": _quantized("resnet18_like"),
    "mobilenetv2_like_qdq": _quantized("mobilenetv2_like"),
    "qop_cnn_qoperator": _quantized(build_qop_cnn, qoperator=True),
}
# Real model families, built on request (--only NAME or --families); see above MODELS.
FAMILIES = {
    "bert_like": build_bert_like,
    "bert_like_gelu": build_bert_like_gelu,
    "vit_like": build_vit_like,
    "efficientnet_like": build_efficientnet_like,
    "unet_like": build_unet_like,
    "detector_neck_like": build_detector_neck_like,
}
SIZED = {"resnet18_like", "mobilenetv2_like", "small_cnn", "shape_net", "efficientnet_like",
         "unet_like", "detector_neck_like", "small_cnn_qdq", "resnet18_like_qdq",
         "mobilenetv2_like_qdq", "qop_cnn_qoperator"}


def build(name: str, size: int | None = None) -> onnx.ModelProto:
    builder = {**MODELS, **EXTRA, **FAMILIES, **QUANTIZED}[name]
    return builder(size=size) if (size is not None and name in SIZED) else builder()


def make_inputs(model, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded inputs for every graph input that is not an initializer.

    `model` is a ModelProto or a path. Floats are standard normal; integer inputs are
    uniform in the range the model's metadata gives (`kiln.input_range.<name>` =
    "lo,hi"), else [0, 10). Symbolic dimensions become 1."""
    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(str(model), load_external_data=False)
    rs = np.random.RandomState(seed)
    ranges = {p.key[len(INT_RANGE_KEY):]: tuple(int(v) for v in p.value.split(","))
              for p in model.metadata_props if p.key.startswith(INT_RANGE_KEY)}
    inits = {t.name for t in model.graph.initializer}
    out = {}
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        tt = vi.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else 1 for d in tt.shape.dim]
        dtype = helper.tensor_dtype_to_np_dtype(tt.elem_type)
        if np.issubdtype(dtype, np.floating):
            out[vi.name] = rs.standard_normal(shape).astype(dtype)
        elif dtype == np.bool_:
            out[vi.name] = rs.randint(0, 2, shape).astype(np.bool_)
        else:
            lo, hi = ranges.get(vi.name, (0, 10))
            out[vi.name] = rs.randint(lo, hi, shape).astype(dtype)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out_dir")
    known = [*MODELS, *EXTRA, *FAMILIES, *QUANTIZED]
    p.add_argument("--only", action="append", metavar="NAME",
                   help=f"one of {', '.join(known)} (repeatable; default: all test models)")
    p.add_argument("--families", action="store_true",
                   help=f"also write the model families ({', '.join(FAMILIES)})")
    p.add_argument("--quantized", action="store_true",
                   help=f"also write the quantized models ({', '.join(QUANTIZED)}; needs onnxruntime)")
    p.add_argument("--size", type=int, default=None,
                   help="spatial input size for the image models (default: each model's own)")
    args = p.parse_args(argv)
    names = args.only or list(MODELS)
    if args.families:
        names += [n for n in FAMILIES if n not in names]
    if args.quantized:
        names += [n for n in QUANTIZED if n not in names]
    unknown = [n for n in names if n not in known]
    if unknown:
        p.error(f"unknown model {unknown[0]!r}; known: {', '.join(known)}")
    os.makedirs(args.out_dir, exist_ok=True)
    for name in names:
        path = os.path.join(args.out_dir, f"{name}.onnx")
        onnx.save(build(name, args.size), path)
        print(f"{path} ({os.path.getsize(path) / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
