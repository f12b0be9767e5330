"""The Python peer of `nnlab serve`: a minimal FastAPI + PyTorch server of one exported nnlab
run, answering TensorFlow Serving's `POST /v1/models/{run}:predict` as nnlab does.

    NNLAB_MODEL=runs/iris/model.safetensors uvicorn serve_fastapi:app --workers 2

The weights come from `nnlab export` (an MLP), read as the PyTorch snippet of
docs/guide/evaluation.md reads them.
"""

import json
import os

import torch
from fastapi import FastAPI, HTTPException
from safetensors import safe_open
from safetensors.torch import load_file

torch.set_num_threads(1)  # one thread per worker, as servers are usually run
PATH = os.environ["NNLAB_MODEL"]
TENSORS = load_file(PATH)
with safe_open(PATH, "pt") as f:
    META = f.metadata()
CONFIG = json.loads(META["nnlab.config"])
SCALER = json.loads(META["nnlab.scaler"])
CLASSES = json.loads(os.environ.get("NNLAB_CLASSES", "null"))
FEATURES = json.loads(os.environ["NNLAB_FEATURES"])


def build():
    cfg = CONFIG["model"]
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
           "gelu": torch.nn.GELU, "identity": torch.nn.Identity}[cfg["activation"]]
    sizes = [cfg["input_size"], *cfg["hidden"], cfg["output_size"]]
    layers, state = [], {}
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        for k in ("weight", "bias"):
            state[f"{len(layers)}.{k}"] = TENSORS[f"layers.{i}.{k}"]
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(act())
    model = torch.nn.Sequential(*layers).eval()
    model.load_state_dict(state)
    return model


MODEL = build()
SHIFT = torch.tensor([a["shift"] for a in SCALER["features"]])
SCALE = torch.tensor([a["scale"] for a in SCALER["features"]])
app = FastAPI()


@app.post("/v1/models/{target}")
def predict(target: str, body: dict):
    rows = body.get("instances")
    if not isinstance(rows, list) or not rows:
        raise HTTPException(400, "the body has no instances")
    try:
        x = torch.tensor([[float(r[f]) for f in FEATURES] if isinstance(r, dict) else r
                          for r in rows], dtype=torch.float32)
    except (KeyError, TypeError, ValueError) as e:
        raise HTTPException(400, f"bad instance: {e}")
    with torch.inference_mode():
        out = MODEL((x - SHIFT) / SCALE)
    if CLASSES is None:
        t = SCALER["target"] or {"shift": 0.0, "scale": 1.0}
        return {"predictions": (out[:, 0] * t["scale"] + t["shift"]).tolist()}
    p = out.softmax(-1).tolist()
    return {"predictions": [{"class": CLASSES[max(range(len(r)), key=r.__getitem__)],
                             "probabilities": dict(zip(CLASSES, r))} for r in p]}
