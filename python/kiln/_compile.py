"""kiln.compile: the Python face of kiln::compile (same options as the CLI)."""

from __future__ import annotations

import os
import tempfile
from typing import Any, Mapping, Sequence

from ._runtime import KilnError


def _compiler():
    try:
        from . import _compiler as compiler
    except ImportError as e:
        raise KilnError(f"kiln.compile is not available: the compiler module kiln._compiler "
                        f"did not load ({e}); build the full kiln tree") from None
    return compiler


# numpy dtype name -> kiln_dtype (kiln/model_abi.h).
_KILN_DTYPES = {"float32": 1, "uint8": 2, "int8": 3, "uint16": 4, "int16": 5, "int32": 6, "int64": 7, "bool": 9,
                "float16": 10, "float64": 11, "uint32": 12, "uint64": 13,
                # ml_dtypes' names (one element per byte for the 4- and 2-bit types)
                "bfloat16": 16, "float8_e4m3fn": 17, "float8_e4m3fnuz": 18, "float8_e5m2": 19,
                "float8_e5m2fnuz": 20, "uint4": 21, "int4": 22, "float4_e2m1fn": 23, "float8_e8m0fnu": 24,
                "uint2": 25, "int2": 26}


def _constant_inputs(constant_inputs):
    """constant_inputs as the binding's three maps: kiln dtype, shape, C-order bytes."""
    dtypes: dict[str, int] = {}
    shapes: dict[str, list[int]] = {}
    data: dict[str, bytes] = {}
    if not constant_inputs:
        return dtypes, shapes, data
    import numpy as np
    for name, value in constant_inputs.items():
        array = np.asarray(value)  # (np.ascontiguousarray would make a 0-d array 1-d)
        code = _KILN_DTYPES.get(array.dtype.name)
        if code is None:
            raise KilnError(f"constant_inputs['{name}'] has dtype {array.dtype.name}, which kiln does not support")
        name = str(name)
        dtypes[name] = code
        shapes[name] = [int(d) for d in array.shape]
        data[name] = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes(order="C")
    return dtypes, shapes, data


def compile(model: Any, output_path: str | os.PathLike, target: str = "llvm", layout: str = "NCHW",
            optimization: Sequence[str] | str | None = None,
            input_shapes: Mapping[str, Sequence[int]] | str | None = None,
            bundle: bool = False,
            constant_inputs: Mapping[str, Any] | None = None) -> str:
    """Compiles an ONNX model to output_path/model.so (+ model.json).

    model is a path (.onnx file or folder) or an onnx.ModelProto. optimization
    takes values like "category:kernel,level:2" (one string or a list);
    input_shapes pins symbolic dimensions: {"input": (1, 3, 224, 224)} or the
    CLI form "input:1x3x224x224". layout="NHWC" computes convolution-type ops
    in NHWC (CPU targets, kernel level 3 or 4; inputs and outputs keep the
    model's NCHW shapes). constant_inputs freezes graph inputs to
    values ({"axes": np.array([1], np.int64)}, like --constant_input): each
    array's dtype and shape must match the input, which becomes a constant and
    is no longer an input of the compiled model. Returns output_path; raises KilnError."""
    compiler = _compiler()
    if isinstance(optimization, str):
        optimization = [optimization]
    optimization = [str(o) for o in (optimization or [])]
    shapes: dict[str, list[int]] = {}
    shapes_text = ""
    if isinstance(input_shapes, str):
        shapes_text = input_shapes
    elif input_shapes:
        for name, dims in input_shapes.items():
            try:
                shapes[str(name)] = [int(d) for d in dims]
            except (TypeError, ValueError):
                raise KilnError(f"input_shapes['{name}'] must be a sequence of integers, got {dims!r}") from None
    dtypes, cshapes, data = _constant_inputs(constant_inputs)
    output_path = os.fspath(output_path)

    with tempfile.TemporaryDirectory(prefix="kiln-compile-") as tmp:
        if hasattr(model, "SerializeToString") and hasattr(model, "graph"):
            input_path = os.path.join(tmp, "model.onnx")
            with open(input_path, "wb") as f:
                f.write(model.SerializeToString())
        elif isinstance(model, (str, os.PathLike)):
            input_path = os.fspath(model)
        else:
            raise KilnError(f"model must be a path or an onnx.ModelProto, got {type(model).__name__}")
        code, error = compiler.compile(input_path, output_path, str(target), str(layout), optimization,
                                       shapes, shapes_text, bool(bundle), dtypes, cshapes, data)
    if code != 0:
        raise KilnError(error or f"compile failed (exit status {code})")
    return output_path
