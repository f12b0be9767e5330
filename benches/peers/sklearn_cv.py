"""scikit-learn's MLP on nnlab's iris and diabetes data: the Evaluation table of
docs/guide/evaluation.md.

    python3 benches/peers/sklearn_cv.py [--data DIR] [--seeds N]

Needs scikit-learn (e.g. `python3 -m venv /tmp/skl && /tmp/skl/bin/pip install scikit-learn`,
then run it with /tmp/skl/bin/python). It reads the very files nnlab compiles in, from the
`linfa-datasets` crate in cargo's registry (or `--data DIR`), dropping the first diabetes row
as linfa's loader does, so both see the same 150 and 441 rows.

Protocol, as nnlab's `cv`: 5 folds, stratified for iris, shuffled for diabetes; features
standardized on the training folds. The model is scikit-learn's MLP with one hidden layer of
64 ReLU units and `max_iter=500`, its other settings left at their defaults (Adam 0.001,
batch 200, L2 alpha 1e-4). For diabetes it also scores the MLP with the target standardized
too (as nnlab does by default) and ordinary least squares. Each figure is the mean over the
5 folds, for fold seeds 0..N-1 (the model's seed equal to the fold seed); seed 0's mean
± the population standard deviation over its folds is printed beside the mean over seeds.
"""

import argparse
import glob
import gzip
import os
import warnings

import numpy as np
import sklearn
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def linfa_data_dir():
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    found = sorted(glob.glob(f"{home}/registry/src/*/linfa-datasets-*/data"))
    if not found:
        raise SystemExit("linfa-datasets not in cargo's registry: build nnlab first, or pass --data")
    return found[-1]


def read(path):
    """A gzipped CSV of numbers; the first line is skipped, as linfa's loader skips it."""
    with gzip.open(path, "rt") as f:
        return np.loadtxt(f, delimiter=",", skiprows=1, ndmin=2)


def mlp_regressor(seed):
    return MLPRegressor(hidden_layer_sizes=(64,), max_iter=500, random_state=seed)


def models(seed):
    """(data name, model name, estimator)."""
    return [
        ("iris", "MLP",
         make_pipeline(StandardScaler(),
                       MLPClassifier(hidden_layer_sizes=(64,), max_iter=500, random_state=seed))),
        ("diabetes", "MLP, raw target", make_pipeline(StandardScaler(), mlp_regressor(seed))),
        ("diabetes", "MLP, target standardized",
         TransformedTargetRegressor(make_pipeline(StandardScaler(), mlp_regressor(seed)),
                                    transformer=StandardScaler())),
        ("diabetes", "least squares", make_pipeline(StandardScaler(), LinearRegression())),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="linfa-datasets' data folder")
    parser.add_argument("--seeds", type=int, default=10, help="fold seeds 0..N-1 (default 10)")
    args = parser.parse_args()
    data = args.data or linfa_data_dir()
    iris = read(f"{data}/iris.csv.gz")
    sets = {
        "iris": (iris[:, :4], iris[:, 4].astype(int), StratifiedKFold, "accuracy"),
        "diabetes": (read(f"{data}/diabetes_data.csv.gz"),
                     read(f"{data}/diabetes_target.csv.gz")[:, 0], KFold, "r2"),
    }
    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}; data from {data}")
    for name, (x, *_) in sets.items():
        print(f"  {name}: {x.shape[0]} rows, {x.shape[1]} features")
    print(f"5-fold CV; mean over folds for seeds 0..{args.seeds - 1}\n")
    print(f"{'data':<9} {'model':<26} {'seed 0: mean ± std':>20} {'mean of seeds':>14} "
          f"{'min':>7} {'max':>7}  unconverged fits")
    for i in range(len(models(0))):
        means, first, unconverged = [], None, 0
        for seed in range(args.seeds):
            name, label, model = models(seed)[i]
            x, y, folds, scoring = sets[name]
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                scores = cross_val_score(model, x, y, scoring=scoring,
                                         cv=folds(5, shuffle=True, random_state=seed))
            unconverged += sum(issubclass(w.category, ConvergenceWarning) for w in caught)
            means.append(scores.mean())
            if first is None:
                first = (scores.mean(), scores.std())
        print(f"{name:<9} {label:<26} {first[0]:>11.3f} ± {first[1]:.3f} {np.mean(means):>14.3f} "
              f"{min(means):>7.3f} {max(means):>7.3f}  {unconverged} of {5 * args.seeds}")


if __name__ == "__main__":
    main()
