#!/usr/bin/env bash
# Makes (or completes) a virtual environment with PyTorch and Stable-Baselines3 for the scripts
# that run them beside hadamard-rl (bench/run_all.sh, bench/parity/sb3.sh), plus EXTRA packages.
#
# PyPI's Linux torch wheel is the CUDA build: torch is installed without its dependencies and
# then with only the NVIDIA libraries its shared objects link against (4.1 GB instead of 5.4 GB;
# `pip install --no-deps torch` alone does not import).
#
# Usage: bench/peers_venv.sh VENV [EXTRA_PACKAGE...]
set -euo pipefail
if [ $# -lt 1 ]; then
    echo "usage: bench/peers_venv.sh VENV [EXTRA_PACKAGE...]" >&2
    exit 2
fi
venv="$1"
shift
python3 -m venv "$venv"
pip=("$venv/bin/pip" install --quiet)
"${pip[@]}" --no-deps torch==2.15.0 stable-baselines3==2.9.2
"${pip[@]}" --no-deps nvidia-cuda-runtime==13.2.86 nvidia-cuda-cupti==13.2.86 \
    nvidia-cuda-nvrtc==13.2.86 nvidia-cublas==13.4.1.3 nvidia-cudnn-cu13==9.26.0.51 \
    nvidia-cufft==12.2.0.57 nvidia-cufile==1.17.1.22 nvidia-cusparse==12.7.10.12 \
    nvidia-cusparselt-cu13==0.8.1 nvidia-nccl-cu13==2.30.7 nvidia-nvshmem-cu13==3.7.2 \
    nvidia-nvjitlink==13.5.37
"${pip[@]}" filelock typing-extensions sympy networkx jinja2 fsspec numpy gymnasium==1.4.0 \
    cloudpickle pandas "$@"
