#!/usr/bin/env bash
# Test-only: makes .venv/bin/python with the third-party readers the tests cross-check against: Python `nir` 1.0.8
# (with numpy, h5py) for NIRExportTests.testPythonNIRReadsExport, vcdvcd for VectorsTests.testVCDWithPythonReader, and
# Brian2 2.9 for the `xbar bench --reference` performance reference (scripts/bench_reference.py). NumPy stays below 2.3:
# Brian2 2.9 wraps ndarray.ptp, which later NumPy removed.
# Never fails the caller: without Python or PyPI access the NIR check is skipped (and says so).
cd "$(dirname "$0")/.."
if [ -x .venv/bin/python ] && .venv/bin/python -c "import nir, h5py, vcdvcd, brian2" 2>/dev/null; then exit 0; fi
if ! command -v python3 >/dev/null; then
    echo "python-reference: no python3; the Python NIR cross-check will be skipped" >&2; exit 0
fi
if [ ! -x .venv/bin/python ] && ! python3 -m venv .venv >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null 2>&1 || true
    fi
    rm -rf .venv
    python3 -m venv .venv >/dev/null 2>&1 || { echo "python-reference: cannot create .venv; the Python NIR cross-check will be skipped" >&2; rm -rf .venv; exit 0; }
fi
if ! timeout 600 .venv/bin/pip install -q --disable-pip-version-check "nir==1.0.8" "numpy<2.3" h5py vcdvcd "brian2==2.9.*" >/dev/null 2>&1; then
    echo "python-reference: cannot install nir/vcdvcd/brian2 from PyPI; the Python cross-checks will be skipped or fail" >&2
fi
exit 0
