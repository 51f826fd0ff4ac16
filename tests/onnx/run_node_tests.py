#!/usr/bin/env python3
"""ONNX backend node tests (the conformance suite) through kiln.

The tests come with the pip `onnx` package (pinned by scripts/setup.sh):
onnx/backend/test/data/node/test_*/model.onnx with test_data_set_*/{input,output}_*.pb.
The selected ones are those whose every node is an op kiln lists (LISTED_OPS; the
`*_expanded` variants count by their nodes too). Each is compiled with kiln.compile
at kernel level 1 and run; outputs must match by the SPEC's bar (exact for integers
and bools).

    python3 tests/onnx/run_node_tests.py                 # run all, print a summary
    python3 tests/onnx/run_node_tests.py -k relu         # only names containing "relu"
    python3 tests/onnx/run_node_tests.py --update-expected   # rewrite expected_failures.txt
                                                             # and docs/onnx-coverage.md

Cases run in child processes (two at a time), so a crash is recorded against its case
instead of ending the run.

Shape-controlling integer inputs are frozen with --constant_inputs, as a deployment
would: many node tests feed values that set output shapes (Reduce axes, TopK K, Tile
repeats, OneHot depth, Slice starts/ends, Reshape shape...) as graph inputs, and kiln
compiles static shapes. When a compile fails because such an input is not a constant
(NON_CONSTANT_ERRORS), the case is compiled again with every int32/int64 graph input
of the test frozen through kiln.compile(constant_inputs=...) to its data-set value
(when all data sets agree), and those inputs are left out of the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "e2e"))
import harness  # noqa: E402

EXPECTED_FILE = HERE / "expected_failures.txt"
NODE_DIR = Path(onnx.__file__).resolve().parent / "backend" / "test" / "data" / "node"
LEVEL = 1
CASE_TIMEOUT_S = 120
LISTED_OPS = frozenset("""
    Conv Gemm MatMul Add Sub Mul Div Pow Max Min Relu LeakyRelu Clip Sigmoid Tanh
    HardSigmoid HardSwish Exp Log Sqrt Neg Abs Erf MaxPool AveragePool GlobalAveragePool
    GlobalMaxPool BatchNormalization Flatten Reshape Transpose Concat Softmax Identity
    Constant Shape Gather Squeeze Unsqueeze Dropout
    ReduceSum ReduceMean ReduceMax ReduceMin ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceProd
    ReduceSumSquare ArgMax ArgMin Trilu Mod CumSum TopK Hardmax Sum Mean Round Sign IsNaN IsInf Elu Selu
    Celu Softplus Softsign Mish ThresholdedRelu Shrink Gelu PRelu Sinh Cosh Asinh Acosh Atanh Xor
    GatherElements GatherND Tile OneHot EyeLike Cast CastLike Less Where Equal Not And Expand
    ConstantOfShape Range Slice
    LpPool GlobalLpPool ConvTranspose Resize Upsample Pad DepthToSpace SpaceToDepth LayerNormalization
    InstanceNormalization GroupNormalization LpNormalization MeanVarianceNormalization LRN RMSNormalization
    Sin Cos Tan Asin Acos Atan Einsum ScatterElements Scatter ScatterND
    BitShift BitwiseAnd BitwiseOr BitwiseXor BitwiseNot Compress NonZero Size
    Attention SoftmaxCrossEntropyLoss NegativeLogLikelihoodLoss RotaryEmbedding
    Reciprocal LogSoftmax Split Or Greater GreaterOrEqual LessOrEqual Ceil Floor
    RNN GRU LSTM CumProd GridSample AffineGrid Col2Im CenterCropPad MaxUnpool
    DFT STFT HannWindow HammingWindow BlackmanWindow MelWeightMatrix Swish RoiAlign Det ReverseSequence
    CausalConvWithState TensorScatter LinearAttention DeformConv
    QuantizeLinear DequantizeLinear DynamicQuantizeLinear MatMulInteger ConvInteger QLinearMatMul QLinearConv
