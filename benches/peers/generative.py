"""nnlab's autoencoders, VAEs and GANs against their references, in one run.

    python3 benches/peers/generative.py [--nnlab target/release/nnlab] [--out results.json]

Run it with the Python that has scikit-learn and torch. Three checks:

1. PCA: the optimal linear autoencoder. On scikit-learn's 8x8 digits (1,797 images) and its
   diabetes table (442 rows), split 80/20 with one seed: nnlab's autoencoder with latent K,
   trained on the training rows with its defaults, against scikit-learn's PCA with K
   components fitted on the same rows (standardized as nnlab standardizes them), both scored
   by the reconstruction MSE of the held-out rows in the input's units.
2. The ring of 8 Gaussians (radius 2, sigma 0.02; Metz et al. 2017): nnlab's GAN with its
   defaults against a PyTorch GAN of the same size, loss, optimizer, batch and steps. Modes
   covered and the share of 1,000 samples within 3 sigma of a mode, and training samples/s.
3. Samples that look like the data: a classifier trained by nnlab on the digits labels the
   1,000 samples of nnlab's VAE and GAN trained on the digits (the GAN with its defaults and
   with the preset `--minibatch-std --lr 0.0001`); the class histogram.
"""

import argparse
import csv
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_diabetes, load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parents[2]


def nnlab(binary, *args, cwd):
    out = subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"nnlab {' '.join(args)}: {out.stderr}")
    return out.stdout, out.stderr


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def read_csv(text):
    rows = list(csv.reader(text.splitlines()))
    return rows[0], np.array([[float(c) for c in r] for r in rows[1:]])


def pca_table(binary, work, name, X, ks):
    """nnlab's autoencoder beside PCA for each K, on one 80/20 split of X."""
    header = [f"x{i}" for i in range(X.shape[1])]
    train, test = train_test_split(X, test_size=0.2, random_state=0)
    write_csv(work / f"{name}-train.csv", header, train)
    write_csv(work / f"{name}-test.csv", header, test)
    mean, std = train.mean(0), train.std(0)
    std[std < 1e-12] = 1.0
    rows = []
    for k in ks:
        run = f"{name}-ae{k}"
        t = time.perf_counter()
        nnlab(binary, "train", "--data", f"{name}-train.csv", "--model", "autoencoder", "--latent", str(k),
              "--out", run, "--overwrite", "-q", cwd=work)
        seconds = time.perf_counter() - t
        out, _ = nnlab(binary, "eval", "--checkpoint", run, "--input", f"{name}-test.csv", "--json", cwd=work)
        ae = json.loads(out)["reconstruction_mse"]
        pca = PCA(n_components=k).fit((train - mean) / std)
        back = pca.inverse_transform(pca.transform((test - mean) / std)) * std + mean
        rows.append({"data": name, "k": k, "autoencoder": ae, "pca": float(((back - test) ** 2).mean()),
                     "train_s": seconds})
    return rows


def modes(samples):
    centres = [(2 * math.cos(2 * math.pi * k / 8), 2 * math.sin(2 * math.pi * k / 8)) for k in range(8)]
    hits = [0] * 8
    for x, y in samples:
        d = [math.hypot(x - a, y - b) for a, b in centres]
        k = min(range(8), key=d.__getitem__)
        if d[k] <= 3 * 0.02:
            hits[k] += 1
    return {"modes": sum(h > 0 for h in hits), "within_3_sigma": sum(hits) / len(samples), "hits": hits}


def ring_points(n, seed):
    rng = np.random.default_rng(seed)
    k = np.arange(n) % 8
    angle = 2 * math.pi * k / 8
    return np.stack([2 * np.cos(angle), 2 * np.sin(angle)], 1) + rng.normal(0, 0.02, (n, 2))


