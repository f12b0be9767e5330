"""nnlab against PyTorch and Keras on the same workloads, alternately, in one run.

    python3 benches/peers/compare.py [--rounds N] [--large-rounds N] [--only W,...] [--out results.json]

Run it with the Python that has torch and/or keras, and pandas for the large-data workloads
(a peer that does not import is left out, and said so). It builds nnlab in release mode with
its default features plus `ndarray`, then for each round runs every workload once per contender, in turn
(nnlab on its default backend, flex; nnlab on ndarray; PyTorch; Keras, which has no large-data
workloads), and prints the median of each figure with the ratios nnlab/peer. Whole-process figures (wall time, peak memory, predict) are measured here,
around each process, the same way for all. Standard library only.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PEERS = Path(__file__).resolve().parent
ENV = {**os.environ, "RAYON_NUM_THREADS": "2", "OMP_NUM_THREADS": "2", "TF_CPP_MIN_LOG_LEVEL": "3"}

# (workload, figure, unit, True when higher is better)
FIGURES = [
    ("textbook", "us_per_step", "µs/step", False),
    ("textbook", "wall_s", "s, whole process", False),
    ("small-mlp", "us_per_step", "µs/step", False),
    ("large-mlp", "samples_per_s", "samples/s", True),
    ("large-mlp", "gflops", "GFLOP/s", True),
    ("large-mlp", "peak_rss_mib", "MiB peak RSS", False),
    ("cnn", "samples_per_s", "samples/s", True),
    ("cnn", "gflops", "GFLOP/s", True),
    ("cnn", "peak_rss_mib", "MiB peak RSS", False),
    ("lstm", "samples_per_s", "samples/s", True),
    ("lstm", "gflops", "GFLOP/s", True),
    ("lstm", "peak_rss_mib", "MiB peak RSS", False),
    ("vae", "samples_per_s", "samples/s", True),
    ("vae", "generated_per_s", "rows drawn/s", True),
    ("gan", "samples_per_s", "samples/s", True),
    ("gan", "generated_per_s", "rows drawn/s", True),
    ("rows-linear", "samples_per_s", "rows/s", True),
    ("rows-linear", "load_s", "s, CSV load", False),
    ("rows-mlp", "samples_per_s", "rows/s", True),
    ("rows-full-batch", "samples_per_s", "rows/s", True),
    ("csv-load", "load_s", "s, 1M x 21 CSV", False),
    ("predict-1", "wall_s", "s, whole process", False),
    ("predict-100k", "rows_per_s", "rows/s, whole process", True),
]
DATA_WORKLOADS = ("rows-linear", "rows-mlp", "rows-full-batch", "csv-load")
# Keras has neither these nor the large-data workloads.
GENERATIVE_WORKLOADS = ("vae", "gan")
LARGE_MACS = 784 * 512 + 512 * 512 + 512 * 10
# The CNN's two 3x3 convolutions (32 then 64 filters, 28x28 then 14x14) and its dense layers.
CNN_MACS = 28 * 28 * 32 * 9 + 14 * 14 * 64 * 32 * 9 + 7 * 7 * 64 * 128 + 128 * 10
# An LSTM of 128 states over 50 steps of 8 values: four gates of input and state each step.
LSTM_MACS = 50 * 4 * (8 + 128) * 128 + 128 * 10


def timed(cmd, stdout=subprocess.PIPE):
    """Runs `cmd`; returns (stdout, wall seconds) or raises on failure."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=stdout, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{err}")
    return out or "", wall


def peak_rss(cmd):
    """Stdout and peak resident memory (MiB) of one run of `cmd`: wait4 gives this child's
    own maximum, where getrusage(RUSAGE_CHILDREN) would give the largest child so far."""
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed with status {status}")
    return out, usage.ru_maxrss / 1024


def last_json(out):
    return json.loads(out.strip().splitlines()[-1])