""".split())


def _node_ops(graph: onnx.GraphProto):
    for node in graph.node:
        yield node.domain, node.op_type
        for attr in node.attribute:  # subgraphs (If/Loop bodies) count as well
            for g in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                yield from _node_ops(g)


def is_selected(model: onnx.ModelProto) -> bool:
    ops = list(_node_ops(model.graph))
    return bool(ops) and all(d in ("", "ai.onnx") and op in LISTED_OPS for d, op in ops)


def select_tests(node_dir: Path = NODE_DIR) -> list[str]:
    """Names of the node tests made only of listed ops, sorted."""
    assert node_dir.is_dir(), (f"{node_dir} not found: the installed onnx "
                               f"{onnx.__version__} carries no node tests (setup.sh pins 1.22.0)")
    names = []
    for d in sorted(node_dir.iterdir()):
        model = d / "model.onnx"
        if d.name.startswith("test_") and model.is_file():
            if is_selected(onnx.load(str(model), load_external_data=False)):
                names.append(d.name)
    return names


def read_expected(path: Path = EXPECTED_FILE) -> dict[str, str]:
    """{test name: reason} from lines `test_name  # reason` (blank and # lines skipped)."""
    out = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            name, _, reason = line.partition("#")
            if name.strip():
                out[name.strip()] = reason.strip()
    return out


def _read_pb(path: Path, type_proto: onnx.TypeProto | None):
    """A test-data .pb as numpy (tensors), a list (sequences) or None/value (optionals)."""
    data = path.read_bytes()
    kind = type_proto.WhichOneof("value") if type_proto is not None else "tensor_type"
    if kind == "sequence_type":
        p = onnx.SequenceProto()
        p.ParseFromString(data)
        return numpy_helper.to_list(p)
    if kind == "optional_type":
        p = onnx.OptionalProto()
        p.ParseFromString(data)
        return numpy_helper.to_optional(p)
    p = onnx.TensorProto()
    p.ParseFromString(data)
    return numpy_helper.to_array(p)


def load_case(name: str, node_dir: Path = NODE_DIR):
    """(model path, [(inputs {name: value}, expected [(name, value)]) per data set])."""
    d = node_dir / name
    model = onnx.load(str(d / "model.onnx"), load_external_data=False)
    inits = {t.name for t in model.graph.initializer}
    graph_inputs = [vi for vi in model.graph.input if vi.name not in inits]
    sets = []
    for ds in sorted(d.glob("test_data_set_*")):
        n_in = len(list(ds.glob("input_*.pb")))
        n_out = len(list(ds.glob("output_*.pb")))
        assert n_in <= len(graph_inputs) and n_out == len(model.graph.output), (
            f"{ds}: {n_in} inputs/{n_out} outputs for a graph with "
            f"{len(graph_inputs)}/{len(model.graph.output)}")
        inputs = {vi.name: _read_pb(ds / f"input_{i}.pb", vi.type)
                  for i, vi in enumerate(graph_inputs[:n_in])}
        outputs = [(vo.name, _read_pb(ds / f"output_{i}.pb", vo.type))
                   for i, vo in enumerate(model.graph.output)]
        sets.append((inputs, outputs))
    return d / "model.onnx", sets


def _first_line(text) -> str:
    """The first non-empty line, with the node-test folder left out (reasons stay portable)."""
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    line = lines[0] if lines else "(no message)"
    return line.replace(str(NODE_DIR) + os.sep, "")


# Operands that set an op's output shape (Resize scales/sizes/roi, Upsample scales,
# Pad pads/axes, OneHot depth, Range start/limit/delta, Compress condition, NonZero's
# input) or its mode (Dropout ratio/training_mode). Real models hold them as constants
# and kiln compiles static shapes (SPEC section 4), so where a node test feeds them as
# graph inputs with the same value in every data set, the runner compiles that value in
# as an initializer (of any dtype: the integer-only retry below misses float depths,
# bool conditions and float Range operands).
SHAPE_OPERANDS = {"Resize": (1, 2, 3), "Upsample": (1,), "Pad": (1, 3), "OneHot": (1,),
                  "Range": (0, 1, 2), "Compress": (1,), "NonZero": (0,), "Dropout": (1, 2)}


def freeze_shape_operands(model_path: Path, sets, work: Path) -> Path:
    """The model to compile: `model_path`, or a copy in `work` whose shape-operand
    inputs (SHAPE_OPERANDS) are initializers; those inputs leave `sets` then."""
    model = onnx.load(str(model_path), load_external_data=False)
    uses: dict[str, set] = {}
    for node in model.graph.node:
        for i, name in enumerate(node.input):
            uses.setdefault(name, set()).add(
                i in SHAPE_OPERANDS.get(node.op_type, ()) and node.domain in ("", "ai.onnx"))
    frozen = [vi.name for vi in model.graph.input
              if uses.get(vi.name) == {True} and all(
                  vi.name in ins and isinstance(ins[vi.name], np.ndarray)
                  and np.array_equal(ins[vi.name], sets[0][0][vi.name]) for ins, _ in sets)]
    if not frozen or not sets:
        return model_path
    for n in frozen:
        model.graph.initializer.append(numpy_helper.from_array(sets[0][0][n], n))
    keep = [vi for vi in model.graph.input if vi.name not in frozen]
    del model.graph.input[:]
    model.graph.input.extend(keep)
    for ins, _ in sets:
        for n in frozen:
            del ins[n]
    work.mkdir(parents=True, exist_ok=True)
    path = work / "frozen.onnx"
    onnx.save(model, str(path))
    return path


# Compile errors of an input that kiln needs as a constant (src/frontend/onnx mappers).
NON_CONSTANT_ERRORS = ("non-constant", "is not a constant")


def integer_inputs(model_path: Path, sets) -> dict:
    """{name: value} of the int32/int64 graph inputs whose value is the same in every
    data set (the values --constant_inputs freezes); {} when some data set differs.
    A value is reshaped to the input's declared static shape when the sizes agree
    (some tests store a declared scalar as shape (1,))."""
    if not sets:
        return {}
    first = sets[0][0]
    names = [n for n, v in first.items()
             if isinstance(v, np.ndarray) and v.dtype in (np.int32, np.int64)]
    for ins, _ in sets[1:]:
        if any(n not in ins or not np.array_equal(ins[n], first[n]) for n in names):
            return {}
    model = onnx.load(str(model_path), load_external_data=False)
    declared = {}
    for vi in model.graph.input:
        t = vi.type.tensor_type
        if t.HasField("shape") and all(d.HasField("dim_value") for d in t.shape.dim):
            declared[vi.name] = tuple(d.dim_value for d in t.shape.dim)
    out = {}
    for n in names:
        v = first[n]
        shape = declared.get(n)
        out[n] = v.reshape(shape) if shape is not None and int(np.prod(shape)) == v.size else v
    return out


def run_case(name: str, work: Path, kiln=None, level: int = LEVEL,
             node_dir: Path = NODE_DIR) -> str | None:
    """Compiles and runs one node test in this process. None on pass, else a one-line reason."""
    kiln = kiln or harness.import_kiln()
    model_path, sets = load_case(name, node_dir)
    out = work / name
    shutil.rmtree(out, ignore_errors=True)
    model_path = freeze_shape_operands(model_path, sets, work / f"{name}_frozen")
    try:
        options = {"optimization": [f"category:kernel,level:{level}"]}
        try:
            try:
                kiln.compile(str(model_path), str(out), **options)
            except kiln.KilnError as e:
                frozen = integer_inputs(model_path, sets)
                if not frozen or not any(t in str(e) for t in NON_CONSTANT_ERRORS):
                    raise
                kiln.compile(str(model_path), str(out), constant_inputs=frozen, **options)
                for ins, _ in sets:
                    for n in frozen:
                        del ins[n]
        except kiln.KilnError as e:  # a frozen copy is named as the test's model
            return f"compile: {_first_line(e)}".replace(str(model_path), f"{name}/model.onnx")
        m = kiln.load(str(out), num_threads=1)
        for i, (inputs, expected) in enumerate(sets):
            bad = [k for k, v in inputs.items() if not isinstance(v, np.ndarray)]
            if bad:
                return f"input {bad[0]} is not a tensor (sequence/optional inputs)"
            # Writable copies: numpy_helper gives read-only views, and read-only inputs are
            # tested in tests/e2e (test_read_only_input_arrays), not op by op here.
            inputs = {k: np.array(v, copy=True) for k, v in inputs.items()}
            try:
                got = m.run(inputs)
            except kiln.KilnError as e:
                return f"run: {_first_line(e)}"
            for oname, ref in expected:
                if oname not in got:
                    return f"data set {i}: no output {oname!r} (got {sorted(got)})"
                reason = harness.mismatch(got[oname], ref, oname)
                if reason:
                    return f"mismatch: {reason}"
        return None
    except Exception as e:  # noqa: BLE001 (a broken case is a result, not the end)
        # (the temporary folder is left out so that reasons are the same every run)
        return f"error: {type(e).__name__}: {_first_line(e)}".replace(str(work) + os.sep, "")
    finally:
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(work / f"{name}_frozen", ignore_errors=True)


def _worker(names: list[str], level: int) -> int:
    """Child process: runs cases in order, one JSON line per event, flushed."""
    kiln = harness.import_kiln()
    with tempfile.TemporaryDirectory(prefix="kiln-node-") as tmp:
        for name in names:
            print(json.dumps({"start": name}), flush=True)
            reason = run_case(name, Path(tmp), kiln, level)
            print(json.dumps({"name": name, "reason": reason}), flush=True)
    return 0


def _exit_text(rc: int) -> str:
    if rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit {rc}"


def _child_env() -> dict:
    """The environment for a worker: under KILN_SANITIZE=1 the ASan runtime that
    scripts/test.sh preloaded into pytest (tests/conftest.py keeps it in
    KILN_PYTHON_PRELOAD) must be preloaded into the worker's python as well."""
    env = dict(os.environ)
    if env.get("KILN_PYTHON_PRELOAD"):
        env["LD_PRELOAD"] = env["KILN_PYTHON_PRELOAD"]
        env["ASAN_OPTIONS"] = "detect_leaks=0:verify_asan_link_order=0"
    return env


def _run_chunk(names: list[str], level: int, results: dict, timeout_s: int) -> None:
    """Runs `names` in a child process, starting a new one after a crash or a hang."""
    pending = list(names)
    while pending:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker",
               "--level", str(level), *pending]
        with tempfile.TemporaryFile(mode="w+") as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True,
                                    env=_child_env())
            current, started = None, time.monotonic()
            timer = threading.Timer(timeout_s, proc.kill)  # also bounds the child's start
            timer.start()
            try:
                for line in proc.stdout:
                    try:
                        ev = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # stray output from the library
                    timer.cancel()
                    if "start" in ev:
                        current, started = ev["start"], time.monotonic()
                    else:
                        results[ev["name"]] = ev["reason"]
                        pending.remove(ev["name"])
                        current = None
                    timer = threading.Timer(timeout_s, proc.kill)
                    timer.start()
                rc = proc.wait()
            finally:
                timer.cancel()
            err.seek(0)
            lines = [ln.strip() for ln in err.read().splitlines() if ln.strip()]
            # A sanitizer's SUMMARY line says most; else a Python error's message is last.
            summary = [ln for ln in lines if ln.startswith("SUMMARY:")]
            tail = (summary or lines or [""])[-1][:300]
        if current is not None:
            took = time.monotonic() - started
            results[current] = (f"timed out after {took:.0f} s" if took >= timeout_s
                                else f"crashed ({_exit_text(rc)})" + (f": {tail}" if tail else ""))
            pending.remove(current)
        elif pending:  # died before starting a case: the environment is broken
            for n in pending:
                results[n] = f"worker failed (exit {rc})" + (f": {tail}" if tail else "")
            return


