#!/usr/bin/env python3
"""kiln vs ONNX Runtime, one command:  python3 bench/run.py [--build build-perf] [--threads 1 2]

For each model in bench/models.py: compiles it with kiln (kernel level 3 and 2),
times kiln and ONNX Runtime (all graph optimizations, same intra-op threads)
interleaved in one process, and prints median latencies, the kiln/ORT ratio,
GFLOP/s and % of the FMA peak measured here by bench/fma_peak.c. With --write,
the table goes to docs/performance.md with the date and CPU model.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))


def measure_peak(threads: int, tmp: Path) -> float:
    exe = tmp / "fma_peak"
    if not exe.exists():
        subprocess.run(["clang-19", "-O3", "-march=native", str(REPO / "bench/fma_peak.c"), "-o", str(exe),
                        "-lpthread"], check=True)
    best = 0.0
    for _ in range(3):
        out = subprocess.run([str(exe), str(threads)], check=True, capture_output=True, text=True).stdout
        best = max(best, float(out.split()[0]))
    return best


def cpu_model() -> str:
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def isa() -> str:
    flags = ""
    try:
        flags = next(l for l in open("/proc/cpuinfo") if l.startswith("flags")).split()
    except (OSError, StopIteration):
        return "unknown ISA"
    return "AVX-512" if "avx512f" in flags else "AVX2+FMA" if "fma" in flags else "SSE/NEON"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--levels", type=int, nargs="*", default=[3, 2])
    ap.add_argument("--layouts", nargs="*", default=["NCHW"], choices=["NCHW", "NHWC"],
                    help="kiln's --layout for each level (NHWC only at levels >= 3); default NCHW")
    ap.add_argument("--models", nargs="*", default=None)
    ap.add_argument("--slow-max-gflop", type=float, default=1.0,
                    help="time levels below 3 only for models up to this many GFLOP (they are slow)")
    ap.add_argument("--reps", type=int, default=0, help="timed runs per engine (default: by model size)")
    ap.add_argument("--target", default="llvm")
    ap.add_argument("--write", action="store_true", help="write docs/performance.md")
    args = ap.parse_args()

    sys.path.insert(0, str(REPO / args.build / "python"))
    import kiln  # noqa: E402
    import onnxruntime as ort  # noqa: E402
    from models import BENCH_MODELS, count_flops, generate  # noqa: E402

    tmp = Path(tempfile.mkdtemp(prefix="kiln_bench_"))
    peaks = {t: measure_peak(t, tmp) for t in args.threads}
    peaks_seen: dict[int, list[float]] = {}
    rows = []
    # The kiln engines: (level, layout), NHWC only at levels >= 3; the first is the one compared with ORT.
    engines = [(l, lay) for l in args.levels for lay in args.layouts if lay == "NCHW" or l >= 3]
    args.engine_names = [f"L{l}" + ("" if lay == "NCHW" else f" {lay}") for l, lay in engines]
    header = (f"{'model':22} {'thr':>3} {'ORT ms':>8} " + " ".join(f"{e + ' ms':>12}" for e in args.engine_names) +
              f" {args.engine_names[0] + '/ORT':>8} {'GFLOP/s':>8} {'%peak':>6} {'ORT %peak':>9} {'peak':>6}")
    print(f"FMA peak at the start (GFLOP/s; measured again after each model, the last column): " + ", ".join(f"{t} thread(s) {p:.1f}" for t, p in peaks.items()))
    print(header)
    for name, build in BENCH_MODELS.items():
        if args.models and name not in args.models:
            continue
        model = build()
        path = tmp / f"{name}.onnx"
        path.write_bytes(model.SerializeToString())
        flops = count_flops(model)
        compiled = {}
        for level, layout in engines:
            if level < 3 and flops * 1e-9 > args.slow_max_gflop:
                continue
            out = tmp / f"{name}_l{level}_{layout}"
            kiln.compile(str(path), str(out), target=args.target, layout=layout,
                         optimization=[f"category:kernel,level:{level}"])
            compiled[(level, layout)] = out
        feeds = generate.make_inputs(model)
        for threads in args.threads:
            so = ort.SessionOptions()
            so.intra_op_num_threads = threads
            so.inter_op_num_threads = 1
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            # ORT's idle intra-op threads busy-spin between its runs; interleaved with kiln on
            # a 2-vCPU machine they keep a core busy while kiln runs (measured: resnet18_like
            # at 224, 2 threads: kiln 35.4 ms with ORT spinning, 18.7 ms without; ORT itself
            # 17.1 vs 17.5 ms). Spinning off keeps the comparison fair at a ~2% cost to ORT.
            so.add_session_config_entry("session.intra_op.allow_spinning", "0")
            sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
            mods = {l: kiln.load(str(p), num_threads=threads) for l, p in compiled.items()}
            runners = {"ort": lambda: sess.run(None, feeds)}
            for l, m in mods.items():
                runners[l] = (lambda m=m: m.run(feeds))
            for r in runners.values():
                for _ in range(2):
                    r()
            # Repetitions: about 1.5 s of the slowest engine, within [5, 50].
            t0 = time.perf_counter()
            runners["ort"]()
            one = time.perf_counter() - t0
            reps = args.reps or int(min(50, max(5, 1.5 / max(one, 1e-4))))
            times = {k: [] for k in runners}
            for _ in range(reps):  # interleaved: a busy neighbour hits every engine alike
                for k, r in runners.items():
                    t0 = time.perf_counter()
                    r()
                    times[k].append(time.perf_counter() - t0)
            med = {k: float(np.median(v)) * 1e3 for k, v in times.items()}
            # The peak again, right after this model's runs: the VM's speed drifts by 10-20 %
            # within minutes (2026-12-07: ORT's ResNet-50 45-56 ms in one hour), so a peak from
            # the start of the run would over- or understate % peak for the later models.
            peak = measure_peak(threads, tmp)
            peaks_seen.setdefault(threads, []).append(peak)
            best = engines[0]
            gflops = flops / (med[best] * 1e-3) * 1e-9
            ort_gflops = flops / (med["ort"] * 1e-3) * 1e-9
            row = (name, threads, med["ort"], [med.get(e, float("nan")) for e in engines], med[best] / med["ort"], gflops,
                   100 * gflops / peak, 100 * ort_gflops / peak)
            rows.append(row)
            print(f"{name:22} {threads:>3} {med['ort']:>8.2f} " + " ".join(f"{med.get(e, float('nan')):>12.2f}" for e in engines) +
                  f" {row[4]:>8.2f} {gflops:>8.1f} {row[6]:>5.0f}% {row[7]:>8.0f}% {peak:>6.1f}", flush=True)
    if args.write:
        write_doc(rows, args, peaks_seen, cpu_model())
    return 0


def write_doc(rows, args, peaks, cpu: str) -> None:
    """Replaces this target's section of docs/performance.md (other targets' sections stay)."""
    title = f"## Target `{args.target}`"
    section = [
        title,
        "",
        f"Measured {datetime.date.today().isoformat()} on `{cpu}` ({os.cpu_count()} vCPUs, {isa()}), load average "
        f"{os.getloadavg()[0]:.1f} at the end. FMA peak measured here after each model's runs (% peak "
        "is against that model's): " +
        ", ".join(f"{t} thread(s) {min(p):.1f}-{max(p):.1f} GFLOP/s" for t, p in peaks.items()) + ".",
        "",
        "| model | threads | ORT ms | " + " | ".join(f"kiln {e} ms" for e in args.engine_names) +
        f" | {args.engine_names[0]}/ORT | kiln GFLOP/s | kiln % peak | ORT % peak |",
        "|---|---|---|" + "---|" * len(args.engine_names) + "---|---|---|---|",
    ]
    for name, thr, ort_ms, lv, ratio, gf, pk, opk in rows:
        section.append(f"| {name} | {thr} | {ort_ms:.2f} | " + " | ".join("-" if x != x else f"{x:.2f}" for x in lv) +
                       f" | {ratio:.2f} | {gf:.1f} | {pk:.0f}% | {opk:.0f}% |")
    doc = REPO / "docs/performance.md"
    head = [
        "# Performance",
        "",
        "Written by `python3 bench/run.py --write [--target SPEC]`. kiln (Python API) and ONNX Runtime",
        "(all graph optimizations, same intra-op threads) run interleaved in one process; numbers are",
        "median latencies. GFLOP/s counts 2 per multiply-add of Conv/MatMul/Gemm; % peak is against the",
        "fp32 FMA peak that `bench/fma_peak.c` measures on the same machine right after each model's runs.",
        "Level 2 is timed only for models up to 1 GFLOP (`--slow-max-gflop`).",
        "",
    ]
    text = doc.read_text() if doc.exists() else "\n".join(head)
    parts = text.split("\n## ")
    kept = [parts[0].rstrip("\n") + "\n"] + ["## " + p.rstrip("\n") + "\n" for p in parts[1:]
                                             if not ("## " + p).startswith(title)]
    notes = [k for k in kept[1:] if k.startswith("## Notes")]
    others = [k for k in kept[1:] if not k.startswith("## Notes")]
    doc.write_text("\n".join([kept[0]] + others + ["\n".join(section) + "\n"] + notes))
    print(f"wrote {doc}")


if __name__ == "__main__":
    sys.exit(main())
