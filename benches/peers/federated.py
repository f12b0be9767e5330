"""Federated averaging on a real dataset split across nodes that do not hold the same classes
(non-IID), beside one process on the pooled rows.

scikit-learn's digits (1,797 images of 8x8) are split 80/20, stratified, seed 0. The 80% is
shared out between two nodes:
- `skewed`: node 0 holds 80% of each of the digits 0-4 and 20% of the digits 5-9, node 1 the
  rest;
- `disjoint`: node 0 holds only the digits 0-4, node 1 only 5-9.
Each split trains `nnlab train --federated --rounds R --local-epochs E` on two localhost
nodes, and one process trains R x E epochs on both nodes' rows together. All are scored by
`nnlab eval` on the same held-out 20%.

    python3 benches/peers/federated.py [--nnlab target/debug/nnlab] [--rounds 50] [--local-epochs 3]
"""

import argparse
import json
import os
import socket
import subprocess
import tempfile
import time

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def write(path, x, y):
    with open(path, "w") as f:
        f.write(",".join(f"p{j}" for j in range(x.shape[1])) + ",digit\n")
        for row, label in zip(x, y):
            f.write(",".join(str(int(v)) for v in row) + f",{label}\n")


def shares(x, y, kind):
    import numpy as np

    rng = np.random.default_rng(0)
    node0 = np.zeros(len(y), dtype=bool)
    for digit in range(10):
        rows = np.flatnonzero(y == digit)
        rng.shuffle(rows)
        low = digit < 5
        fraction = {"skewed": 0.8 if low else 0.2, "disjoint": 1.0 if low else 0.0}[kind]
        node0[rows[: round(fraction * len(rows))]] = True
    return [(x[node0], y[node0]), (x[~node0], y[~node0])]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accuracy(binary, run, test):
    out = subprocess.run([binary, "eval", "--checkpoint", run, "--input", test, "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["classification"]["accuracy"]


def common(binary, seed):
    return [binary, "train", "--target", "digit", "--task", "classification",
            "--validation", "0", "--test", "0", "--seed", str(seed), "--overwrite", "-q"]


def federated(binary, files, out, rounds, local, seed):
    port = free_port()
    orchestrator = subprocess.Popen([binary, "orchestrate", "--port", str(port)],
                                    stderr=subprocess.DEVNULL)
    while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
        time.sleep(0.05)
    start = time.perf_counter()
    nodes = [subprocess.Popen(common(binary, seed) + [
        "--data", f, "--out", out, "--federated", "--rounds", str(rounds),
        "--local-epochs", str(local), "--nodes", "2", "--node", str(i),
        "--orchestrator", f"127.0.0.1:{port}"], stderr=subprocess.DEVNULL)
        for i, f in enumerate(files)]
    codes = [n.wait() for n in nodes]
    seconds = time.perf_counter() - start
    orchestrator.kill()
    if any(codes):
        raise SystemExit(f"a federated node failed: {codes}")
    return seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nnlab", default="target/debug/nnlab")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--local-epochs", type=int, default=3)
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    digits = load_digits()
    x, xt, y, yt = train_test_split(digits.data, digits.target, test_size=0.2,
                                    stratify=digits.target, random_state=0)
    print("| split | node 0 rows | node 1 rows | seed | federated accuracy | pooled accuracy "
          "| federated s | pooled s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        test = os.path.join(tmp, "test.csv")
        write(test, xt, yt)
        pooled_csv = os.path.join(tmp, "pooled.csv")
        write(pooled_csv, x, y)
        for kind in ["skewed", "disjoint"]:
            parts = shares(x, y, kind)
            files = []
            for i, (xs, ys) in enumerate(parts):
                files.append(os.path.join(tmp, f"{kind}-{i}.csv"))
                write(files[-1], xs, ys)
            for seed in [int(s) for s in args.seeds.split(",")]:
                fed = os.path.join(tmp, f"fed-{kind}-{seed}")
                fed_s = federated(args.nnlab, files, fed, args.rounds, args.local_epochs, seed)
                one = os.path.join(tmp, f"one-{seed}")
                start = time.perf_counter()
                epochs = args.rounds * args.local_epochs
                subprocess.run(common(args.nnlab, seed) + [
                    "--data", pooled_csv, "--out", one, "--epochs", str(epochs)],
                    check=True, stderr=subprocess.DEVNULL)
                one_s = time.perf_counter() - start
                print(f"| {kind} | {len(parts[0][1])} | {len(parts[1][1])} | {seed} | "
                      f"{accuracy(args.nnlab, fed, test):.4f} | "
                      f"{accuracy(args.nnlab, one, test):.4f} | {fed_s:.1f} | {one_s:.1f} |",
                      flush=True)


if __name__ == "__main__":
    main()
