#!/usr/bin/env bash
# Shows that hadamard-rl, built with burn's x86-v4 (AVX-512) GEMM kernels, runs on a CPU without
# AVX-512: the kernels are picked by run-time feature detection. It runs a large-GEMM test and the
# toy experiment under QEMU user-mode emulation of a Haswell CPU (AVX2, no AVX-512), after checking
# that the same emulation does trap an AVX-512 instruction.
#
# Usage: bench/check_no_avx512.sh   (installs qemu-user with apt-get if it is missing)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v qemu-x86_64 >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user >/dev/null
fi
cpu=Haswell

# The emulated CPU must refuse AVX-512, or this check proves nothing.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '.intel_syntax noprefix\n.globl main\nmain:\n vpxord zmm0, zmm0, zmm0\n xor eax, eax\n ret\n.section .note.GNU-stack,"",@progbits\n' > "$probe/zmm.s"
cc -no-pie -o "$probe/zmm" "$probe/zmm.s"
if timeout 60 qemu-x86_64 -cpu "$cpu" "$probe/zmm" 2>/dev/null; then
    echo "check_no_avx512: emulated $cpu executed an AVX-512 instruction; cannot check" >&2
    exit 1
fi

# Build as the test suite does (the whole workspace), so CI reuses its artifacts.
test_bin=$(cargo test --release --workspace --no-run --message-format=json 2>/dev/null \
    | sed -n 's/.*"executable":"\([^"]*gemm_dispatch[^"]*\)".*/\1/p' | tail -n 1)
qemu-x86_64 -cpu "$cpu" "$test_bin" --quiet 2> >(grep -v "TCG doesn't support" >&2)
qemu-x86_64 -cpu "$cpu" target/release/hrl toy --steps 200 --out "$probe/toy" 2> >(grep -v "TCG doesn't support" >&2) >/dev/null
echo "check_no_avx512: OK (x86-v4 build ran on an emulated $cpu without AVX-512)"
