"""Backends and devices: the one module that knows which Keras backend runs and on what.

Everything else is written in ``keras.ops`` and runs unchanged on TensorFlow (the
default, since Colab ships it), JAX and PyTorch. What differs between backends lives
here: compiling a function, finding accelerators, distribution strategies, precision.

Each backend's own library (``tensorflow``, ``jax``, ``torch``) is imported inside the
function that needs it, never at the top: a machine may hold only the backend it runs
(the borrowed GPU machines carry JAX and PyTorch, no TensorFlow).
"""

from __future__ import annotations

import contextlib
import json
import os

import keras
import numpy as np

from colorpast.errors import UserError


def backend() -> str:
    """The active Keras backend: "tensorflow", "jax" or "torch"."""
    return keras.backend.backend()


def has_tensorflow() -> bool:
    """Whether TensorFlow can be imported (GPU machines may carry JAX or PyTorch alone)."""
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        return False
    return True


class _RetracingIsIntended:
    """A logging filter dropping TensorFlow's "triggered tf.function retracing" warnings."""

    def filter(self, record) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def jit(fn):
    """``fn`` compiled for the active backend, retraced per input shape.

    Used for elementwise work over millions of pixels (colorize at full resolution),
    where a compiler fuses the steps into one pass: on the 2-core CPU, TensorFlow's XLA
    took 12 MP to L in 0.15 s instead of 0.5 s. PyTorch runs ``fn`` eagerly.
    """
    name = backend()
    if name == "tensorflow":
        import tensorflow as tf

        # Retracing per input shape is the point here (XLA compiles for static shapes);
        # TensorFlow would log a warning about it from the fifth photo size on.
        logger = tf.get_logger()
        if not any(isinstance(f, _RetracingIsIntended) for f in logger.filters):
            logger.addFilter(_RetracingIsIntended())
        return tf.function(fn, jit_compile=True)
    if name == "jax":
        import jax

        return jax.jit(fn)
    return fn



def _gpus() -> list:
    """The GPUs the active backend sees (an empty list on a CPU)."""
    name = backend()
    if name == "tensorflow":
        import tensorflow as tf

        return tf.config.list_physical_devices("GPU")
    if name == "jax":
        import jax

        return [d for d in jax.devices() if d.platform == "gpu"]
    import torch

    return [f"cuda:{i}" for i in range(torch.cuda.device_count())]


def _compute_capability(gpu) -> tuple[int, int]:
    """(major, minor) of a GPU from :func:`_gpus`."""
    name = backend()
    if name == "tensorflow":
        import tensorflow as tf

        return tuple(tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0)))
    if name == "jax":
        return tuple(int(x) for x in str(getattr(gpu, "compute_capability", "0.0")).split(".")[:2])
    import torch

    return tuple(torch.cuda.get_device_capability(int(str(gpu).split(":")[1])))


class _NoStrategy:
    """The strategy of JAX and PyTorch runs: one process, which is the chief; several
    devices (JAX) are handled by ``keras.distribution``, not by a strategy scope."""

    class extended:
        should_checkpoint = True

    @staticmethod
    def scope():
        return contextlib.nullcontext()


def make_strategy(name: str):
    """How to spread training over devices, for the active backend.

    TensorFlow: a tf.distribute strategy, auto | one | mirrored | tpu | multiworker;
    auto: a Colab TPU if one is attached, all GPUs mirrored when there are several,
    else the default strategy (one GPU, or the CPU).
    JAX: auto or mirrored with several devices sets ``keras.distribution.DataParallel``
    over all of them (each device takes a slice of every global batch); one device
    needs nothing. PyTorch: one device (auto or one).
    """
    if backend() != "tensorflow":
        return _keras_distribution(name)
    import tensorflow as tf

    if name == "auto":
        if os.environ.get("COLAB_TPU_ADDR") or os.environ.get("TPU_NAME"):
            name = "tpu"
        elif len(_gpus()) > 1:
            name = "mirrored"
        else:
            return tf.distribute.get_strategy()
    if name == "one":
        return tf.distribute.OneDeviceStrategy("/gpu:0" if _gpus() else "/cpu:0")
    if name == "mirrored":
        if _gpus():
            return tf.distribute.MirroredStrategy()
        cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=cpus)
    if name == "tpu":
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=os.environ.get("TPU_NAME", ""))
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
        except (ValueError, tf.errors.NotFoundError) as e:
            raise UserError(f"no TPU found ({e}); on Colab choose Runtime > Change runtime type > TPU") from None
        return tf.distribute.TPUStrategy(resolver)
    if name == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise UserError("--strategy multiworker needs TF_CONFIG describing the cluster (see tf.distribute docs)")
        _check_tf_config(os.environ["TF_CONFIG"])
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise UserError(f"unknown strategy {name!r}; choose auto, one, mirrored, tpu or multiworker")


