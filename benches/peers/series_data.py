"""Writes the generated series of docs/benchmarks.md's issue-32 table to DIR (one column,
`value`): monthly.csv, mult.csv, temp.csv, quarterly.csv, cycle.csv, walk.csv."""
import sys
from pathlib import Path

import numpy as np


def write(path, y):
    with open(path, "w") as f:
        f.write("value\n")
        f.writelines(f"{v:.4f}\n" for v in y)


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    r = np.random.default_rng(0)
    t = np.arange(257)
    e = np.zeros(257)
    for i in range(1, 257):
        e[i] = 0.5 * e[i - 1] + r.normal(0, 2)
    season = 15 * np.sin(2 * np.pi * t / 12) + 6 * np.cos(4 * np.pi * t / 12)
    write(out / "monthly.csv", 100 + 0.2 * t + season + e)
    t = np.arange(120)
    write(out / "quarterly.csv", 50 + 0.4 * t + np.array([6, -2, 8, -12])[t % 4] + r.normal(0, 1.5, 120))
    y = np.zeros(309)
    for i in range(2, 309):
        y[i] = 1.6 * y[i - 1] - 0.9 * y[i - 2] + r.normal(0, 10)
    write(out / "cycle.csv", y + 80)
    write(out / "walk.csv", np.cumsum(r.normal(0, 1, 300)))
    r = np.random.default_rng(5)
    t = np.arange(257)
    profile = r.normal(0, 6, 12)
    write(out / "temp.csv", 20 + 10 * np.sin(2 * np.pi * t / 12) + profile[t % 12] + r.normal(0, 1.5, 257))
    level = np.exp(0.004 * t)
    write(out / "mult.csv", 200 * level * (1 + 0.25 * np.sin(2 * np.pi * t / 12)) + r.normal(0, 4, 257))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "artifacts/series")
