"""The benchmark workloads in PyTorch, written the way a PyTorch user would write them.

Each call runs one workload and prints one JSON line; `benches/peers/compare.py` runs this
file alternately with nnlab's and Keras's and prints the table. float32, 2 threads; with
TORCH_DEVICE=cuda the training workloads run on the GPU (benches/gpu/run.sh).

    python3 benches/peers/torch_workloads.py textbook|small-mlp|large-mlp|cnn|lstm
    python3 benches/peers/torch_workloads.py vae|gan
    python3 benches/peers/torch_workloads.py rows-linear|rows-mlp|rows-full-batch|csv-load
    python3 benches/peers/torch_workloads.py save DIR          # the small MLP, for predict
    python3 benches/peers/torch_workloads.py predict DIR FILE.csv
"""

import json
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn

torch.set_num_threads(2)
torch.manual_seed(0)
DEVICE = torch.device(os.environ.get("TORCH_DEVICE", "cpu"))


def sync():
    """Waits for queued GPU work, so that a timer measures it."""
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def fit(model, loss_fn, opt, x, y, epochs, batch):
    """Shuffled mini-batches from tensors already in memory; returns per-epoch seconds."""
    model.to(DEVICE)
    x, y = x.to(DEVICE), y.to(DEVICE)
    rows = x.shape[0]
    times = []
    for _ in range(epochs):
        sync()
        start = time.perf_counter()
        order = torch.randperm(rows, device=DEVICE)
        x_epoch, y_epoch = x[order], y[order]
        for i in range(0, rows, batch):
            opt.zero_grad()
            loss = loss_fn(model(x_epoch[i : i + batch]), y_epoch[i : i + batch])
            loss.backward()
            opt.step()
        sync()
        times.append(time.perf_counter() - start)
    return times


def moons(n, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, math.pi, n)
    label = rng.integers(0, 2, n)
    x = np.where(label == 0, np.cos(t), 1 - np.cos(t))
    y = np.where(label == 0, np.sin(t), 0.5 - np.sin(t))
    xy = np.stack([x, y], 1) + rng.normal(0, 0.1, (n, 2))
    return torch.tensor(xy, dtype=torch.float32), torch.tensor(label, dtype=torch.int64)


def small_mlp():
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))


def textbook():
    np.random.seed(1)
    x = np.random.rand(100, 1)
    y = 3 * x + np.random.rand(100, 1)
    x, y = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    model = nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    times = fit(model, nn.MSELoss(), opt, x, y, 1000, 32)
    steps = 1000 * math.ceil(100 / 32)
    with torch.no_grad():
        mse = nn.functional.mse_loss(model(x.to(DEVICE)), y.to(DEVICE)).item()
    return {"us_per_step": sum(times) / steps * 1e6, "steps": steps, "train_mse": mse}


def small():
    x, y = moons(1000)
    model = small_mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = fit(model, nn.CrossEntropyLoss(), opt, x, y, 200, 32)
    steps = 200 * math.ceil(1000 / 32)
    return {"us_per_step": sum(times) / steps * 1e6, "steps": steps}


def large():
    x = torch.randn(60000, 784)
    y = torch.randint(0, 10, (60000,))
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    # Two epochs; the second, warm one is the one measured.
    times = fit(model, nn.CrossEntropyLoss(), opt, x, y, 2, 128)
    return {"samples_per_s": 60000 / times[1]}


def cnn():
    # Images in PyTorch's channel-first layout; nnlab reads rows channel last, the same pixels.
    x = torch.rand(6000, 1, 28, 28) * 2 - 1
    y = torch.randint(0, 10, (6000,))
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(7 * 7 * 64, 128), nn.ReLU(), nn.Linear(128, 10),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    # Two epochs; the second, warm one is the one measured.
    times = fit(model, nn.CrossEntropyLoss(), opt, x, y, 2, 64)
    return {"samples_per_s": 6000 / times[1]}


class LastState(nn.Module):
    """An LSTM's state after the last step, into a linear layer."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 128, batch_first=True)
        self.out = nn.Linear(128, 10)

    def forward(self, x):
        states, _ = self.lstm(x)
        return self.out(states[:, -1])


def lstm():
    x = torch.rand(6400, 50, 8) * 2 - 1
    y = torch.randint(0, 10, (6400,))
    model = LastState()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    # Two epochs; the second, warm one is the one measured.
    times = fit(model, nn.CrossEntropyLoss(), opt, x, y, 2, 64)
    return {"samples_per_s": 6400 / times[1]}


class Vae(nn.Module):
    """784 -> 400 -> (mu, log var) of 20, and back: nnlab's VAE of the same sizes."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(784, 400), nn.ReLU(), nn.Linear(400, 40))
        self.decoder = nn.Sequential(nn.Linear(20, 400), nn.ReLU(), nn.Linear(400, 784))

    def forward(self, x):
        mu, log_var = self.encoder(x).chunk(2, 1)
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
        return self.decoder(z), mu, log_var


def negative_elbo(out, x):
    """The mean over rows of 1/2 |x - x_hat|^2 + KL(q(z|x) | N(0, I)), as nnlab's VAE learns."""
    x_hat, mu, log_var = out
    reconstruction = 0.5 * ((x_hat - x) ** 2).sum(1).mean()
    kl = 0.5 * (mu**2 + log_var.exp() - log_var - 1).sum(1).mean()
    return reconstruction + kl


