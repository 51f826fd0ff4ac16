"""Element types end to end: models whose inputs and outputs are int16, uint16,
uint32, uint64, bfloat16, the float8 family and the 4-/2-bit types, compiled by
kiln, run through the Python API (numpy / ml_dtypes arrays in and out) and
through kiln-run (.npy files), and compared with ONNX Runtime, or with onnx's
reference evaluator where ONNX Runtime has no kernel for the type.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness import check_compiled, compile_model, import_kiln, mismatch, run_npy

onnx = pytest.importorskip("onnx")
ml_dtypes = pytest.importorskip("ml_dtypes")
from onnx import TensorProto, helper  # noqa: E402

OPSET = 23


def save_model(path, nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(nodes, "dtypes", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 11
    onnx.save(model, str(path))
    return path


def reference(path, feeds: dict) -> dict:
    """ONNX Runtime's outputs, or onnx's reference evaluator's where ORT lacks a kernel."""
    model = onnx.load(str(path))
    names = [o.name for o in model.graph.output]
    try:
        import onnxruntime as ort  # noqa: PLC0415
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return dict(zip(names, sess.run(names, feeds)))
    except Exception as e:  # noqa: BLE001 (NOT_IMPLEMENTED: no kernel for the type)
        if "NOT_IMPLEMENTED" not in str(e) and "Could not find an implementation" not in str(e):
            raise
    from onnx.reference import ReferenceEvaluator  # noqa: PLC0415
    return dict(zip(names, ReferenceEvaluator(model).run(None, feeds)))


def compile_and_load(path, out):
    kiln = import_kiln()
    kiln.compile(str(path), str(out))
    return kiln.load(str(out))


INT_TYPES = [(np.int16, TensorProto.INT16), (np.uint16, TensorProto.UINT16),
             (np.uint32, TensorProto.UINT32), (np.uint64, TensorProto.UINT64)]


def int_edges(np_type):
    info = np.iinfo(np_type)
    vals = [info.min, info.max, info.max - 1, 0, 1, 2, 7, info.max // 2, info.max // 2 + 1, 100]
    if info.min < 0:
        vals += [-1, -7, info.min + 1]
    vals = (vals * 2)[:12]
    return np.array(vals, dtype=np_type).reshape(3, 4)


@pytest.mark.parametrize("np_type, onnx_type", INT_TYPES, ids=lambda t: getattr(t, "__name__", str(t)))
def test_integer_types_round_trip_and_compute(tmp_path, np_type, onnx_type):
    """Arithmetic with unsigned/signed semantics (Div, Mod, Max, Less, BitShift) and
    casts to and from float32 at the ends of each range."""
    shape = [3, 4]
    nodes = [
        helper.make_node("Identity", ["a"], ["same"]),
        helper.make_node("Add", ["a", "b"], ["sum"]),
        helper.make_node("Div", ["a", "b"], ["quot"]),
        helper.make_node("Mod", ["a", "b"], ["rem"], fmod=0),
        helper.make_node("Max", ["a", "b"], ["big"]),
        helper.make_node("Less", ["a", "b"], ["lt"]),
        helper.make_node("Cast", ["a"], ["as_float"], to=TensorProto.DOUBLE),
        helper.make_node("Cast", ["f"], ["from_float"], to=onnx_type),
        helper.make_node("ArgMin", ["a"], ["amin"], axis=1, keepdims=0),
    ]
    if np_type in (np.uint32, np.uint64):  # ReduceMax's schema has no 16-bit types
        nodes.append(helper.make_node("ReduceMax", ["a"], ["rmax"], keepdims=0))
    if np_type in (np.uint16, np.uint32, np.uint64):
        nodes.append(helper.make_node("BitShift", ["a", "s"], ["shr"], direction="RIGHT"))
    vi = helper.make_tensor_value_info
    inputs = [vi("a", onnx_type, shape), vi("b", onnx_type, shape), vi("f", TensorProto.FLOAT, shape)]
    if np_type in (np.uint16, np.uint32, np.uint64):
        inputs.append(vi("s", onnx_type, shape))
    special = {"lt": (TensorProto.BOOL, shape), "as_float": (TensorProto.DOUBLE, shape),
               "rmax": (onnx_type, []), "amin": (TensorProto.INT64, [3])}
    outputs = [vi(n, *special.get(n, (onnx_type, shape))) for node in nodes for n in node.output]
    path = save_model(tmp_path / "m.onnx", nodes, inputs, outputs)
    a = int_edges(np_type)
    b = np.array([3, 1, 7, 2, 5, 9, 1, 3, 2, 11, 4, 6], dtype=np_type).reshape(shape)
    hi = float(np.iinfo(np_type).max)
    f = np.array([0.0, 1.9, 2.5, 100.25, hi / 2, 77.0, 3.0, 9.75, 1000.5, 12.0, 5.0, 6.0],
                 dtype=np.float32).reshape(shape)
    feeds = {"a": a, "b": b, "f": f}
    if "s" in [i.name for i in inputs]:
        feeds["s"] = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1], dtype=np_type).reshape(shape)
    ref = reference(path, feeds)
    m = compile_and_load(path, tmp_path / "out")
    got = m.run(feeds)
    for name, r in ref.items():
        assert mismatch(got[name], r, name) is None, mismatch(got[name], r, name)
    assert got["same"].dtype == np_type


