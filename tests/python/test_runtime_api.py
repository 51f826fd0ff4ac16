"""kiln.load / Model against the hand-written fake models: results, threads,
input validation and the error messages of loading."""

import re
import threading

import numpy as np
import pytest

import kiln

WEIGHTS = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5], dtype=np.float32)


def expected_y(x):
    return 2 * x + WEIGHTS


def sample_x(seed=0):
    return np.random.default_rng(seed).standard_normal((2, 8)).astype(np.float32)


def test_version_and_error_type():
    assert kiln.__version__.count(".") == 2
    assert issubclass(kiln.KilnError, ValueError)


def test_load_folder_and_so_path(fake_models):
    for path in (fake_models / "good", fake_models / "good" / "model.so", str(fake_models / "good")):
        m = kiln.load(path)
        assert [i.name for i in m.inputs] == ["x"]
        assert m.inputs[0].shape == (2, 8)
        assert m.inputs[0].dtype == np.float32
        assert m.outputs[0].name == "y"


def test_metadata_and_properties(fake_models):
    m = kiln.load(fake_models / "good")
    assert m.metadata["name"] == "fake"
    props = m.properties
    assert props["kiln_version"] == "0.1.0-fake"
    assert props["arena_bytes"] == 64 and props["weights_bytes"] == 32


@pytest.mark.parametrize("threads", [1, 2, 3, 4, 0])
def test_run_matches_reference_at_thread_counts(fake_models, threads):
    m = kiln.load(fake_models / "good", num_threads=threads)
    for seed in range(20):
        x = sample_x(seed)
        out = m.run({"x": x})
        assert list(out) == ["y"]
        np.testing.assert_allclose(out["y"], expected_y(x), rtol=1e-6)
        np.testing.assert_allclose(m(x), expected_y(x), rtol=1e-6)


def test_outputs_are_fresh_arrays(fake_models):
    m = kiln.load(fake_models / "good")
    a = m(sample_x(1))
    b = m(sample_x(2))
    assert not np.shares_memory(a, b)
    a[...] = 0
    np.testing.assert_allclose(b, expected_y(sample_x(2)), rtol=1e-6)
    assert a.flags.c_contiguous and a.flags.writeable


def test_run_writes_into_given_outputs(fake_models):
    m = kiln.load(fake_models / "multi")
    x, idx = sample_x(4), np.array([1, 2, 3], np.int64)
    y = np.full((2, 8), -7, np.float32)
    out = m.run({"x": x, "idx": idx}, outputs={"y": y})
    assert out["y"] is y
    np.testing.assert_allclose(y, expected_y(x), rtol=1e-6)
    np.testing.assert_array_equal(out["z/out:0"], [4, 7, 10])  # the others are fresh
    bad = [({"nope": y}, "unknown output 'nope'"),
           ({"y": y.astype(np.float64)}, "output 'y': expected a numpy array float32"),
           ({"y": np.zeros((8, 2), np.float32)}, "got float32 (8, 2)"),
           ({"y": [0.0] * 16}, "got list"),
           ({"y": np.asfortranarray(np.zeros((2, 8), np.float32))}, "C-contiguous, writeable"),
           ("y", "outputs= takes a dict")]
    for outputs, message in bad:
        with pytest.raises(kiln.KilnError, match=re.escape(message)):
            m.run({"x": x, "idx": idx}, outputs=outputs)


def test_profile_times_each_kernel(fake_models):
    m = kiln.load(fake_models / "good")
    rows = m.profile({"x": sample_x(5)}, runs=5)
    assert [r["kernel"] for r in rows] == ["fake_axpy"]
    assert rows[0]["ms"] > 0 and "ops" not in rows[0]  # the fake model's metadata has no layers
    for kwargs, message in [({"runs": 0}, "runs must be an integer >= 1"),
                            ({"warmup": -1}, "warmup must be an integer >= 0"),
                            ({"runs": True}, "runs must be")]:
        with pytest.raises(kiln.KilnError, match=message):
            m.profile({"x": sample_x(5)}, **kwargs)
    with pytest.raises(kiln.KilnError, match="missing input 'x'"):
        m.profile({})


def test_non_contiguous_and_misaligned_inputs_are_copied(fake_models):
    m = kiln.load(fake_models / "good")
    x = sample_x(3)
    fortran = np.asfortranarray(x)
    np.testing.assert_allclose(m(fortran), expected_y(x), rtol=1e-6)
    strided = np.repeat(x, 2, axis=1)[:, ::2]
    np.testing.assert_allclose(m(strided), expected_y(x), rtol=1e-6)
    raw = np.empty(16 * 4 + 8, dtype=np.uint8)
    start = (-raw.ctypes.data) % 16 + 4  # 4 bytes past a 16-byte boundary
    misaligned = raw[start:start + 64].view(np.float32).reshape(2, 8)
    misaligned[...] = x
    np.testing.assert_allclose(m(misaligned), expected_y(x), rtol=1e-6)


