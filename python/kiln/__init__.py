"""kiln: load and run models compiled by kiln, and compile ONNX models.

    m = kiln.load("DIR", inference_context="cpu", num_threads=2)
    outputs = m.run({"input": x})   # dict name -> numpy array
    y = m(x)                        # one input, one output
    kiln.compile("model.onnx", "DIR", target="llvm -mcpu=skylake")
"""

from __future__ import annotations

from ._runtime import KilnError, runtime_version as _runtime_version
from ._model import Model, TensorInfo, load
from ._compile import compile

__version__ = _runtime_version()

__all__ = ["KilnError", "Model", "TensorInfo", "load", "compile", "__version__"]
