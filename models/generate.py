#!/usr/bin/env python3
"""kiln's test model set, built with onnx.helper from seeded random weights.

    python3 models/generate.py OUT_DIR [--only NAME ...] [--size N]

writes OUT_DIR/<name>.onnx for every model in MODELS (fp32, opset 17, IR 8; each
passes onnx.checker). Nothing here is downloaded and no model is committed except
the small README example (models/example.onnx), so the same script regenerates the
whole set bit for bit. `make_inputs(model, seed)` gives seeded inputs for any of
them (and for any static-shaped model).
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
              ) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, name, inputs, outputs, initializer=self.inits)
        m = helper.make_model(graph, producer_name="kiln-models", doc_string=doc,
                              opset_imports=[helper.make_opsetid("", OPSET)])
        m.ir_version = IR_VERSION
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
SIZED = {"resnet18_like", "mobilenetv2_like", "small_cnn", "shape_net"}


def build(name: str, size: int | None = None) -> onnx.ModelProto:
    builder = {**MODELS, **EXTRA}[name]
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
    p.add_argument("--only", action="append", metavar="NAME",
                   help=f"one of {', '.join([*MODELS, *EXTRA])} (repeatable; default: all "
                        "test models)")
    p.add_argument("--size", type=int, default=None,
                   help="spatial input size for the image models (default: each model's own)")
    args = p.parse_args(argv)
    names = args.only or list(MODELS)
    unknown = [n for n in names if n not in MODELS and n not in EXTRA]
    if unknown:
        p.error(f"unknown model {unknown[0]!r}; known: {', '.join([*MODELS, *EXTRA])}")
    os.makedirs(args.out_dir, exist_ok=True)
    for name in names:
        path = os.path.join(args.out_dir, f"{name}.onnx")
        onnx.save(build(name, args.size), path)
        print(f"{path} ({os.path.getsize(path) / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
