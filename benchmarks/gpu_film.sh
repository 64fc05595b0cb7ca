#!/usr/bin/env bash
# Films on a GPU machine with JAX (or PyTorch) and no TensorFlow: frames a second of the
# whole job (decode, colour, encode, join with the sound) on a clip's first frames.
#   bash benchmarks/gpu_film.sh CLIP [MODEL] [bench_film.py speed options: --frames N --way EVERY:KEEP]
# Run from the repository root. Keras, PyAV and the small pure-Python packages travel as
# wheels in .whl/ (benchmarks/RESULTS.md, "Films", for the download command). MODEL:
# effunet:bundled unless given.
set -euo pipefail
cd "$(dirname "$0")/.."
clip=${1:?usage: bash benchmarks/gpu_film.sh CLIP [MODEL] [options]}
model=${2:-effunet:bundled}
shift $(( $# < 2 ? $# : 2 ))
source benchmarks/gpu_env.sh  # $python, PYTHONPATH, KERAS_BACKEND; the wheels of .whl/ installed
exec "$python" benchmarks/bench_film.py speed --model "$model" --clip "$clip" --work "${OUT:-/tmp}/bench_film" "$@"