def run_all(names: list[str], level: int = LEVEL, jobs: int = 2,
            timeout_s: int = CASE_TIMEOUT_S) -> dict[str, str | None]:
    """{name: None or reason} for every name, using `jobs` crash-isolated children."""
    results: dict = {}
    chunks = [names[i::jobs] for i in range(jobs)]
    threads = [threading.Thread(target=_run_chunk, args=(c, level, results, timeout_s))
               for c in chunks if c]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {n: results.get(n, "no result") for n in names}


def write_expected(results: dict, path: Path = EXPECTED_FILE) -> int:
    failing = {n: r for n, r in sorted(results.items()) if r is not None}
    width = max((len(n) for n in failing), default=0)
    lines = [
        "# ONNX backend node tests kiln is known to fail, one per line: `test_name  # reason`.",
        "# tests/onnx/test_node_conformance.py fails for a failing test not listed here and",
        "# for a listed test that passes, so this list only shrinks. Regenerate with",
        "#   python3 tests/onnx/run_node_tests.py --update-expected",
        "",
    ] + [f"{n.ljust(width)}  # {r}" for n, r in failing.items()]
    path.write_text("\n".join(lines) + "\n")
    return len(failing)


COVERAGE_FILE = HERE.parent.parent / "docs" / "onnx-coverage.md"


