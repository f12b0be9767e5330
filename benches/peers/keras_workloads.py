"""The benchmark workloads in Keras (TensorFlow backend), written as a Keras user would.

Each call runs one workload and prints one JSON line; `benches/peers/compare.py` runs this
file alternately with nnlab's and PyTorch's. float32, 2 threads.

    python3 benches/peers/keras_workloads.py textbook|small-mlp|large-mlp|cnn|lstm
    python3 benches/peers/keras_workloads.py save DIR          # the small MLP, for predict
    python3 benches/peers/keras_workloads.py predict DIR FILE.csv
"""

import json
import math
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
import tensorflow as tf
import keras

tf.config.threading.set_intra_op_parallelism_threads(2)
tf.config.threading.set_inter_op_parallelism_threads(2)
keras.utils.set_random_seed(0)


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.start)


def moons(n, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, math.pi, n)
    label = rng.integers(0, 2, n)
    x = np.where(label == 0, np.cos(t), 1 - np.cos(t))
    y = np.where(label == 0, np.sin(t), 0.5 - np.sin(t))
    xy = np.stack([x, y], 1) + rng.normal(0, 0.1, (n, 2))
    return xy.astype(np.float32), label.astype(np.int64)


def small_mlp():
    return keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(2),
        ]
    )


def compile_classifier(model):
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )


def timed_fit(model, x, y, epochs, batch):
    """The whole `fit` (its first-epoch tracing included) and each epoch's seconds."""
    timer = EpochTimer()
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=batch, shuffle=True, verbose=0, callbacks=[timer])
    return time.perf_counter() - start, timer.times


def textbook():
    np.random.seed(1)
    x = np.random.rand(100, 1).astype(np.float32)
    y = (3 * x + np.random.rand(100, 1)).astype(np.float32)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    seconds, _ = timed_fit(model, x, y, 1000, 32)
    steps = 1000 * math.ceil(100 / 32)
    return {"us_per_step": seconds / steps * 1e6, "steps": steps}


def small():
    x, y = moons(1000)
    model = small_mlp()
    compile_classifier(model)
    seconds, _ = timed_fit(model, x, y, 200, 32)
    steps = 200 * math.ceil(1000 / 32)
    return {"us_per_step": seconds / steps * 1e6, "steps": steps}


def large():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60000, 784), dtype=np.float32)
    y = rng.integers(0, 10, 60000)
    model = keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    compile_classifier(model)
    # Two epochs; the second, warm one is the one measured.
    _, times = timed_fit(model, x, y, 2, 128)
    return {"samples_per_s": 60000 / times[1]}


def cnn():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (6000, 28, 28, 1)).astype(np.float32)
    y = rng.integers(0, 10, 6000)
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    compile_classifier(model)
    # Two epochs; the second, warm one is the one measured.
    _, times = timed_fit(model, x, y, 2, 64)
    return {"samples_per_s": 6000 / times[1]}


def lstm():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (6400, 50, 8)).astype(np.float32)
    y = rng.integers(0, 10, 6400)
    model = keras.Sequential([keras.Input((50, 8)), keras.layers.LSTM(128), keras.layers.Dense(10)])
    compile_classifier(model)
    # Two epochs; the second, warm one is the one measured.
    _, times = timed_fit(model, x, y, 2, 64)
    return {"samples_per_s": 6400 / times[1]}


def save(out):
    x, y = moons(1000)
    model = small_mlp()
    compile_classifier(model)
    model.fit(x, y, epochs=20, batch_size=32, verbose=0)
    model.save(f"{out}/keras_small_mlp.keras")


def predict(out, csv):
    model = keras.models.load_model(f"{out}/keras_small_mlp.keras")
    x = np.loadtxt(csv, delimiter=",", skiprows=1, usecols=(0, 1), dtype=np.float32, ndmin=2)
    labels = model.predict(x, batch_size=4096, verbose=0).argmax(1)
    sys.stdout.write("\n".join(map(str, labels)) + "\n")


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "save":
        save(sys.argv[2])
    elif what == "predict":
        predict(sys.argv[2], sys.argv[3])
    else:
        run = {"textbook": textbook, "small-mlp": small, "large-mlp": large, "cnn": cnn, "lstm": lstm}[what]
        print(json.dumps({"workload": what, **run()}))