def _check_tf_config(text: str) -> None:
    """Raise UserError unless ``text`` is JSON with ``cluster`` and ``task: {type, index}``,
    what MultiWorkerMirroredStrategy reads (it would fail later, less clearly)."""
    try:
        tf_config = json.loads(text)
        task = tf_config["task"]
        complete = isinstance(tf_config, dict) and "cluster" in tf_config and "type" in task and "index" in task
    except (ValueError, TypeError, KeyError):
        complete = False
    if not complete:
        raise UserError(f"TF_CONFIG is not a cluster description with 'cluster' and 'task' {{type, index}}: {text[:200]!r}")


def multi_worker(strategy) -> bool:
    """Whether ``strategy`` spans several processes (a TensorFlow multi-worker strategy)."""
    if isinstance(strategy, _NoStrategy):
        return False
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and strategy.extended._in_multi_worker_mode()


def share_chief_state(strategy, chief: bool, model, state: dict) -> dict:
    """Give every worker the chief's weights, optimizer variables, epoch and step.

    Only the chief reads the run folder. Each value is summed over all replicas with the
    chief's first replica contributing it and every other replica zeros: an all-reduce
    used as a broadcast, which also serves as the barrier after the chief's checks.
    """
    variables = list(model.weights) + list(model.optimizer.variables)
    arrays = [np.asarray(v.numpy()) for v in variables]
    arrays.append(np.array([state["epoch"], state["global_step"]], np.float64))
    arrays = [a.astype(np.float64) if not np.issubdtype(a.dtype, np.floating) else a for a in arrays]
    shared = [_broadcast(strategy, a if chief else np.zeros_like(a)) for a in arrays]
    for var, val in zip(variables, shared[:-1]):
        var.assign(val.astype(var.dtype))
    epoch, step = (int(round(x)) for x in shared[-1])
    if chief:
        return state
    return {"epoch": epoch, "global_step": step, "history": []}


def _broadcast(strategy, value: np.ndarray) -> np.ndarray:
    """The sum of ``value`` over the workers, each counted once (its first replica gives
    it, the others zeros); with zeros from all but the chief, a broadcast of the chief's.
    One tensor a call: the collective strategy cannot reduce a nested structure."""
    import tensorflow as tf

    calls = []

    def contribution(ctx):
        calls.append(ctx)
        return tf.constant(value) if len(calls) == 1 else tf.zeros(value.shape, value.dtype)

    per_replica = strategy.experimental_distribute_values_from_function(contribution)
    return strategy.reduce("SUM", per_replica, axis=None).numpy()


def build_before_fit(strategy, model, spec) -> None:
    """Work around two Keras 3 bugs under MultiWorkerMirroredStrategy (keras-team/keras#20585,
    open; Keras is pinned, and tests/test_train.py trains two real workers to catch a change):

    1. ``fit`` all-reduces a nested data batch to build the model, which the collective
       strategy rejects: build everything from the batch's spec here, in the strategy's
       scope, and turn that step of ``fit`` off (nothing is left for it to build).
    2. The train and test steps average their scalar logs with ``reduce(axis=0)``, which
       fails on scalars: average them over replicas (``axis=None``) instead.
    """
    from keras.src.backend.tensorflow import trainer as tf_trainer

    batch = keras.tree.map_structure(lambda s: keras.KerasTensor(tuple(s.shape.as_list()), s.dtype.name), spec)
    with strategy.scope():
        model._symbolic_build(data_batch=batch)
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None

    original = tf_trainer.reduce_per_replica
    if getattr(original, "colorpast_fix", False):
        return

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and tf_trainer._collective_all_reduce_multi_worker(strategy):
            return keras.tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
        return original(values, strategy, reduction)

    reduce_per_replica.colorpast_fix = True
    tf_trainer.reduce_per_replica = reduce_per_replica