def _test_op(d: Path, node_dir: Path) -> tuple[str, list]:
    """(the op a node test is about, its unlisted ops). An `*_expanded*` test is about
    the op of the test it expands (its own nodes are that op's function body)."""
    model = onnx.load(str(d / "model.onnx"), load_external_data=False)
    ops = list(_node_ops(model.graph))
    unlisted = sorted({op if d_ in ("", "ai.onnx") else f"{d_}.{op}"
                       for d_, op in ops if not (d_ in ("", "ai.onnx") and op in LISTED_OPS)})
    base = d.name.split("_expanded")[0]
    if base != d.name and (node_dir / base / "model.onnx").is_file():
        base_model = onnx.load(str(node_dir / base / "model.onnx"), load_external_data=False)
        ops = list(_node_ops(base_model.graph))
    return (ops[0][1] if ops else "(no nodes)"), unlisted


def write_coverage(results: dict, path: Path = COVERAGE_FILE, node_dir: Path = NODE_DIR) -> tuple[int, int]:
    """Writes the per-op table over every node test in the installed onnx package:
    run and passed, run and failed (with the commonest reason), or not run because
    kiln does not list one of its ops. Returns (passed, total)."""
    rows: dict[str, dict] = {}
    for d in sorted(node_dir.iterdir()):
        if not (d.name.startswith("test_") and (d / "model.onnx").is_file()):
            continue
        op, unlisted = _test_op(d, node_dir)
        row = rows.setdefault(op, {"tests": 0, "pass": 0, "fail": 0, "not run": 0, "reasons": {}})
        row["tests"] += 1
        if d.name in results:
            reason = results[d.name]
            row["pass" if reason is None else "fail"] += 1
            if reason is not None:
                key = re.sub(r" ?'[^']*'", "", reason)[:100]  # names differ per test
                row["reasons"][key] = row["reasons"].get(key, 0) + 1
        else:
            row["not run"] += 1
            key = "not supported: " + ", ".join(unlisted)
            row["reasons"][key] = row["reasons"].get(key, 0) + 1
    total = sum(r["tests"] for r in rows.values())
    passed = sum(r["pass"] for r in rows.values())
    lines = [
        "# ONNX backend node tests",
        "",
        f"Every node test in the installed onnx {onnx.__version__} package "
        f"(`onnx/backend/test/data/node`), compiled at kernel level {LEVEL} and run by",
        "`tests/onnx/run_node_tests.py`; regenerate with "
        "`python3 tests/onnx/run_node_tests.py --update-expected`.",
        "A test is run when kiln lists all of its ops; `*_expanded*` tests (the op's function",
        "body) count under the op they expand. Reason: the commonest failure (with its count).",
        "",
        f"**{passed} of {total} pass ({100.0 * passed / total:.1f} %)**; "
        f"{sum(r['fail'] for r in rows.values())} run and fail, "
        f"{sum(r['not run'] for r in rows.values())} not run.",
        "",
        "| op | tests | pass | fail | not run | reason |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for op in sorted(rows, key=str.lower):
        r = rows[op]
        reason = ""
        if r["reasons"]:
            text, n = max(r["reasons"].items(), key=lambda kv: (kv[1], kv[0]))
            reason = text.replace("|", "\\|") + (f" ({n})" if n > 1 else "")
        lines.append(f"| {op} | {r['tests']} | {r['pass']} | {r['fail']} | {r['not run']} | {reason} |")
    path.write_text("\n".join(lines) + "\n")
    return passed, total


def coverage_summary(path: Path = COVERAGE_FILE) -> tuple[int, int] | None:
    """(passed, total) from the table's summary line, None when there is no table."""
    if not path.is_file():
        return None
    for line in path.read_text().splitlines():
        if line.startswith("**") and " pass (" in line:
            words = line.strip("*").split()
            return int(words[0]), int(words[2])
    return None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Runs the ONNX backend node tests through kiln.")
    p.add_argument("names", nargs="*", help="test names (default: every selected test)")
    p.add_argument("-k", dest="substr", help="only tests whose name contains this")
    p.add_argument("--level", type=int, default=LEVEL, help="kernel level (default 1)")
    p.add_argument("-j", "--jobs", type=int, default=2)
    p.add_argument("--list", action="store_true", help="print the selected tests and exit")
    p.add_argument("--update-expected", action="store_true",
                   help=f"rewrite {EXPECTED_FILE.name} and {COVERAGE_FILE.name} "
                   "with the current results")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return _worker(args.names, args.level)

    names = args.names or select_tests()
    if args.substr:
        names = [n for n in names if args.substr in n]
    if args.list:
        print("\n".join(names))
        return 0
    if args.update_expected and (args.names or args.substr):
        p.error("--update-expected runs every selected test; give no names or -k")
    t0 = time.monotonic()
    results = run_all(names, args.level, args.jobs)
    expected = read_expected()
    n_pass = sum(r is None for r in results.values())
    for n, r in results.items():
        if r is not None:
            print(f"FAIL {n}: {r}")
    print(f"{n_pass}/{len(results)} passed in {time.monotonic() - t0:.0f} s")
    if args.update_expected:
        n = write_expected(results)
        print(f"wrote {EXPECTED_FILE} ({n} expected failures)")
        passed, total = write_coverage(results)
        print(f"wrote {COVERAGE_FILE} ({passed}/{total} = {100.0 * passed / total:.1f} % pass)")
        return 0
    unexpected = [n for n, r in results.items() if r is not None and n not in expected]
    fixed = [n for n, r in results.items() if r is None and n in expected]
    for n in fixed:
        print(f"now passes: remove it from expected_failures.txt: {n}")
    return 1 if unexpected or fixed else 0


if __name__ == "__main__":
    sys.exit(main())
