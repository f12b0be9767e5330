"""scikit-learn's classifiers on four small tables, beside `nnlab cv` on the same files.

    python3 benches/peers/sklearn_classify.py DIR

Writes iris, wine, breast_cancer and digits (scikit-learn's copies) to DIR/NAME.csv, the
class as a text column `label` (so that nnlab reads a classification), and prints each
one's 5-fold stratified accuracy (shuffled, random_state 0) for MLPClassifier and
LogisticRegression with their defaults after a StandardScaler: mean ± the population
standard deviation over the folds. Then run, for each NAME,

    nnlab cv --data DIR/NAME.csv --target label --folds 5

Needs scikit-learn (pip install scikit-learn).
"""

import sys
import warnings

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

LOADERS = {
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
}


def write(path, x, y):
    names = [f"x{j}" for j in range(x.shape[1])]
    with open(path, "w") as f:
        f.write(",".join(names + ["label"]) + "\n")
        for row, label in zip(x, y):
            f.write(",".join(repr(float(v)) for v in row) + f",c{label}\n")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    warnings.simplefilter("ignore", ConvergenceWarning)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    print("| data | rows | MLPClassifier | LogisticRegression |")
    print("|---|---:|---:|---:|")
    for name, load in LOADERS.items():
        x, y = load(return_X_y=True)
        write(f"{out}/{name}.csv", x, y)
        cells = []
        for model in (MLPClassifier(random_state=0), LogisticRegression(max_iter=1000)):
            scores = cross_val_score(make_pipeline(StandardScaler(), model), x, y, cv=folds)
            cells.append(f"{scores.mean():.4f} ± {scores.std():.4f}")
        print(f"| {name} | {len(y)} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