def build():
    """Builds nnlab, its textbook example and the bench binary; returns their paths."""
    # The default build has flex only; ndarray is one feature away, for its column.
    features = ["--features", "ndarray"]
    subprocess.run(["cargo", "build", "--release", *features, "--bin", "nnlab", "--example", "regression"], cwd=ROOT, check=True)
    out = subprocess.run(
        ["cargo", "bench", *features, "--bench", "workloads", "--no-run", "--message-format=json"],
        cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True,
    ).stdout
    bench = next(
        m["executable"]
        for m in map(json.loads, out.splitlines())
        if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "workloads"
    )
    release = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release"
    return release / "nnlab", release / "examples" / "regression", bench


def available(script):
    module = "torch" if "torch" in script.name else "keras"
    ok = subprocess.run([sys.executable, "-c", f"import {module}"], env=ENV, capture_output=True).returncode == 0
    if not ok:
        print(f"{module} does not import in {sys.executable}: its column is left out")
    return ok


class Ours:
    def __init__(self, backend, nnlab, example, bench, work):
        self.backend, self.nnlab, self.example, self.bench = backend, nnlab, example, bench
        self.name = "nnlab" if backend == "flex" else f"nnlab-{backend}"
        self.run = work / f"{self.name}-run"

    def textbook(self):
        out, wall = timed([self.example, self.run.parent / f"{self.name}-textbook", "--backend", self.backend])
        line = next(l for l in out.splitlines() if " steps in " in l)
        steps = int(line.split(": ")[1].split()[0])
        seconds = float(line.split(" steps in ")[1].rstrip("s"))
        return {"us_per_step": seconds / steps * 1e6, "wall_s": wall}

    def workload(self, name):
        out, rss = peak_rss([self.bench, "--json", "--runs", "1", "--backend", self.backend, name])
        return {**last_json(out), "peak_rss_mib": rss}

    def has(self, name):
        return True

    def save(self):
        subprocess.run(
            [self.nnlab, "train", "--dataset", "moons", "--samples", "1000", "--hidden", "16,16",
             "--optimizer", "adam", "--epochs", "20", "--quiet", "--overwrite", "--out", self.run,
             "--backend", self.backend],
            cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL,
        )

    def predict(self, csv):
        return [self.nnlab, "predict", "--checkpoint", self.run, "--input", csv, "--backend", self.backend]


class Peer:
    def __init__(self, script, work):
        self.script, self.work = script, work
        self.name = "PyTorch" if "torch" in script.name else "Keras"

    def textbook(self):
        out, wall = timed([sys.executable, self.script, "textbook"])
        return {**last_json(out), "wall_s": wall}

    def workload(self, name):
        out, rss = peak_rss([sys.executable, self.script, name])
        return {**last_json(out), "peak_rss_mib": rss}

    def has(self, name):
        return self.name == "PyTorch" or name not in DATA_WORKLOADS + GENERATIVE_WORKLOADS

    def save(self):
        subprocess.run([sys.executable, self.script, "save", self.work], cwd=ROOT, env=ENV, check=True)

    def predict(self, csv):
        return [sys.executable, self.script, "predict", self.work, csv]


def write_inputs(work):
    """One row and 100,000 rows of the moons' two features, as CSV with nnlab's header."""
    one, big = work / "one.csv", work / "big.csv"
    one.write_text("x1,x2\n0.5,0.25\n")
    with big.open("w") as f:
        f.write("x1,x2\n")
        for i in range(100_000):
            f.write(f"{(i % 1000) / 400 - 1:.4f},{(i // 1000) / 100 - 0.5:.4f}\n")
    return one, big