def test_multi_input_output_model(fake_models):
    m = kiln.load(fake_models / "multi", num_threads=2)
    assert [i.name for i in m.inputs] == ["x", "idx"]
    assert [o.name for o in m.outputs] == ["y", "z/out:0", "total"]
    assert m.outputs[2].shape == ()
    x = sample_x(4)
    out = m.run({"idx": np.array([1, -2, 40], dtype=np.int64), "x": x})
    np.testing.assert_allclose(out["y"], expected_y(x), rtol=1e-6)
    np.testing.assert_array_equal(out["z/out:0"], [4, -5, 121])
    assert out["total"].shape == ()
    assert out["total"] == pytest.approx(float(expected_y(x).sum()), rel=1e-5)
    with pytest.raises(kiln.KilnError, match=r"model\(x\) needs one input and one output"):
        m(x)


def test_input_validation_messages(fake_models):
    m = kiln.load(fake_models / "multi")
    x = sample_x()
    idx = np.zeros(3, dtype=np.int64)
    with pytest.raises(kiln.KilnError, match=r"missing input 'idx' \(int64 \(3,\)\)"):
        m.run({"x": x})
    with pytest.raises(kiln.KilnError, match=r"unknown input 'idz': the model's inputs are x, idx"):
        m.run({"x": x, "idz": idx})
    with pytest.raises(kiln.KilnError, match=r"input 'x': expected dtype float32, got float64"):
        m.run({"x": x.astype(np.float64), "idx": idx})
    with pytest.raises(kiln.KilnError, match=r"input 'idx': expected shape \(3,\), got \(1, 3\)"):
        m.run({"x": x, "idx": idx.reshape(1, 3)})
    with pytest.raises(kiln.KilnError, match="takes a dict"):
        m.run([x, idx])
    with pytest.raises(ValueError):  # KilnError is a ValueError
        m.run({"x": x.T, "idx": idx})


def test_load_errors_name_the_problem(fake_models, tmp_path):
    with pytest.raises(kiln.KilnError, match=r"no compiled model at .*nowhere \(file not found\)"):
        kiln.load(tmp_path / "nowhere")
    text = tmp_path / "text.so"
    text.write_text("not an ELF file")
    with pytest.raises(kiln.KilnError, match="is not a shared object"):
        kiln.load(text)
    with pytest.raises(kiln.KilnError, match="corrupt"):
        kiln.load(fake_models / "bad_checksum")
    with pytest.raises(kiln.KilnError, match="ABI version 99"):
        kiln.load(fake_models / "bad_abi")
    with pytest.raises(kiln.KilnError, match="is not a kiln model"):
        kiln.load(fake_models / "no_symbol")
    with pytest.raises(kiln.KilnError, match="does not know: warp-drive"):
        kiln.load(fake_models / "unknown_feature")
    try:
        kiln.load(fake_models / "needs_feature")
    except kiln.KilnError as e:
        assert "but this CPU lacks them" in str(e)
    else:
        pytest.skip("this CPU has every feature the needs_feature variant asks for")


def test_context_and_thread_arguments(fake_models):
    with pytest.raises(kiln.KilnError, match="is a CPU model"):
        kiln.load(fake_models / "good", inference_context="cuda")
    with pytest.raises(kiln.KilnError, match="inference_context must be 'cpu' or 'cuda'"):
        kiln.load(fake_models / "good", inference_context="tpu")
    with pytest.raises(kiln.KilnError, match="num_threads must be an integer >= 0"):
        kiln.load(fake_models / "good", num_threads=-2)
    m = kiln.load(fake_models / "good", num_threads=3)
    assert m.num_threads == 3
    m.set_num_threads(1)
    assert m.num_threads == 1


def test_failing_run_raises(fake_models):
    m = kiln.load(fake_models / "run_fails")
    with pytest.raises(kiln.KilnError, match=r"failed while running \(code 5\)"):
        m(sample_x())


def test_two_models_in_parallel_threads(fake_models):
    models = [kiln.load(fake_models / "good", num_threads=2) for _ in range(2)]
    errors = []

    def work(m, seed):
        try:
            for i in range(200):
                x = sample_x(seed + i)
                np.testing.assert_allclose(m(x), expected_y(x), rtol=1e-6)
        except Exception as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(m, 100 * k)) for k, m in enumerate(models)]
    threads += [threading.Thread(target=work, args=(models[0], 1000))]  # shares a model
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_compile_reports_errors_as_kiln_error(tmp_path):
    with pytest.raises(kiln.KilnError):
        kiln.compile(tmp_path / "missing.onnx", tmp_path / "out")
    try:
        from kiln import _compiler  # noqa: F401
    except ImportError as e:
        with pytest.raises(kiln.KilnError, match="kiln.compile is not available"):
            kiln.compile(42, tmp_path / "out")
        pytest.fail(f"kiln._compiler not loadable: {e}")
    with pytest.raises(kiln.KilnError, match="path or an onnx.ModelProto"):
        kiln.compile(42, tmp_path / "out")