def generated_per_s(draw, latent):
    """Rows per second of 60,000 rows drawn from N(0, I) noise through `draw`."""
    with torch.no_grad():
        sync()
        start = time.perf_counter()
        rows = draw(torch.randn(60000, latent, device=DEVICE)).cpu().numpy()
        seconds = time.perf_counter() - start
    assert rows.shape == (60000, 784)
    return 60000 / seconds


def adam(params):
    # Adam with beta1 = 0.5, as nnlab's generative workloads.
    return torch.optim.Adam(params, lr=1e-3, betas=(0.5, 0.999))


def vae():
    x = torch.rand(60000, 784) * 2 - 1
    model = Vae()
    # Two epochs; the second, warm one is the one measured.
    times = fit(model, negative_elbo, adam(model.parameters()), x, x, 2, 128)
    return {"samples_per_s": 60000 / times[1], "generated_per_s": generated_per_s(model.decoder, 20)}


def gan():
    """noise 64 -> 256 -> 256 -> 784 against 784 -> 256 -> 256 -> 1, the non-saturating loss;
    one discriminator and one generator step per batch of 64 real rows."""
    x = (torch.rand(60000, 784) * 2 - 1).to(DEVICE)
    g = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 784)).to(DEVICE)
    d = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 1)).to(DEVICE)
    opt_g, opt_d = adam(g.parameters()), adam(d.parameters())
    bce = nn.BCEWithLogitsLoss()
    times = []
    for _ in range(2):
        sync()
        start = time.perf_counter()
        order = torch.randperm(60000, device=DEVICE)
        for i in range(0, 60000, 64):
            real = x[order[i : i + 64]]
            rows = real.shape[0]
            ones, zeros = torch.ones(rows, 1, device=DEVICE), torch.zeros(rows, 1, device=DEVICE)
            fake = g(torch.randn(rows, 64, device=DEVICE)).detach()
            d_loss = bce(d(real), ones) + bce(d(fake), zeros)
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            g_loss = bce(d(g(torch.randn(rows, 64, device=DEVICE))), ones)
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
        sync()
        times.append(time.perf_counter() - start)
    # The second, warm epoch is the one measured.
    return {"samples_per_s": 60000 / times[1], "generated_per_s": generated_per_s(g, 64)}


def data_file(name):
    """A CSV file of the large-data workloads, which nnlab's bench binary writes first."""
    return os.path.join(os.environ.get("NNLAB_BENCH_DATA", "/tmp/nnlab-bench-data"), name)


def read_rows():
    """The 1,000,000 rows of x, y from CSV with pandas, as float32 tensors; and the seconds."""
    import pandas as pd

    start = time.perf_counter()
    frame = pd.read_csv(data_file("rows.csv"), dtype=np.float32)
    x = torch.tensor(frame[["x"]].to_numpy())
    y = torch.tensor(frame[["y"]].to_numpy())
    return x, y, time.perf_counter() - start


def rows_workload(name):
    x, y, load = read_rows()
    if name == "rows-mlp":
        model = nn.Sequential(nn.Linear(1, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
    else:
        model = nn.Linear(1, 1)
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
    rows = x.shape[0]
    if name != "rows-full-batch":
        # Two epochs; the second, warm one is the one measured.
        times = fit(model, nn.MSELoss(), opt, x, y, 2, 1024)
        return {"samples_per_s": rows / times[1], "load_s": load}
    model.to(DEVICE)
    x, y = x.to(DEVICE), y.to(DEVICE)
    loss_fn, times = nn.MSELoss(), []
    for _ in range(11):
        sync()
        start = time.perf_counter()
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        sync()
        times.append(time.perf_counter() - start)
    # The first step is left out, as nnlab's first epoch is.
    return {"samples_per_s": rows * 10 / sum(times[1:]), "load_s": load}


def csv_load():
    import pandas as pd

    start = time.perf_counter()
    frame = pd.read_csv(data_file("wide.csv"), dtype=np.float32)
    assert len(frame) == 1_000_000
    return {"load_s": time.perf_counter() - start}


def save(out):
    x, y = moons(1000)
    model = small_mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    fit(model, nn.CrossEntropyLoss(), opt, x, y, 20, 32)
    torch.save(model.state_dict(), f"{out}/torch_small_mlp.pt")


def predict(out, csv):
    model = small_mlp()
    model.load_state_dict(torch.load(f"{out}/torch_small_mlp.pt"))
    model.eval()
    x = np.loadtxt(csv, delimiter=",", skiprows=1, usecols=(0, 1), dtype=np.float32, ndmin=2)
    with torch.no_grad():
        labels = model(torch.from_numpy(x)).argmax(1).numpy()
    sys.stdout.write("\n".join(map(str, labels)) + "\n")


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "save":
        save(sys.argv[2])
    elif what == "predict":
        predict(sys.argv[2], sys.argv[3])
    else:
        run = {"textbook": textbook, "small-mlp": small, "large-mlp": large, "cnn": cnn, "lstm": lstm, "vae": vae, "gan": gan, "csv-load": csv_load}
        result = rows_workload(what) if what.startswith("rows-") else run[what]()
        print(json.dumps({"workload": what, **result}))
