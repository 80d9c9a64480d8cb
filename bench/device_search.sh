#!/usr/bin/env bash
# 1:N search at 1M templates on a quiet machine, offline: installs faiss-cpu from the wheels in
# .whl/ (prepared beside the repository, not committed), then runs bench/search.py pinned to
# two cores, at 256-d (the fused template) and 128-d (appended to the same JSON).
#
#   OUT=/some/dir bash bench/device_search.sh
#
# Needs: Linux x86-64, python3 (3.10+) with numpy, taskset. No internet, no faiss beforehand.
# Knobs (environment): OUT (results folder, default bench/results/device), CORES (taskset
# list, default 0,1), SIZES (default 1000000), KINDS (default ivf/sq8,ivf/pqfs: the
# candidates; exact truth is computed in any case), DIMS (default "256 128"), PROBES
# (mated and as many non-mated probes, default 1000), NPROBES (IVF lists probed, one row
# each from one build, e.g. KINDS=ivf/pqfs NPROBES=160,192,222,256; default empty: each
# kind's own default), SITE (where faiss goes, default /tmp/site). About 3 minutes a
# dimension at 1M on two cores (from a loaded 2-core machine: data ~30 s, exact truth
# ~20 s, builds ~90 s (sq8) and ~60 s (pqfs), ~10 s a row): under 8 minutes in all.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-bench/results/device}
CORES=${CORES:-0,1}
SIZES=${SIZES:-1000000}
KINDS=${KINDS:-ivf/sq8,ivf/pqfs}
DIMS=${DIMS:-256 128}
PROBES=${PROBES:-1000}
NPROBES=${NPROBES:-}
SITE=${SITE:-/tmp/site}
mkdir -p "$OUT" "$SITE"

if ! ls .whl/faiss_cpu-*.whl >/dev/null 2>&1; then
    echo "no faiss-cpu wheel in .whl/ (see bench/device_search.sh)" >&2
    exit 2
fi
if python3 -m pip --version >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --target "$SITE" .whl/*.whl
else  # no pip: a wheel is a zip file laid out for site-packages
    python3 -c 'import sys, zipfile; [zipfile.ZipFile(w).extractall(sys.argv[1]) for w in sys.argv[2:]]' \
        "$SITE" .whl/*.whl
fi
export PYTHONPATH="$SITE:src${PYTHONPATH:+:$PYTHONPATH}"
export OMP_NUM_THREADS=2 # the two pinned cores, whatever the machine has

python3 -c 'import faiss, numpy, platform; print("faiss", faiss.__version__, "numpy",
numpy.__version__, "python", platform.python_version(), "cpu",
open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(": "))'

first=1
for dim in $DIMS; do
    append=()
    [ "$first" = 1 ] || append=(--append)
    echo "== dim $dim, N $SIZES, kinds $KINDS, cores $CORES"
    SECONDS=0
    taskset -c "$CORES" python3 bench/search.py --dim "$dim" --sizes "$SIZES" \
        --kinds "$KINDS" --probes "$PROBES" --ivf-nprobe "$NPROBES" --json "$OUT/search-256.json" "${append[@]}"
    echo "dim $dim took ${SECONDS}s"
    first=0
done
echo "wrote $OUT/search-256.json"