def test_integer_types_through_kiln_run_npy(tmp_path):
    """kiln-run reads and writes .npy files of the new integer types."""
    vi = helper.make_tensor_value_info
    nodes = [helper.make_node("Sub", ["a", "b"], ["d"]), helper.make_node("Cast", ["a"], ["c"], to=TensorProto.INT16)]
    path = save_model(tmp_path / "m.onnx", nodes,
                      [vi("a", TensorProto.UINT64, [4]), vi("b", TensorProto.UINT64, [4])],
                      [vi("d", TensorProto.UINT64, [4]), vi("c", TensorProto.INT16, [4])])
    out = tmp_path / "out"
    check_compiled(compile_model(path, out), out)
    a = np.array([2**64 - 1, 5, 2**63, 0], dtype=np.uint64)
    b = np.array([1, 7, 1, 0], dtype=np.uint64)
    run, outs = run_npy(out, {"a": a, "b": b}, tmp_path / "run")
    assert run.returncode == 0, run.stderr
    np.testing.assert_array_equal(outs["d"], a - b)
    assert outs["d"].dtype == np.uint64
    np.testing.assert_array_equal(outs["c"], a.astype(np.int16))
    assert outs["c"].dtype == np.int16


NARROW_FLOATS = [  # (ml_dtypes name, ONNX type)
    ("bfloat16", TensorProto.BFLOAT16), ("float8_e4m3fn", TensorProto.FLOAT8E4M3FN),
    ("float8_e4m3fnuz", TensorProto.FLOAT8E4M3FNUZ), ("float8_e5m2", TensorProto.FLOAT8E5M2),
    ("float8_e5m2fnuz", TensorProto.FLOAT8E5M2FNUZ), ("float8_e8m0fnu", TensorProto.FLOAT8E8M0),
    ("float4_e2m1fn", TensorProto.FLOAT4E2M1)]


def probe_values(np_type) -> np.ndarray:
    """float32 values that exercise rounding to np_type: all its values, the midpoints
    of neighbours and the floats beside them, specials, random bit patterns."""
    nbits = 16 if np.dtype(np_type).itemsize == 2 else (4 if "float4" in np.dtype(np_type).name else 8)
    codes = np.arange(2**nbits, dtype=np.uint16 if nbits == 16 else np.uint8)
    vals = np.unique(codes.view(np_type).astype(np.float32))
    vals = vals[np.isfinite(vals)]
    mids = ((vals[:-1].astype(np.float64) + vals[1:]) / 2).astype(np.float32)
    rng = np.random.default_rng(0)
    rand = rng.integers(0, 2**32, 2000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, -1e-40, 3e38, -3e38, 1e6, -7.0], np.float32)
    return np.concatenate([vals, mids, np.nextafter(mids, np.float32(np.inf)),
                           np.nextafter(mids, np.float32(-np.inf)), special, rand,
                           (rng.standard_normal(2000) * 10.0 ** rng.integers(-8, 6, 2000)).astype(np.float32)])


