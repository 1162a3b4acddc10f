#!/usr/bin/env bash
# Builds what a lent GPU machine needs, here (it has no registry access and takes at most 64 MiB
# of built files): a CUDA build of `hrl`, stripped and xz-compressed, and CUDA's libdevice
# (`libdevice.10.bc`, from PyPI's nvidia-nvvm wheel), which burn's CUDA kernels link for exp, log
# and tanh; then prints the sizes and the shared libraries the binary loads.
#
# Usage: bench/gpu/build.sh
# Environment: DIST (default gpu-dist: hrl.xz, nvvm/libdevice/libdevice.10.bc; carry it to the
#   device machine: bench/gpu/check.sh unpacks and uses it), FEATURES (default cuda; empty builds the
#   CPU binary, to check the packaging without the CUDA graph), CUDARC_CUDA_VERSION (the CUDA
#   version the driver offers, default 13000 = 13.0, driver 580), CARGO_TARGET_DIR (default
#   target-cuda; the CUDA graph resolves different features from the CPU build).
# A cold CUDA build takes about 90 minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/../.."

DIST="${DIST:-gpu-dist}"
FEATURES="${FEATURES-cuda}"
export CUDARC_CUDA_VERSION="${CUDARC_CUDA_VERSION:-13000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target-cuda}"

if [ -n "$FEATURES" ]; then
    bash bench/gpu/llvm_standin.sh >/dev/null
fi
cargo build --release -p hrl-cli ${FEATURES:+--features "$FEATURES"}
mkdir -p "$DIST/nvvm/libdevice"
strip -o "$DIST/hrl" "$CARGO_TARGET_DIR/release/hrl"
echo "shared libraries of the stripped binary:"
ldd "$DIST/hrl"
xz -9 -T0 -f "$DIST/hrl"

wheels="$(mktemp -d)"
trap 'rm -rf "$wheels"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$wheels" nvidia-nvvm
python3 - "$wheels" "$DIST/nvvm/libdevice" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(f"{sys.argv[1]}/nvidia_nvvm-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith("libdevice.10.bc"))
    with open(f"{sys.argv[2]}/libdevice.10.bc", "wb") as out:
        out.write(z.read(name))
print(f"libdevice from {wheel.rsplit('/', 1)[-1]} ({name})")
PY
du -b "$DIST/hrl.xz" "$DIST/nvvm/libdevice/libdevice.10.bc"
total="$(du -cb "$DIST/hrl.xz" "$DIST/nvvm/libdevice/libdevice.10.bc" | tail -n 1 | cut -f1)"
if [ "$total" -gt $((64 * 1024 * 1024)) ]; then
    echo "the files to carry ($total bytes) exceed the device machine's 64 MiB" >&2
    exit 1
fi
echo "to carry: $DIST ($total bytes); on the device machine: bench/gpu/check.sh"
