"""`nnlab serve` against FastAPI + PyTorch serving the same model, under the same load.

    python3 benches/peers/serve_load.py [--seconds 10] [--clients 1,8,64] [--rounds 1]
                                        [--million] [--out results.json]

Run it with a Python that has torch, fastapi, uvicorn and safetensors; wrk (Debian's `wrk`)
makes the load. It builds nnlab in release mode, trains an iris MLP and exports it, then for
each round serves it with `nnlab serve` and with `serve_fastapi.py` (uvicorn, 2 workers, one
torch thread each), in turn, and sends one-row predictions from 1, 8 and 64 connections
(`wrk -t1 -cN --latency`), warmed up first. It prints requests/s, p50 and p99 (medians over
rounds) and nnlab/Python ratios. `--million` then sends 1,000,000 requests to nnlab alone,
sampling its resident memory every 0.2 s, and prints the peak and the growth after warm-up.
Both servers, and wrk, share this machine's cores.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PEERS = Path(__file__).resolve().parent
ROW = {"sepal_length": 6.4, "sepal_width": 3.2, "petal_length": 4.5, "petal_width": 1.5}
BODY = json.dumps({"instances": [ROW]})


def nnlab_binary():
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    return str(target / "release" / "nnlab")


def prepare(nnlab, tmp):
    run = tmp / "runs" / "iris"
    subprocess.run([nnlab, "train", "--dataset", "iris", "--epochs", "50", "-q", "--out",
                    str(run)], check=True)
    subprocess.run([nnlab, "export", "--checkpoint", str(run)], check=True,
                   stderr=subprocess.DEVNULL)
    info = json.loads((run / "run.json").read_text())
    script = tmp / "post.lua"
    script.write_text('wrk.method = "POST"\nwrk.body = %s\n'
                      'wrk.headers["Content-Type"] = "application/json"\n' % json.dumps(BODY))
    return run, info, script


def start(kind, nnlab, run, info, port):
    if kind == "nnlab":
        cmd = [nnlab, "serve", "--runs", str(run.parent), "--port", str(port)]
        env = os.environ
    else:
        cmd = [sys.executable, "-m", "uvicorn", "serve_fastapi:app", "--port", str(port),
               "--workers", "2", "--log-level", "warning"]
        env = {**os.environ, "NNLAB_MODEL": str(run / "model.safetensors"),
               "NNLAB_FEATURES": json.dumps(info["feature_names"]),
               "NNLAB_CLASSES": json.dumps(info["classes"]), "OMP_NUM_THREADS": "1"}
    server = subprocess.Popen(cmd, cwd=PEERS, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1/models/iris:predict"
    for _ in range(1200):  # torch imports slowly on a busy machine
        try:
            request = urllib.request.Request(url, BODY.encode(),
                                             {"Content-Type": "application/json"})
            answer = json.loads(urllib.request.urlopen(request, timeout=2).read())
            return server, url, answer
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit(f"{kind} did not answer on port {port}")


def seconds(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


def wrk(url, script, clients, duration):
    out = subprocess.run(["wrk", "-t1", f"-c{clients}", f"-d{duration}s", "--latency",
                          "-s", str(script), url], check=True, capture_output=True,
                         text=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw errors:\n{out}")
    percentile = lambda p: seconds(re.search(rf"^\s+{p}%\s+(\S+)", out, re.M).group(1))
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": percentile(50) * 1e3,
        "p99_ms": percentile(99) * 1e3,
    }


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def million(nnlab, run, info, script, port):
    server, url, _ = start("nnlab", nnlab, run, info, port)
    samples, done = [], threading.Event()

    def sample():
        start = time.perf_counter()
        while not done.is_set():
            samples.append((time.perf_counter() - start, rss_kib(server.pid)))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample)
    sampler.start()
    sent, marks = 0, []
    while sent < 1_000_000:
        sent += wrk(url, script, 64, 5)["requests"]
        marks.append((sent, rss_kib(server.pid)))
    done.set()
    sampler.join()
    server.terminate()
    server.wait(timeout=30)
    warm = next(kib for n, kib in marks if n >= 100_000)
    return {"requests": sent, "peak_rss_mib": max(k for _, k in samples) / 1024,
            "rss_after_100k_mib": warm / 1024, "rss_at_end_mib": marks[-1][1] / 1024,
            "marks": marks}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", default="1,8,64")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--million", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    nnlab = nnlab_binary()
    results = {"nnlab": {c: [] for c in clients}, "python": {c: [] for c in clients}}
    with tempfile.TemporaryDirectory() as tmp:
        run, info, script = prepare(nnlab, Path(tmp))
        answers = {}
        for _ in range(args.rounds):
            for kind in ("nnlab", "python"):
                server, url, answers[kind] = start(kind, nnlab, run, info, 18_080)
                wrk(url, script, 8, 2)  # warm-up
                for c in clients:
                    results[kind][c].append(wrk(url, script, c, args.seconds))
                server.terminate()
                server.wait(timeout=30)
        print("answers:", json.dumps(answers))
        memory = million(nnlab, run, info, script, 18_081) if args.million else None
    print(f"{'clients':>7} | {'nnlab req/s':>11} {'p50 ms':>7} {'p99 ms':>7} | "
          f"{'python req/s':>12} {'p50 ms':>7} {'p99 ms':>7} | {'ratio':>6}")
    table = []
    for c in clients:
        med = lambda kind, key: statistics.median(r[key] for r in results[kind][c])
        row = {"clients": c, **{f"{k}_{key}": med(k, key) for k in ("nnlab", "python")
                                for key in ("rps", "p50_ms", "p99_ms")}}
        row["ratio"] = row["nnlab_rps"] / row["python_rps"]
        table.append(row)
        print(f"{c:>7} | {row['nnlab_rps']:>11.0f} {row['nnlab_p50_ms']:>7.2f} "
              f"{row['nnlab_p99_ms']:>7.2f} | {row['python_rps']:>12.0f} "
              f"{row['python_p50_ms']:>7.2f} {row['python_p99_ms']:>7.2f} | "
              f"{row['ratio']:>5.1f}x")
    if memory:
        print(f"1,000,000 requests ({memory['requests']} sent, 64 connections): peak RSS "
              f"{memory['peak_rss_mib']:.1f} MiB; {memory['rss_after_100k_mib']:.1f} MiB after "
              f"100k, {memory['rss_at_end_mib']:.1f} MiB at the end")
    if args.out:
        Path(args.out).write_text(json.dumps({"table": table, "memory": memory,
                                              "raw": results}, indent=1))


if __name__ == "__main__":
    main()
