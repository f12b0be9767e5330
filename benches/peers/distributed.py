"""Data-parallel training on localhost: nnlab's nodes beside PyTorch DDP (gloo, CPU).

The large MLP (784-512-512-10, 669,706 parameters), Adam, float32, batch 64 per node, on
4,096 random rows of 784 values and 10 classes, for 1, 2 and 4 nodes on this machine. Each
node gets max(1, cores / N) threads. Reports per run: the time per step (train seconds /
steps), the samples per second, and the bytes the loopback interface carried per step and
node (from /proc/net/dev), beside the ring all-reduce's 2(N-1)/N x parameters x 4 bytes.

    python3 benches/peers/distributed.py [--nnlab target/debug/nnlab] [--epochs 3]
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

ROWS, WIDTH, CLASSES, BATCH = 4096, 784, 10, 64
PARAMETERS = 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loopback_bytes():
    with open("/proc/net/dev") as f:
        for line in f:
            if line.strip().startswith("lo:"):
                return int(line.split(":")[1].split()[0])
    return 0


def write_table(path):
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.random((ROWS, WIDTH), dtype=np.float32)
    y = rng.integers(0, CLASSES, ROWS)
    with open(path, "w") as f:
        f.write(",".join(f"x{j}" for j in range(WIDTH)) + ",label\n")
        for row, label in zip(x, y):
            f.write(",".join(f"{v:.4f}" for v in row) + f",c{label}\n")
    return x, y


def nnlab_run(binary, table, nodes, epochs, tmp):
    threads = max(1, os.cpu_count() // nodes)
    out = os.path.join(tmp, f"nnlab-{nodes}")
    base = [binary, "--threads", str(threads), "train", "--data", table, "--target", "label",
            "--task", "classification", "--hidden", "512,512", "--batch-size", str(BATCH),
            "--epochs", str(epochs), "--validation", "0", "--test", "0", "--seed", "1",
            "--overwrite", "-q", "--out", out]
    orchestrator = None
    before = loopback_bytes()
    if nodes == 1:
        subprocess.run(base, check=True, stderr=subprocess.DEVNULL)
    else:
        port = free_port()
        orchestrator = subprocess.Popen([binary, "orchestrate", "--port", str(port)],
                                        stderr=subprocess.DEVNULL)
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            time.sleep(0.05)
        procs = [subprocess.Popen(base + ["--nodes", str(nodes), "--node", str(i),
                                          "--orchestrator", f"127.0.0.1:{port}"],
                                  stderr=subprocess.DEVNULL)
                 for i in range(nodes)]
        for p in procs:
            if p.wait() != 0:
                sys.exit(f"an nnlab node failed with {nodes} nodes")
        orchestrator.kill()
    carried = loopback_bytes() - before
    summary = json.load(open(os.path.join(out, "summary.json")))
    return summary["train_seconds"], summary["steps"], carried


def torch_node(rank, nodes, port, epochs, x, y, result):
    import torch
    import torch.distributed as dist

    torch.set_num_threads(max(1, os.cpu_count() // nodes))
    torch.manual_seed(1)
    if nodes > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}",
                                rank=rank, world_size=nodes)
    model = torch.nn.Sequential(torch.nn.Linear(WIDTH, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, CLASSES))
    if nodes > 1:
        model = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    step_rows = BATCH * nodes
    steps = 0
    start = time.perf_counter()
    for epoch in range(epochs):
        order = torch.randperm(ROWS, generator=torch.Generator().manual_seed(epoch))
        for s in range(0, ROWS - step_rows + 1, step_rows):
            rows = order[s + rank:s + step_rows:nodes]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xs[rows]), ys[rows])
            loss.backward()
            opt.step()
            steps += 1
    seconds = time.perf_counter() - start
    if rank == 0:
        result.put((seconds, steps))
    if nodes > 1:
        dist.destroy_process_group()


def torch_run(nodes, epochs, x, y):
    import torch.multiprocessing as mp

    ctx = mp.get_context("spawn")
    result = ctx.Queue()
    port = free_port()
    before = loopback_bytes()
    procs = [ctx.Process(target=torch_node, args=(r, nodes, port, epochs, x, y, result))
             for r in range(nodes)]
    for p in procs:
        p.start()
    seconds, steps = result.get()
    for p in procs:
        p.join()
    return seconds, steps, loopback_bytes() - before


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nnlab", default="target/debug/nnlab")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--nodes", default="1,2,4")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        table = os.path.join(tmp, "table.csv")
        x, y = write_table(table)
        print(f"{PARAMETERS:,} parameters; ring: 2(N-1)/N x {PARAMETERS * 4:,} bytes per node "
              "and step")
        print("| side | nodes | ms per step | samples/s | loopback bytes per step and node "
              "| ring bytes per step and node |")
        print("|---|---:|---:|---:|---:|---:|")
        for nodes in [int(n) for n in args.nodes.split(",")]:
            ring = 2 * (nodes - 1) / nodes * PARAMETERS * 4
            runs = [("nnlab", nnlab_run(args.nnlab, table, nodes, args.epochs, tmp))]
            runs.append(("PyTorch DDP (gloo)", torch_run(nodes, args.epochs, x, y)))
            for side, (seconds, steps, carried) in runs:
                per_step = seconds / steps
                samples = steps * BATCH * nodes / seconds
                # Loopback bytes count each byte once; both ends of a transfer see it.
                print(f"| {side} | {nodes} | {1000 * per_step:.1f} | {samples:,.0f} | "
                      f"{carried / steps / nodes:,.0f} | {ring:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
