# Sourced by gpu_check.sh and gpu_quality.sh, from the repository root: the environment of
# a machine with JAX (or PyTorch) and no TensorFlow. Keras and the small pure-Python
# packages colorpast needs beyond that machine's image travel as wheels in .whl/ (see
# benchmarks/RESULTS.md, "GPU check"); they are installed into /tmp/site first. Sets
# $python and PYTHONPATH (this checkout first), KERAS_BACKEND (jax unless given).
export KERAS_BACKEND=${KERAS_BACKEND:-jax} PYTHONUNBUFFERED=1
python=${PYTHON:-python3}
if compgen -G ".whl/*.whl" >/dev/null; then
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
