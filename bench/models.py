"""Benchmark models: the generator's networks plus single-layer and larger ones.

`BENCH_MODELS` maps a name to (builder, FLOPs counted as 2 per multiply-add of
the Conv/MatMul/Gemm layers). Built with models/generate.py's GraphBuilder so
weights are seeded and the same on every run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
import generate  # noqa: E402  (models/generate.py)

from generate import GraphBuilder, _in, _out, _rename_output  # noqa: E402


def conv_3x3_256(size: int = 56) -> onnx.ModelProto:
    """One Conv 256->256 3x3, pad 1, with bias, at size x size."""
    b = GraphBuilder(11)
    y = _rename_output(b, b.conv("x", 256, 256, 3), "y")
    return b.model("conv3x3_256", [_in("x", [1, 256, size, size])], [_out(y, shape=[1, 256, size, size])],
                   "single 3x3 conv")


def matmul_512() -> onnx.ModelProto:
    """MatMul [512, 512] x constant [512, 512]."""
    b = GraphBuilder(12)
    w = b.const((b.rs.standard_normal((512, 512)) / 16).astype(np.float32), "mm_w")
    y = _rename_output(b, b.op("MatMul", ["a", w]), "y")
    return b.model("matmul_512", [_in("a", [512, 512])], [_out(y, shape=[512, 512])], "512^3 matmul")


def resnet50_like(size: int = 224) -> onnx.ModelProto:
    """The ResNet-50 topology (bottleneck blocks, BN unfused) with He-initialized weights."""
    b = GraphBuilder(13)
    h = b.op("Relu", [b.bn(b.conv("input", 3, 64, 7, stride=2, pad=3, bias=False), 64)])
    h = b.op("MaxPool", [h], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 64
    for stage, (width, blocks) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)]):
        cout = width * 4
        for block in range(blocks):
            stride = 2 if (stage > 0 and block == 0) else 1
            r = b.op("Relu", [b.bn(b.conv(h, cin, width, 1, pad=0, bias=False), width)])
            r = b.op("Relu", [b.bn(b.conv(r, width, width, 3, stride=stride, bias=False), width)])
            r = b.bn(b.conv(r, width, cout, 1, pad=0, bias=False), cout, gamma_scale=0.2)
            if block == 0:
                skip = b.bn(b.conv(h, cin, cout, 1, stride=stride, pad=0, bias=False), cout)
            else:
                skip = h
            h = b.op("Relu", [b.op("Add", [r, skip])])
            cin = cout
    h = b.op("Flatten", [b.op("GlobalAveragePool", [h])], axis=1)
    y = _rename_output(b, b.gemm(h, 2048, 1000), "logits")
    return b.model("resnet50_like", [_in("input", [1, 3, size, size])], [_out(y, shape=[1, 1000])],
                   f"ResNet-50 topology, {size}x{size} input")


def count_flops(model: onnx.ModelProto) -> float:
    """2 x multiply-adds of Conv, MatMul and Gemm, from ONNX shape inference."""
    m = onnx.shape_inference.infer_shapes(model)
    shapes = {}
    for vi in list(m.graph.value_info) + list(m.graph.input) + list(m.graph.output):
        shapes[vi.name] = [d.dim_value for d in vi.type.tensor_type.shape.dim]
    for t in m.graph.initializer:
        shapes[t.name] = list(t.dims)
    flops = 0.0
    for n in m.graph.node:
        out = shapes.get(n.output[0])
        if not out:
            continue
        if n.op_type == "Conv":
            w = shapes[n.input[1]]
            flops += 2.0 * np.prod(out) * np.prod(w[1:])
        elif n.op_type in ("MatMul", "Gemm"):
            a = shapes[n.input[0]]
            k = a[-1] if not (n.op_type == "Gemm" and any(at.name == "transA" and at.i for at in n.attribute)) else a[0]
            flops += 2.0 * np.prod(out) * k
    return flops


def bert_like_768(seq: int = 128) -> onnx.ModelProto:
    """The generator's HF-style BERT encoder at BERT-base width (hidden 768, 12 heads,
    FFN 3072), 4 layers, sequence 128 (BERT-base has 12 such layers)."""
    return generate.build_bert_like(seed=11, seq=seq, hidden=768, heads=12, layers=4,
                                    vocab=1000, ffn=3072)


def quantized(build):
    """`build()`'s model quantized to QDQ by ONNX Runtime's quantizer as the generator does
    (weights per-channel int8, activations per-tensor uint8 calibrated on seeded inputs)."""
    return lambda: generate.quantize(build())


BENCH_MODELS = {
    "resnet18_like_64": lambda: generate.build("resnet18_like", size=64),
    "resnet18_like_224": lambda: generate.build("resnet18_like", size=224),
    "resnet50_like_224": resnet50_like,
    "mobilenetv2_like_224": lambda: generate.build("mobilenetv2_like", size=224),
    "resnet50_like_224_int8": quantized(resnet50_like),
    "mobilenetv2_like_224_int8": quantized(lambda: generate.build("mobilenetv2_like", size=224)),
    "bert_like_768": bert_like_768,
    "conv3x3_256_56": conv_3x3_256,
    "matmul_512": matmul_512,
}