def round_of(frameworks, one, big, results, large, want):
    for fw in frameworks:
        r = results.setdefault(fw.name, {})
        if want("textbook"):
            t = fw.textbook()
            r.setdefault(("textbook", "us_per_step"), []).append(t["us_per_step"])
            r.setdefault(("textbook", "wall_s"), []).append(t["wall_s"])
        if want("small-mlp"):
            r.setdefault(("small-mlp", "us_per_step"), []).append(fw.workload("small-mlp")["us_per_step"])
        for name, macs in (("large-mlp", LARGE_MACS), ("cnn", CNN_MACS), ("lstm", LSTM_MACS)):
            if large and want(name):
                m = fw.workload(name)
                r.setdefault((name, "samples_per_s"), []).append(m["samples_per_s"])
                r.setdefault((name, "gflops"), []).append(m["samples_per_s"] * 6 * macs / 1e9)
                r.setdefault((name, "peak_rss_mib"), []).append(m["peak_rss_mib"])
        for name in GENERATIVE_WORKLOADS:
            if large and want(name) and fw.has(name):
                m = fw.workload(name)
                for figure in ("samples_per_s", "generated_per_s"):
                    r.setdefault((name, figure), []).append(m[figure])
        for name in DATA_WORKLOADS:
            if large and want(name) and fw.has(name):
                m = fw.workload(name)
                for figure in ("samples_per_s", "load_s"):
                    if figure in m:
                        r.setdefault((name, figure), []).append(m[figure])
        if want("predict-1"):
            _, wall = timed(fw.predict(one))
            r.setdefault(("predict-1", "wall_s"), []).append(wall)
        if want("predict-100k"):
            out, wall = timed(fw.predict(big))
            assert len(out.splitlines()) >= 100_000, f"{fw.name} predicted {len(out.splitlines())} lines"
            r.setdefault(("predict-100k", "rows_per_s"), []).append(100_000 / wall)


def fmt(v):
    return f"{v:,.0f}" if v >= 1000 else f"{v:.3g}" if v < 10 else f"{v:.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--large-rounds", type=int, default=3, help="rounds that include the large MLP, the CNN, the LSTM, the VAE, the GAN and the large-data workloads")
    parser.add_argument("--only", help="comma-separated workloads to run (default: all), e.g. cnn,large-mlp")
    parser.add_argument("--out", type=Path, help="write every measurement here as JSON")
    args = parser.parse_args()

    nnlab, example, bench = build()
    work = Path(tempfile.mkdtemp(prefix="nnlab-peers-"))
    frameworks = [Ours(b, nnlab, example, bench, work) for b in ("flex", "ndarray")]
    # The large-data workloads' CSV files, written once by nnlab's bench for every contender.
    ENV["NNLAB_BENCH_DATA"] = str(work)
    subprocess.run([bench, "--json", "--runs", "1", "csv-load", "rows-linear"], env=ENV, check=True, stdout=subprocess.DEVNULL)
    frameworks += [Peer(PEERS / s, work) for s in ("torch_workloads.py", "keras_workloads.py") if available(PEERS / s)]
    for fw in frameworks:
        fw.save()
    one, big = write_inputs(work)

    chosen = set(args.only.split(",")) if args.only else None
    want = lambda workload: chosen is None or workload in chosen
    results = {}
    for i in range(args.rounds):
        print(f"round {i + 1}/{args.rounds}", file=sys.stderr)
        round_of(frameworks, one, big, results, i < args.large_rounds, want)

    names = [fw.name for fw in frameworks]
    ours = [n for n in names if n.startswith("nnlab")]
    peers = [n for n in names if n not in ours]
    header = ["workload", "figure"] + names + [f"{o}/{p}" for p in peers for o in ours]
    rows = []
    for workload, figure, unit, _ in FIGURES:
        if not want(workload):
            continue
        med = {n: statistics.median(results[n][(workload, figure)]) for n in names if (workload, figure) in results[n]}
        row = [workload, unit] + [fmt(med[n]) if n in med else "-" for n in names]
        row += [f"{med[o] / med[p]:.3g}" if p in med else "-" for p in peers for o in ours]
        rows.append(row)
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    print(f"\nmedians of {args.rounds} rounds ({args.large_rounds} for the large workloads); {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs\n")
    for r in [header] + rows:
        print("  ".join(str(c).rjust(w) if i > 1 else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
    print("\nratio < 1 means nnlab is faster for times and slower for rates")
    if args.out:
        raw = {name: {f"{w}/{f}": v for (w, f), v in r.items()} for name, r in results.items()}
        args.out.write_text(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()