def resolve_precision(setting: str) -> str:
    """The Keras dtype policy for ``mixed_precision``: float32, mixed_float16 or mixed_bfloat16.

    auto: bfloat16 on GPUs of compute capability 8.0 or newer (A100, H100: tensor cores,
    no loss scaling needed), float16 on 7.x (V100, T4; Keras scales the loss), float32 on
    the CPU. On a CPU with native bfloat16 (measured on AVX512_BF16), ``bfloat16`` trains
    seed16 about twice as fast with validation scores within seed-to-seed spread
    (benchmarks/RESULTS.md); it stays an option there, not the default. The GPU choices
    are NVIDIA's and Keras's guidance, not yet measured by this project.
    """
    if setting == "off":
        return "float32"
    if setting in ("float16", "bfloat16"):
        return f"mixed_{setting}"
    if setting != "auto":
        raise UserError(f"unknown mixed precision {setting!r}; choose auto, off, float16 or bfloat16")
    gpus = _gpus()
    if not gpus:
        return "float32"
    cc = _compute_capability(gpus[0])
    if cc >= (8, 0):
        return "mixed_bfloat16"
    if cc >= (7, 0):
        return "mixed_float16"
    return "float32"


def resolve_xla(setting: str):
    """``jit_compile`` for model.compile. TensorFlow: off on the CPU (measured: seed16
    trains at 0.78x with XLA, benchmarks/RESULTS.md), Keras's "auto" on a GPU. JAX always
    compiles with XLA (its only way to run a step); PyTorch: Keras's "auto"."""
    if setting not in ("auto", "on", "off"):
        raise UserError(f"unknown xla setting {setting!r}; choose auto, on or off")
    if backend() != "tensorflow":
        return "auto" if setting == "auto" else setting == "on"
    if setting != "auto":
        return setting == "on"
    return "auto" if _gpus() else False


def _keras_distribution(name: str):
    """JAX and PyTorch: set ``keras.distribution`` for several devices; returns _NoStrategy."""
    if name in ("tpu", "multiworker"):
        raise UserError(f"--strategy {name} needs the TensorFlow backend; on {backend()} use auto (all local devices)")
    if name not in ("auto", "one", "mirrored"):
        raise UserError(f"unknown strategy {name!r}; choose auto, one, mirrored, tpu or multiworker")
    if backend() == "jax" and name != "one":
        import jax

        devices = jax.devices()
        if len(devices) > 1 or name == "mirrored":
            keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    elif name == "mirrored":
        raise UserError("--strategy mirrored needs TensorFlow or JAX; PyTorch runs on one device here")
    return _NoStrategy()


def replicas(strategy) -> int:
    """How many devices share each global batch."""
    if isinstance(strategy, _NoStrategy):
        dist = keras.distribution.distribution()
        return len(dist.device_mesh.devices.reshape(-1)) if dist is not None else 1
    return strategy.num_replicas_in_sync


def enable_determinism() -> None:
    """Bitwise-repeatable training where the backend needs telling (TensorFlow's op
    determinism; JAX on the CPU is deterministic as it is)."""
    if backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    elif backend() == "torch":
        import torch

        torch.use_deterministic_algorithms(True, warn_only=True)


def is_out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is the device running out of memory, on any backend."""
    if backend() == "tensorflow":
        import tensorflow as tf

        return isinstance(error, tf.errors.ResourceExhaustedError)
    return "RESOURCE_EXHAUSTED" in str(error) or "out of memory" in str(error).lower()
