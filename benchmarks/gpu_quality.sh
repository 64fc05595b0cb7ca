#!/usr/bin/env bash
# Quality at GPU budgets, one command for a machine with JAX (or PyTorch) and no TensorFlow:
#   bash benchmarks/gpu_quality.sh PHOTOS_DIR EVAL_DIR [gpu_quality.py options]
#   bash benchmarks/gpu_quality.sh --pack PACK_DIR [gpu_quality.py options]
# Run from the repository root. PHOTOS_DIR: colour photos to train on (the shared
# imagenet1k-256 copied into a git-ignored folder); EVAL_DIR: photos to score on (CBSD68).
# PACK_DIR: a set too large for one call, carried in parts, one a call, back to back
# (benchmarks/gpu_pack.py writes them and prints the calls).
# Keras and the small pure-Python packages travel as wheels in .whl/, as for gpu_check.sh
# (benchmarks/RESULTS.md, "GPU check"). Output: a line per phase, a table last, and
# gpu_quality.json in $OUT (or --out). `--smoke` runs it tiny, on a CPU, in about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: bash benchmarks/gpu_quality.sh PHOTOS_DIR EVAL_DIR [options] | --pack PACK_DIR [options]"
if [ "${1:-}" = "--pack" ]; then
  source benchmarks/gpu_env.sh  # $python, PYTHONPATH, KERAS_BACKEND; the wheels of .whl/ installed
  exec "$python" benchmarks/gpu_quality.py --out "${OUT:-.}" "$@"
fi
photos=${1:?$usage}
eval_dir=${2:?$usage}
shift 2
source benchmarks/gpu_env.sh  # $python, PYTHONPATH, KERAS_BACKEND; the wheels of .whl/ installed
exec "$python" benchmarks/gpu_quality.py --photos "$photos" --eval "$eval_dir" --out "${OUT:-.}" "$@"
