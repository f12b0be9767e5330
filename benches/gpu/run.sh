#!/usr/bin/env bash
# The GPU benchmark: nnlab's workloads (benches/workloads.rs) on wgpu and CUDA beside the same
# workloads in PyTorch on CUDA (benches/peers/torch_workloads.py with TORCH_DEVICE=cuda),
# three rounds, alternating, one JSON line per run with a "runner" field.
#
#   benches/gpu/run.sh WORKLOADS_BINARY > gpu.jsonl
#
# WORKLOADS_BINARY is the executable that
# `cargo bench --bench workloads --no-default-features --features wgpu,cuda,ndarray,mimalloc --no-run`
# prints, so the GPU machine needs no Rust toolchain, only a Vulkan loader, the NVIDIA driver
# (with NVRTC for CUDA) and a Python with torch.
set -uo pipefail
bin=$1
rounds=${ROUNDS:-3}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))" >&2
tag() { sed -u "s/^{/{\"runner\": \"$1\", /"; }
for round in $(seq "$rounds"); do
  for w in textbook small-mlp large-mlp; do
    "$bin" --json --runs 1 --backend wgpu "$w" | tag nnlab-wgpu
    "$bin" --json --runs 1 --backend cuda "$w" | tag nnlab-cuda
    TORCH_DEVICE=cuda python3 benches/peers/torch_workloads.py "$w" | tag torch-cuda
  done
  echo "round $round done" >&2
done