def assert_same_values(got: np.ndarray, want: np.ndarray, what: str):
    """Equal bits, except that any NaN matches a NaN."""
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape, want.dtype, want.shape)
    g, w = got.astype(np.float64), want.astype(np.float64)
    nan = np.isnan(w)
    assert (np.isnan(g) == nan).all(), f"{what}: NaN differs at {np.flatnonzero(np.isnan(g) != nan)[:5]}"
    uint = {1: np.uint8, 2: np.uint16, 4: np.uint32}[got.dtype.itemsize]
    bad = np.flatnonzero((got.view(uint) != want.view(uint)) & ~nan)
    assert bad.size == 0, (f"{what}: {bad.size} values differ, first input index {bad[0]}: "
                           f"got {g.flat[bad[0]]!r} want {w.flat[bad[0]]!r}")


# saturate=0 only means something for the float8 casts; kiln's float8e8m0 cast takes the
# default saturate=1 only (other settings are a clear compile error, tested in gtest).
_NO_SATURATE_0 = (TensorProto.BFLOAT16, TensorProto.FLOAT4E2M1, TensorProto.FLOAT8E8M0)
CAST_CASES = [(n, t, s) for n, t in NARROW_FLOATS for s in (1, 0) if s == 1 or t not in _NO_SATURATE_0]


@pytest.mark.parametrize("name, onnx_type, saturate", CAST_CASES,
                         ids=[f"{n}-saturate{s}" for n, _, s in CAST_CASES])
def test_narrow_float_casts_match_onnx_reference(tmp_path, name, onnx_type, saturate):
    """float32 -> T with and without saturation, T -> float32/float16, and a T input
    and output passed through the Python API as ml_dtypes arrays."""
    np_type = getattr(ml_dtypes, name)
    x = probe_values(np_type)
    n = x.size
    vi = helper.make_tensor_value_info
    sat = {"saturate": saturate} if onnx_type not in (TensorProto.BFLOAT16, TensorProto.FLOAT4E2M1) else {}
    nodes = [helper.make_node("Cast", ["x"], ["y"], to=onnx_type, **sat),
             helper.make_node("Cast", ["y"], ["back"], to=TensorProto.FLOAT),
             helper.make_node("Cast", ["t"], ["t16"], to=TensorProto.FLOAT16),
             helper.make_node("Identity", ["t"], ["t_same"])]
    path = save_model(tmp_path / "m.onnx", nodes, [vi("x", TensorProto.FLOAT, [n]), vi("t", onnx_type, [n])],
                      [vi("y", onnx_type, [n]), vi("back", TensorProto.FLOAT, [n]),
                       vi("t16", TensorProto.FLOAT16, [n]), vi("t_same", onnx_type, [n])])
    with np.errstate(invalid="ignore"):
        t = x.astype(np_type)
    from onnx.reference import ReferenceEvaluator  # noqa: PLC0415 (onnx's definition of Cast)
    ref = dict(zip(["y", "back", "t16", "t_same"], ReferenceEvaluator(onnx.load(str(path))).run(None, {"x": x, "t": t})))
    got = compile_and_load(path, tmp_path / "out").run({"x": x, "t": t})
    assert got["y"].dtype == np.dtype(np_type) and got["t_same"].dtype == np.dtype(np_type)
    assert_same_values(got["y"], ref["y"], f"Cast float32 -> {name}")
    assert_same_values(got["back"], ref["back"], f"Cast {name} -> float32")
    assert_same_values(got["t16"], ref["t16"], f"Cast {name} -> float16")
    assert_same_values(got["t_same"], t, f"{name} through Identity")


SUB_BYTE_INTS = [("int4", TensorProto.INT4), ("uint4", TensorProto.UINT4), ("int2", TensorProto.INT2),
                 ("uint2", TensorProto.UINT2)]


