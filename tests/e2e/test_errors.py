"""User errors: exit status 2 and a one-line message that names the problem.

Covers bad model files (missing, not ONNX, truncated, unsupported ops, external data
escaping the model's folder, folders with zero or two models), bad flags (unknown
flag, unknown -mcpu) and bad inputs at run time (shape, dtype). A failed compile
must leave no model.so behind.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import harness
from harness import check_compiled, compile_model, run_cli


def _message(proc) -> str:
    return (proc.stderr or "") + (proc.stdout or "")


def assert_usage_error(proc, *patterns: str) -> str:
    """Exit status 2 and every regex in `patterns` found (case-insensitive) in the message."""
    msg = _message(proc)
    assert proc.returncode == 2, f"exit status {proc.returncode}, expected 2; output:\n{msg}"
    assert msg.strip(), "exit status 2 without a message"
    assert "Traceback" not in msg and "terminate called" not in msg, msg
    for pat in patterns:
        assert re.search(pat, msg, re.I), f"message lacks /{pat}/:\n{msg}"
    return msg


def assert_no_model(out: Path) -> None:
    left = sorted(p.name for p in out.rglob("*") if ".so" in p.name) if out.exists() else []
    assert not left, f"failed compile left {left} in {out}"


def _save(model: onnx.ModelProto, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())  # raw bytes: no external-data handling
    return path


def _model(nodes, inputs, outputs, inits=(), opsets=(("", 17),)) -> onnx.ModelProto:
    g = helper.make_graph(nodes, "errors", inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])
    m.ir_version = 8
    return m


def _relu_model(name_in="pixels", shape=(1, 3, 8, 8)) -> onnx.ModelProto:
    return _model([helper.make_node("Relu", [name_in], ["activated"], name="relu")],
                  [helper.make_tensor_value_info(name_in, TensorProto.FLOAT, list(shape))],
                  [helper.make_tensor_value_info("activated", TensorProto.FLOAT, list(shape))])


# --- model files ------------------------------------------------------------------------

def test_missing_input_file(kiln_bin, tmp_path):
    missing = tmp_path / "no_such_dir" / "model.onnx"
    proc = compile_model(missing, tmp_path / "out")
    assert_usage_error(proc, re.escape(str(missing)),
                       r"not found|no such file|does not exist|cannot open")
    assert_no_model(tmp_path / "out")


def test_not_an_onnx_file(kiln_bin, tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(np.random.RandomState(0).bytes(4096))
    with pytest.raises(Exception):  # the test's premise: protobuf rejects these bytes
        onnx.ModelProto().ParseFromString(junk.read_bytes())
    proc = compile_model(junk, tmp_path / "out")
    assert_usage_error(proc, "junk.onnx", r"pars|not a valid|invalid|corrupt|not an onnx")
    assert_no_model(tmp_path / "out")


def test_truncated_model(kiln_bin, tmp_path, example_model):
    data = example_model.read_bytes()
    cut = tmp_path / "truncated.onnx"
    cut.write_bytes(data[: len(data) // 2])
    proc = compile_model(cut, tmp_path / "out")
    assert_usage_error(proc, "truncated.onnx", r"truncat|pars|corrupt|invalid|unexpected end")
    assert_no_model(tmp_path / "out")


def _foobar_model() -> onnx.ModelProto:
    return _model([helper.make_node("FooBar", ["x"], ["y"], name="my_foobar_node",
                                    domain="com.example")],
                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
                  opsets=(("", 17), ("com.example", 1)))


def test_unsupported_custom_op(kiln_bin, tmp_path):
    path = _save(_foobar_model(), tmp_path / "foobar.onnx")
    out = tmp_path / "out"
    out.mkdir()
    proc = compile_model(path, out)
    assert_usage_error(proc, r"unsupported|not supported", r"\bFooBar\b", r"com\.example",
                       "my_foobar_node", r"(opset|version|v)\W{0,3}1\b")
    assert_no_model(out)


def test_unsupported_standard_op(kiln_bin, tmp_path):
    f = TensorProto.FLOAT
    m = _model([helper.make_node("NonMaxSuppression", ["boxes", "scores"], ["selected"],
                                 name="nms_node")],
               [helper.make_tensor_value_info("boxes", f, [1, 4, 4]),
                helper.make_tensor_value_info("scores", f, [1, 1, 4])],
               [helper.make_tensor_value_info("selected", TensorProto.INT64, [None, 3])])
    onnx.checker.check_model(m)
    path = _save(m, tmp_path / "nms.onnx")
    proc = compile_model(path, tmp_path / "out")
    assert_usage_error(proc, r"unsupported|not supported", r"\bNonMaxSuppression\b", "nms_node",
                       r"ai\.onnx|default domain|domain\W{0,3}(''|\"\")",
                       r"(opset|version|v)\W{0,3}17\b")
    assert_no_model(tmp_path / "out")


def test_python_compile_raises_kiln_error(kiln, tmp_path):
    with pytest.raises(kiln.KilnError, match="FooBar"):
        kiln.compile(_foobar_model(), str(tmp_path / "out"))
    assert_no_model(tmp_path / "out")


def _external_model(location: str) -> onnx.ModelProto:
    w = numpy_helper.from_array(np.zeros(4, np.float32), "w")
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", "0"), ("length", "16")):
        w.external_data.add(key=k, value=v)
    return _model([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])], inits=[w])


@pytest.mark.parametrize("kind", ["parent", "absolute"])
def test_external_data_escaping_folder(kiln_bin, tmp_path, kind):
    # The file exists, so the only thing wrong is where it is.
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(4, dtype=np.float32).tobytes())
    location = "../secret.bin" if kind == "parent" else str(secret)
    path = _save(_external_model(location), tmp_path / "model_dir" / "model.onnx")
    proc = compile_model(path, tmp_path / "out")
    assert_usage_error(proc, r"external", re.escape(location),
                       r"outside|escape|absolute|not allowed|stay inside")
    assert_no_model(tmp_path / "out")


def test_folder_with_two_models(kiln_bin, tmp_path):
    d = tmp_path / "two"
    _save(_relu_model(), d / "a.onnx")
    _save(_relu_model(), d / "b.onnx")
    proc = compile_model(d, tmp_path / "out")
    assert_usage_error(proc, re.escape(str(d).rstrip("/")),
                       r"more than one|two|multiple|exactly one|2 \.?onnx")


def test_empty_folder(kiln_bin, tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    proc = compile_model(d, tmp_path / "out")
    assert_usage_error(proc, re.escape(str(d)),
                       r"no \.?onnx|contains no|empty|exactly one|no model")


# --- flags ------------------------------------------------------------------------------

def test_unknown_flag(kiln_bin, tmp_path, example_model):
    proc = compile_model(example_model, tmp_path / "out", extra=["--frobnicate"])
    assert_usage_error(proc, "--frobnicate")
    assert_no_model(tmp_path / "out")
    proc = run_cli(["run", "--input_path", tmp_path, "--frobnicate"])
    assert_usage_error(proc, "--frobnicate")


def test_unknown_mcpu_suggests_nearest(kiln_bin, tmp_path, example_model):
    proc = compile_model(example_model, tmp_path / "out", target="llvm -mcpu=skylakee")
    msg = assert_usage_error(proc, "skylakee")
    assert re.search(r"skylake(?!e)", msg), f"message does not suggest skylake:\n{msg}"
    assert_no_model(tmp_path / "out")


# --- run-time inputs --------------------------------------------------------------------

@pytest.fixture(scope="module")
def relu_dir(tmp_path_factory, kiln_bin):
    d = tmp_path_factory.mktemp("relu")
    path = _save(_relu_model(), d / "relu.onnx")
    out = d / "compiled"
    check_compiled(compile_model(path, out, level=1), out)
    return out


def _run_with(relu_dir, tmp_path, arr):
    np.save(tmp_path / "in.npy", arr)
    (tmp_path / "o").mkdir()
    return run_cli(["run", "--input_path", relu_dir, "--input", f"pixels={tmp_path / 'in.npy'}",
                    "--output_dir", tmp_path / "o"])


def test_run_correct_input_works(relu_dir, tmp_path):
    """The premise of the two tests below: the right input runs."""
    x = np.random.RandomState(0).standard_normal((1, 3, 8, 8)).astype(np.float32)
    proc = _run_with(relu_dir, tmp_path, x)
    assert proc.returncode == 0, _message(proc)
    np.testing.assert_array_equal(np.load(tmp_path / "o" / "activated.npy"), np.maximum(x, 0))


def test_run_wrong_input_shape(relu_dir, tmp_path):
    proc = _run_with(relu_dir, tmp_path, np.zeros((1, 3, 4, 4), np.float32))
    assert_usage_error(proc, "pixels", harness.shape_regex([1, 3, 4, 4]),
                       harness.shape_regex([1, 3, 8, 8]))
    assert not (tmp_path / "o" / "activated.npy").exists()


def test_run_wrong_input_dtype(relu_dir, tmp_path):
    proc = _run_with(relu_dir, tmp_path, np.zeros((1, 3, 8, 8), np.float64))
    assert_usage_error(proc, "pixels", r"float64|double|f64", r"float32|\bfloat\b|f32")


def test_python_run_wrong_shape_raises(kiln, relu_dir):
    m = kiln.load(str(relu_dir), num_threads=1)
    with pytest.raises(kiln.KilnError, match="pixels"):
        m.run({"pixels": np.zeros((1, 3, 4, 4), np.float32)})