def torch_gan(data, steps, batch=32, hidden=128, noise=8, seed=0):
    import torch
    torch.manual_seed(seed)
    torch.set_num_threads(2)
    mean, std = data.mean(0), data.std(0)
    x = torch.tensor((data - mean) / std, dtype=torch.float32)
    G = torch.nn.Sequential(torch.nn.Linear(noise, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, hidden),
                            torch.nn.ReLU(), torch.nn.Linear(hidden, 2))
    D = torch.nn.Sequential(torch.nn.Linear(2, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, hidden),
                            torch.nn.ReLU(), torch.nn.Linear(hidden, 1))
    og = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999), eps=1e-5)
    od = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999), eps=1e-5)
    bce = torch.nn.BCEWithLogitsLoss()
    t = time.perf_counter()
    step, n = 0, len(x)
    while step < steps:
        order = torch.randperm(n)
        for start in range(0, n, batch):
            real = x[order[start:start + batch]]
            rows = len(real)
            fake = G(torch.randn(rows, noise)).detach()
            d_loss = bce(D(real), torch.ones(rows, 1)) + bce(D(fake), torch.zeros(rows, 1))
            od.zero_grad(); d_loss.backward(); od.step()
            g_loss = bce(D(G(torch.randn(rows, noise))), torch.ones(rows, 1))
            og.zero_grad(); g_loss.backward(); og.step()
            step += 1
            if step == steps:
                break
    seconds = time.perf_counter() - t
    with torch.no_grad():
        samples = G(torch.randn(1000, noise)).numpy() * std + mean
    return samples, seconds


def ring(binary, work):
    out = {}
    t = time.perf_counter()
    _, said = nnlab(binary, "train", "--dataset", "ring", "--model", "gan", "--out", "ring", "--overwrite", "-q", cwd=work)
    seconds = time.perf_counter() - t
    steps = int(said.split("(")[1].split(" steps")[0])
    text, _ = nnlab(binary, "generate", "--checkpoint", "ring", "--count", "1000", cwd=work)
    out["nnlab"] = {**modes(read_csv(text)[1]), "train_s": seconds, "samples_per_s": steps * 32 / seconds}
    samples, seconds = torch_gan(ring_points(1000, 0), steps)
    out["pytorch"] = {**modes(samples), "train_s": seconds, "samples_per_s": steps * 32 / seconds}
    return out


def histograms(binary, work, digits):
    header = [f"x{i}" for i in range(64)]
    write_csv(work / "digits.csv", header + ["digit"], [list(r) + [int(y)] for r, y in zip(digits.data, digits.target)])
    nnlab(binary, "train", "--data", "digits.csv", "--target", "digit", "--task", "classification", "--out", "clf",
          "--overwrite", "-q", cwd=work)
    result = {}
    # The GAN with its defaults, and with the preset for wide rows (docs/generative.md).
    runs = {"vae": ["--model", "vae"], "gan": ["--model", "gan"],
            "gan-minibatch-std": ["--model", "gan", "--minibatch-std", "--lr", "0.0001"]}
    for model, flags in runs.items():
        nnlab(binary, "train", "--data", "digits.csv", "--features", ",".join(header), *flags,
              "--out", model, "--overwrite", "-q", cwd=work)
        nnlab(binary, "generate", "--checkpoint", model, "--count", "1000", "--out", f"{model}-samples.csv", cwd=work)
        out, _ = nnlab(binary, "predict", "--checkpoint", "clf", "--input", f"{model}-samples.csv", cwd=work)
        labels = [r[0] for r in list(csv.reader(out.splitlines()))[1:]]
        result[model] = {str(d): labels.count(str(d)) for d in range(10)}
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nnlab", default=str(ROOT / "target" / "release" / "nnlab"))
    parser.add_argument("--out")
    args = parser.parse_args()
    binary = str(Path(args.nnlab).resolve())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        digits = load_digits()
        result = {
            "pca": pca_table(binary, work, "digits", digits.data, [2, 4, 8, 16, 32])
            + pca_table(binary, work, "diabetes", load_diabetes().data, [2, 3, 5]),
            "ring": ring(binary, work),
            "histograms": histograms(binary, work, digits),
        }
    print("data      K  autoencoder        PCA  train s")
    for r in result["pca"]:
        print(f"{r['data']:<8} {r['k']:>2} {r['autoencoder']:>12.6f} {r['pca']:>10.6f} {r['train_s']:>8.2f}")
    for who, r in result["ring"].items():
        print(f"ring {who:<8} modes {r['modes']}/8, {100 * r['within_3_sigma']:.1f}% within 3 sigma, "
              f"{r['samples_per_s']:.0f} samples/s ({r['train_s']:.2f} s)")
    for model, h in result["histograms"].items():
        print(f"{model} samples by class: {h}")
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