@pytest.mark.parametrize("name, onnx_type", SUB_BYTE_INTS, ids=[n for n, _ in SUB_BYTE_INTS])
def test_sub_byte_integers(tmp_path, name, onnx_type):
    """Casts (float -> int truncating in range; int -> int wrapping, as ONNX defines; a float out
    of range is undefined, so x stays in range), a packed initializer unpacked at import, and
    data movement (Concat, Gather, Transpose) of one-element-per-byte tensors."""
    np_type = getattr(ml_dtypes, name)
    lo, hi = int(ml_dtypes.iinfo(np_type).min), int(ml_dtypes.iinfo(np_type).max)
    x = (np.arange(40) % (hi - lo) + lo).astype(np.float32).reshape(4, 10) + 0.5
    n = np.arange(-20, 20, dtype=np.int32).reshape(4, 10)
    vals = np.arange(10) % 4 - (2 if name.startswith("int") else 0)
    init = onnx.numpy_helper.from_array(vals.astype(np_type).reshape(1, 10), "w")  # packed in raw_data
    vi = helper.make_tensor_value_info
    nodes = [helper.make_node("Cast", ["x"], ["q"], to=onnx_type),
             helper.make_node("Concat", ["q", "w"], ["cat"], axis=0),
             helper.make_node("Transpose", ["cat"], ["tr"], perm=[1, 0]),
             helper.make_node("Gather", ["tr", "idx"], ["picked"], axis=0),
             helper.make_node("Cast", ["picked"], ["wide"], to=TensorProto.INT8),
             helper.make_node("Cast", ["t"], ["tf"], to=TensorProto.FLOAT),
             helper.make_node("Cast", ["n"], ["wrapped"], to=onnx_type)]
    path = save_model(tmp_path / "m.onnx", nodes,
                      [vi("x", TensorProto.FLOAT, [4, 10]), vi("idx", TensorProto.INT64, [3]),
                       vi("t", onnx_type, [4, 10]), vi("n", TensorProto.INT32, [4, 10])],
                      [vi("q", onnx_type, [4, 10]), vi("picked", onnx_type, [3, 5]), vi("wide", TensorProto.INT8, [3, 5]),
                       vi("tf", TensorProto.FLOAT, [4, 10]), vi("wrapped", onnx_type, [4, 10])], [init])
    feeds = {"x": x, "idx": np.array([9, 0, 4], np.int64), "t": x.astype(np_type), "n": n}
    from onnx.reference import ReferenceEvaluator  # noqa: PLC0415
    model = onnx.load(str(path))
    ref = dict(zip([o.name for o in model.graph.output], ReferenceEvaluator(model).run(None, feeds)))
    got = compile_and_load(path, tmp_path / "out").run(feeds)
    for k, r in ref.items():
        assert got[k].dtype == r.dtype, (k, got[k].dtype, r.dtype)
        np.testing.assert_array_equal(got[k].astype(np.int64), r.astype(np.int64), err_msg=k)
        # one element per byte, value in the low bits, high bits zero (as ml_dtypes writes)
        bits = 4 if "4" in name else 2
        assert (got[k].view(np.uint8) >> bits == 0).all() if got[k].dtype == np.dtype(np_type) else True


def test_float4_and_float8_through_kiln_run_npy(tmp_path):
    """.npy files of ml_dtypes arrays (descr |V1, float8_e5m2 <f1) in and out of kiln-run."""
    vi = helper.make_tensor_value_info
    nodes = [helper.make_node("Cast", ["a"], ["b"], to=TensorProto.FLOAT4E2M1),
             helper.make_node("Cast", ["e"], ["f"], to=TensorProto.FLOAT)]
    path = save_model(tmp_path / "m.onnx", nodes,
                      [vi("a", TensorProto.FLOAT8E4M3FN, [6]), vi("e", TensorProto.FLOAT8E5M2, [6])],
                      [vi("b", TensorProto.FLOAT4E2M1, [6]), vi("f", TensorProto.FLOAT, [6])])
    out = tmp_path / "out"
    check_compiled(compile_model(path, out), out)
    a = np.array([0.25, 0.75, -3.5, 100, -0.0, 1.5], np.float32).astype(ml_dtypes.float8_e4m3fn)
    e = np.array([1, -2, 0.5, 57344, np.inf, 3], np.float32).astype(ml_dtypes.float8_e5m2)
    run, outs = run_npy(out, {"a": a, "e": e}, tmp_path / "run")
    assert run.returncode == 0, run.stderr
    assert_same_values(outs["b"].view(ml_dtypes.float4_e2m1fn), a.astype(ml_dtypes.float4_e2m1fn), "b")
    assert_same_values(outs["f"], e.astype(np.float32), "f")


