"""Latency, training throughput and peak memory of HINet per execution path.

Each case runs in a fresh Python process (`python -m hinet_tf.benchmark CASE_JSON`) so that
its peak resident memory is its own and no path warms another's caches. The paths:

- `keras`: the Keras model in a `tf.function` (TensorFlow's oneDNN kernels on the CPU);
- `xla`: the same function compiled with XLA (`jit_compile=True`);
- `litert`: the model exported with `Model.export(format="litert")` at a fixed size and run
  by `ai_edge_litert` with its default XNNPACK delegate (inference only).
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

BACKENDS = ("keras", "xla", "litert")
TASKS = ("latency", "frame", "train")
LATENCY_SIZE = (256, 256)
FRAME_SIZE = (720, 1280)
FRAME_TILE = 256
TRAIN_BATCH = (8, 128, 128)


def _timings(function, runs, warmup):
    """Median, min and max wall time of `runs` calls after `warmup` calls, in seconds."""
    for _ in range(warmup):
        function()
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return {"median_s": statistics.median(seconds), "min_s": min(seconds), "max_s": max(seconds), "runs": runs}


def _inference_function(model, backend, height, width, threads):
    """A function from a (1, height, width, 3) float32 array to the restored image's array."""
    import tensorflow as tf

    spec = tf.TensorSpec((1, height, width, model.backbone.in_channels), tf.float32)
    if backend in ("keras", "xla"):
        function = tf.function(
            lambda images: model(images, training=False), input_signature=[spec], jit_compile=backend == "xla"
        )
        return lambda images: function(images).numpy()
    from ai_edge_litert.interpreter import Interpreter

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.tflite")
        model.export(path, format="litert", input_signature=[spec], verbose=False)
        runner = Interpreter(model_path=path, num_threads=threads).get_signature_runner()

    def run(images):
        (output,) = runner(**{runner.get_input_details().popitem()[0]: images}).values()
        return output

    return run


def run_case(case, threads, runs, warmup):
    """Runs one benchmark case in this process and returns its result as a dict."""
    import keras
    import tensorflow as tf

    from hinet_tf.inference.tiling import restore_tiled
    from hinet_tf.models import HINetBackbone
    from hinet_tf.models import HINetImageRestorer

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    keras.utils.set_random_seed(0)
    task, backend, width = case["task"], case["backend"], case["width"]
    model = HINetImageRestorer(HINetBackbone(width=width))
    rng = np.random.default_rng(0)
    if task == "latency":
        images = rng.random((1, *LATENCY_SIZE, 3), np.float32)
        infer = _inference_function(model, backend, *LATENCY_SIZE, threads)
        result = _timings(lambda: infer(images), runs, warmup)
    elif task == "frame":
        frame = rng.random((*FRAME_SIZE, 3), np.float32)
        infer = _inference_function(model, backend, FRAME_TILE, FRAME_TILE, threads)
        restore = lambda: restore_tiled(lambda tile: infer(tile[None])[0], frame, FRAME_TILE, 0)  # noqa: E731
        result = _timings(restore, runs, warmup)
    elif task == "train":
        if backend == "litert":
            raise ValueError("LiteRT runs inference only.")
        batch, height, width_px = TRAIN_BATCH
        targets = rng.random((batch, height, width_px, 3), np.float32)
        degraded = targets + rng.normal(0, 0.1, targets.shape).astype(np.float32)
        model.compile(optimizer=keras.optimizers.Adam(2e-4), jit_compile=backend == "xla")
        result = _timings(lambda: model.train_on_batch(degraded, targets), runs, warmup)
        result["patches_per_s"] = batch / result["median_s"]
    else:
        raise ValueError(f"Unknown task {task!r}; choose one of {', '.join(TASKS)}.")
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {**case, **result, "peak_rss_mib": peak_kib / 1024, "threads": threads}


def run_in_subprocess(case, threads, runs, warmup, timeout):
    """Runs `case` in a fresh process; returns its result, or the case with an `error`."""
    command = [sys.executable, "-m", "hinet_tf.benchmark", json.dumps(case)]
    command += ["--threads", str(threads), "--runs", str(runs), "--warmup", str(warmup)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    try:
        process = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return {**case, "error": f"timed out after {timeout} s"}
    lines = [line for line in process.stdout.splitlines() if line.startswith("{")]
    if process.returncode or not lines:
        return {**case, "error": (process.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1])


def machine_description():
    """CPU model, core count and load, for the report."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": model, "cores": os.cpu_count(), "load_average_1m": os.getloadavg()[0]}


def _main():
    parser = argparse.ArgumentParser(description="Run one benchmark case (used by `hinet benchmark`).")
    parser.add_argument("case", help="JSON object with task, backend and width")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(run_case(json.loads(args.case), args.threads, args.runs, args.warmup)))


if __name__ == "__main__":
    _main()
