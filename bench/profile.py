#!/usr/bin/env python3
"""Per-layer time, kiln beside ONNX Runtime:  python3 bench/profile.py MODEL [--level 3] [--layout NHWC]

MODEL is a name from bench/models.py (resnet50_like_224, ...) or a path to an .onnx file.
kiln's per-kernel times come from Model.profile() (the runtime's kernel_done hook); ONNX
Runtime's from its own profiler (enable_profiling, per-node kernel times), same inputs and
intra-op threads, all graph optimizations. Each kiln layer lists the ONNX nodes it fused
(model.json "nodes"); the ORT column sums ORT's time for those nodes (see onnx_node_of for
how ORT names its fused nodes). ORT nodes no kiln layer names (its layout
reorders) are summed in one line, as are kiln kernels without nodes (layout transforms).
Times are medians over the runs, per kernel (per node for ORT), so that a busy neighbour's
preemptions drop out. A diagnostic, not the benchmark: profiling adds a little time per
kernel on both sides, and the sums of medians are not a run's latency.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))


def onnx_node_of(ort_name: str, node_names: set[str], producers: dict[str, str]) -> str:
    """The ONNX node an ORT node stands for: its own name, the first node's name before a "/"
    of a fusion ("matmul_1/MatMulAddFusion"), the node a QDQ fusion or NHWC rewrite replaced
    ("conv_3_token_14", a QLinearConv of DQ -> conv_3 -> Q), or for NCHWc convs the node
    producing the tensor it is named after ("relu_0_out_nchwc"); else the ORT name itself."""
    name = ort_name.split("/")[0]
    if name in node_names:
        return name
    untokened = re.sub(r"_token_\d+$", "", name)
    if untokened in node_names:
        return untokened
    tensor = name[: -len("_nchwc")] if name.endswith("_nchwc") else name
    return producers.get(tensor, ort_name)


def ort_node_times(path: Path, feeds: dict, threads: int, runs: int, tmp: Path) -> dict[str, float]:
    """ms per run for each ORT node, from ORT's profiler."""
    import onnxruntime as ort  # noqa: PLC0415

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.enable_profiling = True
    so.profile_file_prefix = str(tmp / "ort_profile")
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    for _ in range(2 + runs):
        sess.run(None, feeds)
    events = json.loads(Path(sess.end_profiling()).read_text())
    per_node: dict[str, list[float]] = collections.defaultdict(list)
    for e in events:
        if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
            per_node[e["name"][: -len("_kernel_time")]].append(e["dur"] / 1e3)
    # The last `runs` calls of each node are the timed runs (the first two warm up); the
    # median of each node's times shrugs off a neighbour's preemptions.
    return {n: statistics.median(v[-runs:]) for n, v in per_node.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--build", default="build")
    ap.add_argument("--level", type=int, default=3)
    ap.add_argument("--layout", default="NCHW", choices=["NCHW", "NHWC"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--top", type=int, default=40, help="print this many layers, slowest first (0 = all)")
    args = ap.parse_args()

    sys.path.insert(0, str(REPO / args.build / "python"))
    import kiln  # noqa: PLC0415
    import onnx  # noqa: PLC0415
    from models import BENCH_MODELS, generate  # noqa: PLC0415

    tmp = Path(tempfile.mkdtemp(prefix="kiln_profile_"))
    if args.model in BENCH_MODELS:
        model = BENCH_MODELS[args.model]()
        path = tmp / f"{args.model}.onnx"
        path.write_bytes(model.SerializeToString())
    else:
        path = Path(args.model)
        model = onnx.load(str(path))
    feeds = generate.make_inputs(model)
    out = tmp / "compiled"
    kiln.compile(str(path), str(out), layout=args.layout, optimization=[f"category:kernel,level:{args.level}"])
    m = kiln.load(str(out), num_threads=args.threads)
    # One profiled run at a time, so that each kernel's time is a median over the runs.
    rows = m.profile(feeds, runs=1)
    samples = [[r["ms"]] for r in rows]
    for _ in range(args.runs - 1):
        for s, r in zip(samples, m.profile(feeds, runs=1, warmup=0)):
            s.append(r["ms"])
    for r, s in zip(rows, samples):
        r["ms"] = statistics.median(s)
    nodes = {layer["kernel"]: layer.get("nodes", []) for layer in m.metadata.get("layers", [])}
    node_names = {n.name for n in model.graph.node}
    producers = {o: n.name for n in model.graph.node for o in n.output}
    ort_ms: dict[str, float] = collections.defaultdict(float)
    for name, ms in ort_node_times(path, feeds, args.threads, args.runs, tmp).items():
        ort_ms[onnx_node_of(name, node_names, producers)] += ms

    # A node kiln folded away (a BatchNormalization into its Conv) counts with the layer
    # that holds its first input's producer.
    layer_nodes = {n for names in nodes.values() for n in names}
    first_input_producer = {n.name: producers.get(n.input[0]) if n.input else None for n in model.graph.node}
    folded: dict[str, float] = collections.defaultdict(float)
    for name, ms in ort_ms.items():
        for _ in range(8):
            if name in layer_nodes or first_input_producer.get(name) is None:
                break
            name = first_input_producer[name]
        folded[name] += ms
    ort_ms = folded

    claimed = set()
    table = []
    for r in rows:
        names = nodes.get(r["kernel"], [])
        mine = [n for n in names if n in ort_ms]
        claimed.update(mine)
        table.append((r["kernel"], "+".join(r.get("ops", [])) or "-", r["ms"],
                      sum(ort_ms[n] for n in mine) if mine else None))
    unclaimed = sum(v for n, v in ort_ms.items() if n not in claimed)
    kiln_total, ort_total = sum(r[2] for r in table), sum(ort_ms.values())
    print(f"{args.model}: level {args.level} {args.layout}, {args.threads} thread(s), {args.runs} runs; "
          f"kiln {kiln_total:.3f} ms in {len(table)} kernels, ORT {ort_total:.3f} ms in {len(ort_ms)} nodes "
          f"(sums of per-kernel medians)")
    print(f"{'kiln ms':>9} {'ORT ms':>9} {'ratio':>6}  {'kernel':40} ops")
    ordered = sorted(table, key=lambda t: -t[2])
    for kernel, ops, k_ms, o_ms in ordered[: args.top or None]:
        o_text = f"{o_ms:9.3f} {k_ms / o_ms:6.2f}" if o_ms else f"{'':9} {'':6}"
        print(f"{k_ms:9.3f} {o_text}  {kernel:40} {ops}")
    if args.top and len(ordered) > args.top:
        rest = ordered[args.top:]
        print(f"{sum(t[2] for t in rest):9.3f} {sum(t[3] or 0 for t in rest):9.3f} {'':6}  ({len(rest)} more kernels)")
    print(f"{'':9} {unclaimed:9.3f} {'':6}  (ORT nodes no kiln layer names: its layout reorders, ...)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
