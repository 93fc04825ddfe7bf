#!/usr/bin/env bash
# Installs the Debian packages the build needs when they are missing (idempotent; needs root or sudo).
set -euo pipefail
need=()
[ -f /usr/include/gmp.h ] || [ -f /usr/include/x86_64-linux-gnu/gmp.h ] || need+=(libgmp-dev)
[ -f /usr/lib/llvm-14/lib/clang/14.0.6/include/omp.h ] || need+=(libomp-dev)
[ -x /usr/bin/iverilog ] || need+=(iverilog)  # RTL cross-check of the test vectors (docs/vectors.md)
[ -x /usr/bin/verilator ] || need+=(verilator)  # second RTL simulator and lint of the testbenches (docs/vectors.md)
[ -f /usr/include/lapack.h ] || need+=(liblapack-dev)
[ -f /usr/include/lapacke.h ] || need+=(liblapacke-dev)
[ -f /usr/include/x86_64-linux-gnu/cblas.h ] || [ -f /usr/include/cblas.h ] || need+=(libblas-dev)
[ -f /usr/include/hdf5/serial/hdf5.h ] || need+=(libhdf5-dev)  # NIR import (docs/nir.md)
[ -x /usr/bin/espeak-ng ] || need+=(espeak-ng)  # spoken digits of the LSM-CLIP experiment (docs/experiment.md)
[ -f /usr/include/openssl/evp.h ] || need+=(libssl-dev)  # SHA-256 (binary IR, vector manifests, sweep keys)
[ -f /usr/include/metis.h ] || need+=(libmetis-dev)  # METIS graph partitioning of the placement pass (docs/compiler.md)
if [ ${#need[@]} -gt 0 ]; then
    echo "setup: installing ${need[*]}" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >&2
fi
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
command -v swift >/dev/null || { echo "setup: swift not found (expected on PATH or at /opt/swift)" >&2; exit 1; }
