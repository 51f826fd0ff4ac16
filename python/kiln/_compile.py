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


def compile(model: Any, output_path: str | os.PathLike, target: str = "llvm", layout: str = "NCHW",
            optimization: Sequence[str] | str | None = None,
            input_shapes: Mapping[str, Sequence[int]] | str | None = None,
            bundle: bool = False) -> str:
    """Compiles an ONNX model to output_path/model.so (+ model.json).

    model is a path (.onnx file or folder) or an onnx.ModelProto. optimization
    takes values like "category:kernel,level:2" (one string or a list);
    input_shapes pins symbolic dimensions: {"input": (1, 3, 224, 224)} or the
    CLI form "input:1x3x224x224". Returns output_path; raises KilnError."""
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
                                       shapes, shapes_text, bool(bundle))
    if code != 0:
        raise KilnError(error or f"compile failed (exit status {code})")
    return output_path
