#!/usr/bin/env bash
# Lets burn's CUDA backend build on a machine that reaches only the package registries.
#
# burn 0.22.1's CUDA runtime (cubecl-cuda) lowers kernels to PTX through LLVM (cubecl-llvm), whose
# build dependency tracel-llvm-bundler downloads a prebuilt LLVM 23 from the internet unless its
# cache folder already holds one (it returns early when the folder's `.tracel-llvm-installed`
# sentinel exists). This script fills that folder with a stand-in for Debian's LLVM 22
# (`llvm-22-dev`, plus `libzstd-dev` for its link line), installed with apt when missing:
# a `bin/llvm-config` that forwards to Debian's in its static mode (the bundle's default, which
# the bundler expects) and rewrites two things the bundler's parser cannot take: an absolute library path (`/usr/lib/.../libz3.so`, which it would turn into
# `-llibz3`) becomes `-lz3`, and Polly's libraries (listed, not shipped, unused) are dropped.
# LLVM 22 under bindings made for 23: the parts of LLVM's C API that cubecl uses did not change
# between them (the differences are renumbered enums on the IR-import side, which it does not
# call); whether every kernel lowers correctly is what bench/gpu/check.sh checks on a GPU.
#
# Usage: bench/gpu/llvm_standin.sh        (then: cargo build --release -p hrl-cli --features cuda)
# Prints the stand-in's folder. Re-running it is harmless; after changing the stand-in, run
# `cargo clean -p cubecl-llvm --release` (cargo does not re-run the bundler's build script).
set -euo pipefail
cd "$(dirname "$0")/../.."

version="$(awk '/^name = "tracel-llvm-bundler"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)"
if [ -z "$version" ]; then
    echo "Cargo.lock names no tracel-llvm-bundler: is this the hadamard-rl workspace?" >&2
    exit 1
fi
llvm_config=/usr/lib/llvm-22/bin/llvm-config
if [ ! -x "$llvm_config" ] || ! dpkg -s libzstd-dev >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "needs Debian's llvm-22-dev and libzstd-dev: run as root, or apt-get install them" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q llvm-22-dev libzstd-dev >/dev/null
fi

dir="${XDG_DATA_HOME:-$HOME/.local/share}/tracel/tracel-llvm-$version"
mkdir -p "$dir/bin"
cat > "$dir/bin/llvm-config.new" <<STANDIN
#!/usr/bin/env bash
# Written by hadamard-rl's bench/gpu/llvm_standin.sh: Debian's LLVM 22 in place of the bundle.
# The bundle's llvm-config links statically by default; Debian's links libLLVM.so.
out="\$($llvm_config --link-static "\$@")" || exit \$?
words=()
for word in \$out; do
    case "\$word" in
        -lPolly* | */libPolly*) ;;
        /*.so) name="\$(basename "\$word" .so)"; words+=("-l\${name#lib}") ;;
        *) words+=("\$word") ;;
    esac
done
echo "\${words[*]}"
STANDIN
chmod +x "$dir/bin/llvm-config.new"
mv "$dir/bin/llvm-config.new" "$dir/bin/llvm-config"
touch "$dir/.tracel-llvm-installed"
echo "$dir"
