"""kiln.load and Model: input validation and output allocation over kiln._runtime."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from . import _runtime
from ._runtime import KilnError

# Buffers handed to the runtime must be at least 16-byte aligned; 64 suits AVX-512.
_ALIGNMENT = 64

_DTYPES = {
    "float32": np.dtype(np.float32),
    "float64": np.dtype(np.float64),
    "float16": np.dtype(np.float16),
    "int64": np.dtype(np.int64),
    "int32": np.dtype(np.int32),
    "int8": np.dtype(np.int8),
    "uint8": np.dtype(np.uint8),
    "int16": np.dtype(np.int16),
    "uint16": np.dtype(np.uint16),
    "uint32": np.dtype(np.uint32),
    "uint64": np.dtype(np.uint64),
    "bool": np.dtype(np.bool_),
}
# For run()'s per-call checks: a set lookup, where dtype.name costs microseconds.
_NATIVE_DTYPES = frozenset(_DTYPES.values())

# Types numpy has no name for: the ml_dtypes package's (the ones onnx's numpy_helper
# returns). One element per byte for the 4- and 2-bit types, as ml_dtypes holds them.
_ML_DTYPES = {
    "bfloat16": "bfloat16",
    "float8e4m3fn": "float8_e4m3fn",
    "float8e4m3fnuz": "float8_e4m3fnuz",
    "float8e5m2": "float8_e5m2",
    "float8e5m2fnuz": "float8_e5m2fnuz",
    "float8e8m0": "float8_e8m0fnu",
    "float4e2m1": "float4_e2m1fn",
    "int4": "int4",
    "uint4": "uint4",
    "int2": "int2",
    "uint2": "uint2",
}


def _dtype(name: str) -> np.dtype:
    """The numpy dtype of a kiln dtype name."""
    if name in _DTYPES:
        return _DTYPES[name]
    if name in _ML_DTYPES:
        try:
            import ml_dtypes  # noqa: PLC0415 (optional: only models with these types need it)
        except ImportError as e:
            raise KilnError(f"this model has {name} tensors, which numpy holds through the "
                            "ml_dtypes package: pip install ml_dtypes") from e
        return np.dtype(getattr(ml_dtypes, _ML_DTYPES[name]))
    raise KilnError(f"this kiln runtime's Python package does not know dtype {name!r}")


@dataclass(frozen=True)
class TensorInfo:
    """One input or output of a compiled model (shapes are static)."""

    name: str
    shape: tuple
    dtype: np.dtype

    def __repr__(self) -> str:
        return f"TensorInfo(name={self.name!r}, shape={self.shape}, dtype={self.dtype})"


def _aligned_empty(shape: tuple, dtype: np.dtype) -> np.ndarray:
    """A fresh C-order array whose data is _ALIGNMENT-byte aligned."""
    nbytes = math.prod(shape) * dtype.itemsize  # math.prod: np.prod costs microseconds per call
    raw = np.empty(nbytes + _ALIGNMENT, dtype=np.uint8)
    offset = (-raw.ctypes.data) % _ALIGNMENT
    return raw[offset:offset + nbytes].view(dtype).reshape(shape)


def _as_bytes(array: np.ndarray) -> np.ndarray:
    """The array itself, or for an ml_dtypes array (a type the binding cannot name) a
    view of its memory as unsigned integers of the same size: still zero copy."""
    if array.dtype in _NATIVE_DTYPES or array.dtype.name not in _ML_DTYPES.values():
        return array
    return array.view({1: np.uint8, 2: np.uint16}[array.dtype.itemsize])


def _describe(info: TensorInfo) -> str:
    return f"{info.dtype} {info.shape}"


class Model:
    """A compiled model loaded by kiln.load(); run it with run() or call it."""

    def __init__(self, path: str | os.PathLike, num_threads: int = 1):
        self._path = os.fspath(path)
        self._impl = _runtime.Model(self._path)
        self._inputs = [TensorInfo(n, tuple(s), _dtype(d)) for n, d, s, _ in self._impl.inputs()]
        self._outputs = [TensorInfo(n, tuple(s), _dtype(d)) for n, d, s, _ in self._impl.outputs()]
        self.set_num_threads(num_threads)

    @property
    def inputs(self) -> list[TensorInfo]:
        """The model's inputs, in order."""
        return list(self._inputs)

    @property
    def outputs(self) -> list[TensorInfo]:
        """The model's outputs, in order."""
        return list(self._outputs)

    @property
    def num_threads(self) -> int:
        return int(self._impl.properties()["num_threads"])

    def set_num_threads(self, n: int) -> None:
        """Threads used by run() (0 = all cores)."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise KilnError(f"num_threads must be an integer >= 0 (0 = all cores), got {n!r}")
        self._impl.set_num_threads(int(n))

    @property
    def metadata(self) -> dict:
        """The metadata compiled into the model (the content of model.json)."""
        text = self._impl.metadata()
        return json.loads(text) if text else {}

    @property
    def properties(self) -> dict:
        """arch, cpu_features, kiln_version, abi_version, arena_bytes, weights_bytes, path."""
        return dict(self._impl.properties())

    def _prepare_input(self, info: TensorInfo, value: Any) -> np.ndarray:
        array = np.asarray(value)
        if array.dtype != info.dtype:
            raise KilnError(f"input '{info.name}': expected dtype {info.dtype}, got {array.dtype} "
                            f"(expected {_describe(info)})")
        if array.shape != info.shape:
            raise KilnError(f"input '{info.name}': expected shape {info.shape}, got {array.shape} "
                            f"(expected {_describe(info)})")
        if not array.flags.c_contiguous or array.ctypes.data % 16 != 0:
            copy = _aligned_empty(info.shape, info.dtype)
            copy[...] = array
            array = copy
        return array

    def _prepare_inputs(self, inputs: Mapping[str, Any], method: str) -> list[np.ndarray]:
        if not isinstance(inputs, Mapping):
            raise KilnError(f"{method}() takes a dict input name -> array; for a one-input model "
                            "you can also call the model: model(x)")
        names = [i.name for i in self._inputs]
        unknown = [k for k in inputs if k not in names]
        if unknown:
            raise KilnError(f"unknown input '{unknown[0]}': the model's inputs are {', '.join(names)}")
        missing = [i for i in self._inputs if i.name not in inputs]
        if missing:
            raise KilnError("missing input " + ", ".join(f"'{i.name}' ({_describe(i)})" for i in missing))
        return [self._prepare_input(i, inputs[i.name]) for i in self._inputs]

    def _prepare_outputs(self, outputs: Mapping[str, np.ndarray] | None) -> list[np.ndarray]:
        """The caller's arrays where given (checked), fresh aligned ones elsewhere."""
        outputs = {} if outputs is None else outputs
        if not isinstance(outputs, Mapping):
            raise KilnError("outputs= takes a dict output name -> numpy array")
        names = [o.name for o in self._outputs]
        unknown = [k for k in outputs if k not in names]
        if unknown:
            raise KilnError(f"unknown output '{unknown[0]}': the model's outputs are {', '.join(names)}")
        arrays = []
        for info in self._outputs:
            array = outputs.get(info.name)
            if array is None:
                arrays.append(_aligned_empty(info.shape, info.dtype))
                continue
            if not isinstance(array, np.ndarray) or array.dtype != info.dtype or array.shape != info.shape:
                got = (f"{array.dtype} {array.shape}" if isinstance(array, np.ndarray)
                       else type(array).__name__)
                raise KilnError(f"output '{info.name}': expected a numpy array {_describe(info)}, got {got}")
            if (not array.flags.c_contiguous or not array.flags.writeable
                    or array.ctypes.data % 16 != 0):
                raise KilnError(f"output '{info.name}': the array must be C-contiguous, writeable and "
                                f"16-byte aligned (leave it out and run() returns a fresh one)")
            arrays.append(array)
        return arrays

    def run(self, inputs: Mapping[str, Any],
            outputs: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """Runs once. inputs maps every input name to an array of its dtype and
        shape. outputs may map output names to numpy arrays (of the output's dtype
        and shape, C-contiguous, 16-byte aligned) that the run writes into; the
        others are fresh arrays. Returns a dict output name -> array."""
        arrays = self._prepare_inputs(inputs, "run")
        results = self._prepare_outputs(outputs)
        self._impl.run([_as_bytes(a) for a in arrays], [_as_bytes(o) for o in results])
        return {o.name: a for o, a in zip(self._outputs, results)}

    def profile(self, inputs: Mapping[str, Any], runs: int = 10, warmup: int = 2) -> list[dict]:
        """Times each kernel: `warmup` untimed runs, then `runs` runs with per-kernel
        timing. Returns one dict per kernel call, in call order: "kernel" (the name
        in metadata["layers"]), "ms" (mean wall time per run) and, for fused
        layers, "ops" and "precision" from the metadata."""
        for name, value in (("runs", runs), ("warmup", warmup)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < (name == "runs"):
                raise KilnError(f"profile(): {name} must be an integer >= {int(name == 'runs')}, got {value!r}")
        arrays = [_as_bytes(a) for a in self._prepare_inputs(inputs, "profile")]
        results = [_as_bytes(o) for o in self._prepare_outputs(None)]
        for _ in range(int(warmup)):
            self._impl.run(arrays, results)
        layers = {layer.get("kernel"): layer for layer in self.metadata.get("layers", [])}
        rows = []
        for kernel, seconds in self._impl.profile(arrays, results, int(runs)):
            row = {"kernel": kernel, "ms": seconds * 1e3}
            layer = layers.get(kernel)
            if layer is not None:
                row["ops"] = list(layer.get("ops", []))
                row["precision"] = layer.get("precision", "")
            rows.append(row)
        return rows

    def __call__(self, x: Any) -> np.ndarray:
        """model(x): for a model with exactly one input and one output."""
        if len(self._inputs) != 1 or len(self._outputs) != 1:
            raise KilnError(f"model(x) needs one input and one output; this model has "
                            f"{len(self._inputs)} input(s) and {len(self._outputs)} output(s): "
                            f"use model.run({{name: array}})")
        return self.run({self._inputs[0].name: x})[self._outputs[0].name]

    def __repr__(self) -> str:
        ins = ", ".join(f"{i.name}: {_describe(i)}" for i in self._inputs)
        outs = ", ".join(f"{o.name}: {_describe(o)}" for o in self._outputs)
        return f"<kiln.Model {self._path!r} inputs=[{ins}] outputs=[{outs}]>"


def load(path: str | os.PathLike, inference_context: str = "cpu", num_threads: int = 1) -> Model:
    """Loads a compiled model: DIR (holding model.so) or the .so itself.

    inference_context is "cpu" or "cuda"; num_threads (0 = all cores) sets the
    threads run() uses. Raises KilnError with a message naming the problem."""
    if inference_context not in ("cpu", "cuda"):
        raise KilnError(f"inference_context must be 'cpu' or 'cuda', got {inference_context!r}")
    model = Model(path, num_threads=num_threads)
    if inference_context == "cuda":
        props = model.properties
        raise KilnError(f"inference_context='cuda': {props['path']} is a CPU model (compiled for "
                        f"{props['arch']}); load it with inference_context='cpu', or compile with "
                        f"target='cuda'")
    return model
