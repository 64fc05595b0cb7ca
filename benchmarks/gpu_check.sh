#!/usr/bin/env bash
# The GPU check, one command for a machine with JAX (or PyTorch) and no TensorFlow:
#   bash benchmarks/gpu_check.sh PHOTOS_DIR [gpu_check.py options]
# Run from the repository root. Keras and the small pure-Python packages colorpast needs
# beyond that machine's image travel as wheels in .whl/ (see benchmarks/RESULTS.md,
# "GPU check", for the download command); they are installed into /tmp/site first.
# Output: a line per phase, a table last, and gpu_check.json in $OUT (or --out).
set -euo pipefail
cd "$(dirname "$0")/.."
photos=${1:?usage: bash benchmarks/gpu_check.sh PHOTOS_DIR [options]}
shift
source benchmarks/gpu_env.sh  # $python, PYTHONPATH, KERAS_BACKEND; the wheels of .whl/ installed
exec "$python" benchmarks/gpu_check.py --photos "$photos" --out "${OUT:-.}" "$@"