def test_storage_only_types_are_refused_by_computing_ops(tmp_path):
    """Arithmetic on float8 is not defined by kiln: a clear error naming the op and type."""
    vi = helper.make_tensor_value_info
    path = save_model(tmp_path / "m.onnx", [helper.make_node("Add", ["a", "a"], ["b"], name="add8")],
                      [vi("a", TensorProto.FLOAT8E4M3FN, [2])], [vi("b", TensorProto.FLOAT8E4M3FN, [2])])
    proc = compile_model(path, tmp_path / "out")
    assert proc.returncode == 2, proc.stderr
    assert "does not compute in float8e4m3fn" in proc.stderr and "add8" in proc.stderr, proc.stderr


def test_no_conversion_libcalls_in_model_so(tmp_path):
    """bfloat16/float8/float4 conversions are inline code, also on a baseline x86-64
    target (where LLVM would call compiler-rt for its own bfloat16 conversions)."""
    import subprocess  # noqa: PLC0415
    vi = helper.make_tensor_value_info
    nodes = [helper.make_node("Cast", ["x"], ["b"], to=TensorProto.BFLOAT16),
             helper.make_node("Cast", ["d"], ["e"], to=TensorProto.FLOAT8E5M2),
             helper.make_node("Cast", ["e"], ["f"], to=TensorProto.DOUBLE),
             helper.make_node("Cast", ["b"], ["g"], to=TensorProto.FLOAT4E2M1),
             helper.make_node("Cast", ["b"], ["h"], to=TensorProto.FLOAT8E8M0)]
    path = save_model(tmp_path / "m.onnx", nodes, [vi("x", TensorProto.FLOAT, [64]), vi("d", TensorProto.DOUBLE, [64])],
                      [vi("b", TensorProto.BFLOAT16, [64]), vi("f", TensorProto.DOUBLE, [64]),
                       vi("g", TensorProto.FLOAT4E2M1, [64]), vi("h", TensorProto.FLOAT8E8M0, [64])])
    out = tmp_path / "out"
    check_compiled(compile_model(path, out, target="llvm -mcpu=x86-64"), out)
    undefined = subprocess.run(["nm", "-D", "--undefined-only", str(out / "model.so")],
                               capture_output=True, text=True, check=True).stdout.split()
    assert not [s for s in undefined if s not in ("U", "w")], undefined


def test_bfloat16_elementwise_ops_round_per_op(tmp_path):
    """bfloat16 arithmetic runs in float32 rounded to bfloat16 after each op, as
    ml_dtypes' numpy ufuncs (onnx's reference) compute it."""
    vi = helper.make_tensor_value_info
    bf = TensorProto.BFLOAT16
    nodes = [helper.make_node("Add", ["a", "b"], ["s"]), helper.make_node("Mul", ["s", "b"], ["p"]),
             helper.make_node("Relu", ["p"], ["r"]), helper.make_node("Div", ["r", "b"], ["q"]),
             helper.make_node("Greater", ["a", "b"], ["gt"]), helper.make_node("Where", ["gt", "a", "q"], ["w"]),
             helper.make_node("Max", ["w", "a"], ["m"]), helper.make_node("Neg", ["m"], ["y"])]
    shape = [4, 16]
    path = save_model(tmp_path / "m.onnx", nodes, [vi("a", bf, shape), vi("b", bf, shape)], [vi("y", bf, shape)])
    rng = np.random.default_rng(3)
    a = (rng.standard_normal(shape) * 7).astype(ml_dtypes.bfloat16)
    b = (rng.standard_normal(shape) * 3 + 0.1).astype(ml_dtypes.bfloat16)
    from onnx.reference import ReferenceEvaluator  # noqa: PLC0415
    (want,) = ReferenceEvaluator(onnx.load(str(path))).run(None, {"a": a, "b": b})
    got = compile_and_load(path, tmp_path / "out").run({"a": a, "b": b})["y"]
    assert_same_values(got, want.astype(ml_dtypes.bfloat16), "bfloat16 ops")
