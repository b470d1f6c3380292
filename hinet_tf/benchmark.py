"""Latency, training step time and peak memory of the code paths that `hinet restore` and `hinet train` run.

The cases are those of `hinet benchmark --help`. Each runs in a fresh Python process
(`python -m hinet_tf.benchmark CASE_JSON`) so that its peak resident memory is its own and no
path warms another's caches; a backend's conversion and a photo case's JPEG are made first, in
processes of their own (`prepare_case`). `torch` is the official architecture
(`convert.official_torch`); `torch_onnx` its `torch.onnx.export` (NCHW, fixed shape) on
onnxruntime, the fastest runtime of the official model on a CPU.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np

from hinet_tf.utils.machine import cpu_label
from hinet_tf.utils.tiles import DEFAULT_OVERLAP as OVERLAP
from hinet_tf.utils.tiles import DEFAULT_TILE as TILE
from hinet_tf.utils.timing import wall_times

PATHS = ("keras", "litert", "onnx", "torch", "torch_onnx")
TRAIN_PATHS = ("keras", "torch")
REFERENCES = ("torch", "torch_onnx")
TASKS = ("latency", "frame", "train", "photo")
DEFAULT_TASKS = ("latency", "frame", "train")  # photos of tens of megapixels take minutes per run
LATENCY_SIZE = (256, 256)
FRAME_SIZE = (720, 1280)
TRAIN_BATCH = (8, 128, 128)
PHOTO_SIZES = {1: (816, 1224), 12: (2832, 4240), 24: (4000, 6000)}  # 3:2 photos, by megapixels
CASE_FIELDS = ("task", "width", "path", "megapixels", "tile")  # what tells cases apart (the last two: photos only)


def _timings(function, runs, warmup):
    """Median, min and max wall time of `runs` calls after `warmup` calls, in seconds."""
    seconds = wall_times(function, runs, warmup)
    return {"median_s": statistics.median(seconds), "min_s": min(seconds), "max_s": max(seconds), "runs": runs}


def case_config(case):
    """The config of a case: its recipe (`config`, a YAML path, or the defaults) at its width and the benchmark batch."""
    from hinet_tf.training.config import load_config
    from hinet_tf.training.config import validate

    batch, height, _ = TRAIN_BATCH
    config = load_config(case["config"]) if case.get("config") else validate({})
    return config.replace(
        model={"width": case["width"]},
        train={"batch_size": batch, "crop_size": height, "steps_per_execution": 1, "mixed_precision": False},
    )


def image_size(case):
    """(height, width) of the image an inference case restores."""
    if case["task"] == "photo":
        return PHOTO_SIZES[case["megapixels"]]
    return LATENCY_SIZE if case["task"] == "latency" else FRAME_SIZE


def photo_path(case):
    """The JPEG a photo case restores, in the cache (`$HINET_CACHE/benchmark_photos/`)."""
    from hinet_tf.inference.conversion_cache import cache_dir

    height, width = image_size(case)
    return cache_dir("benchmark_photos") / f"{height}x{width}.jpg"


def _write_photo(path, height, width, rows=256):
    """A photo-like JPEG (smooth colour gradients, texture and noise) of `height` x `width`, made band by band."""
    from hinet_tf.utils.image_io import StoredImage
    from hinet_tf.utils.image_io import write_stored

    rng = np.random.default_rng(0)
    photo = np.empty((height, width, 3), np.uint8)
    x = np.arange(width, dtype=np.float32) / width
    for top in range(0, height, rows):
        y = np.arange(top, min(top + rows, height), dtype=np.float32)[:, None] / height
        colours = [160 * x + 60 * y, 200 * y * (1 - x) + 30, 120 + 80 * np.sin(12 * x + 7 * y)]
        band = np.stack(colours, axis=-1) + 20 * np.sin(90 * x)[:, None] + rng.normal(0, 5, (len(y), width, 3))
        photo[top : top + len(y)] = np.clip(np.round(band), 0, 255)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_stored(path, StoredImage(photo), overwrite=True)


def _image(case, rng):
    return rng.random((*image_size(case), 3), np.float32)


def _restorer(case, log=None, threads=None):
    """The `Restorer` of a case, built as `hinet restore` builds it, from seeded weights."""
    import keras

    from hinet_tf.inference import Restorer
    from hinet_tf.models import HINetBackbone

    keras.utils.set_random_seed(0)
    backbone = HINetBackbone(**case_config(case).model.to_dict())
    return Restorer(backbone, case.get("tile", TILE), OVERLAP, backend=case["path"], log=log, threads=threads)


def needs_conversion(case):
    """Whether a case's backend converts the model first (LiteRT and onnxruntime inference)."""
    return case["task"] != "train" and case["path"] in ("litert", "onnx")


def prepare_case(case):
    """Converts a case's model for its backend and writes a photo case's JPEG (in the cache), timing nothing."""
    if case["task"] == "photo" and not photo_path(case).exists():
        _write_photo(photo_path(case), *image_size(case))
    if needs_conversion(case):
        restorer = _restorer(case)
        size = (case["tile"],) * 2 if case["task"] == "photo" else image_size(case)  # a photo's tiles are all full
        restorer(np.random.default_rng(0).random((*size, 3), np.float32))  # LiteRT converts at the first tile of a shape
    return {**case, "prepared": True}


def run_case(case, threads, runs, warmup):
    """Runs one benchmark case in this process and returns its result as a dict."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    task, path = case["task"], case["path"]
    if task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; choose one of {', '.join(TASKS)}.")
    if path not in (TRAIN_PATHS if task == "train" else PATHS):
        raise ValueError(f"The {task} task has no path {path!r}; choose one of {', '.join(TRAIN_PATHS if task == 'train' else PATHS)}.")
    rng = np.random.default_rng(0)
    conversions = []
    if path.startswith("torch"):
        from hinet_tf import official_benchmark

        image = None if task == "train" else _image(case, rng)
        step = official_benchmark.function(task, path, case_config(case), threads, image, (case.get("tile", TILE), OVERLAP))
    elif task == "train":
        step = _keras_train_step(case_config(case))
    elif task == "photo":
        step = _photo_step(_restorer(case, log=conversions.append, threads=threads), case)
    else:
        restorer = _restorer(case, log=conversions.append, threads=threads)
        image = _image(case, rng)
        step = lambda: restorer(image)  # noqa: E731
    result = _timings(step, runs, warmup)
    if task == "train":
        result["patches_per_s"] = TRAIN_BATCH[0] / result["median_s"]
    elif task == "photo":
        result["image_mib"] = float(np.prod(image_size(case))) * 3 / 2**20  # the samples restored in place
    else:
        result["image_mib"] = float(np.prod(image_size(case))) * 3 * 4 / 2**20  # float32; the result is as large
    return {**case, **result, "peak_rss_mib": peak_resident_mib(), "threads": threads, "converted_here": len(conversions)}


def _photo_step(restorer, case):
    """Restores the case's photo file to a file, as `hinet restore` does."""
    from hinet_tf.inference.image_files import restore_files

    if not photo_path(case).exists():
        raise FileNotFoundError(f"{photo_path(case)}: run the case with --prepare first")
    output = photo_path(case).with_suffix(".restored.jpg")

    def step():
        failures = restore_files(restorer, [(photo_path(case), output)], overwrite=True)
        if failures:
            raise RuntimeError(failures[0])

    return step


def peak_resident_mib():
    """This process's peak resident memory since it started, in MiB.

    `/proc/self/status`'s VmHWM, not `getrusage`'s `ru_maxrss`: Linux carries `ru_maxrss`
    across `exec`, so a child of `hinet benchmark` would report at least its parent's peak.
    """
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def _keras_train_step(config):
    """One optimizer step of `trainer.build_model(config)` on a fixed batch, as `fit` runs it."""
    from hinet_tf.training.trainer import build_model
    from hinet_tf.training.xla_choice import random_batch

    model = build_model(config)
    degraded, targets = random_batch((*TRAIN_BATCH, 3))
    return lambda: model.train_on_batch(degraded, targets)


def run_in_subprocess(case, threads, runs, warmup, timeout, prepare=False, cache=None):
    """Runs (or with `prepare`, converts) `case` in a fresh process; returns its result, or the case with an `error`."""
    command = [sys.executable, "-m", "hinet_tf.benchmark", json.dumps(case)]
    command += ["--threads", str(threads), "--runs", str(runs), "--warmup", str(warmup)]
    command += ["--prepare"] if prepare else []
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **({"HINET_CACHE": str(cache)} if cache else {})}
    try:
        process = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return {**case, "error": f"timed out after {timeout} s"}
    lines = [line for line in process.stdout.splitlines() if line.startswith("{")]
    if process.returncode or not lines:
        return {**case, "error": (process.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1])


def installed(path):
    """Whether the packages a path needs are installed (a path without them is skipped)."""
    import importlib.util

    needs = {"litert": ["ai_edge_litert"], "onnx": ["onnxruntime", "onnx", "tf2onnx"], "torch": ["torch"]}
    needs["torch_onnx"] = ["torch", "onnxruntime", "onnx"]
    return all(importlib.util.find_spec(name) is not None for name in needs.get(path, []))


def run_benchmark(paths, tasks, widths, threads=2, rounds=3, runs=5, warmup=2, timeout=3600, config=None,
                  megapixels=tuple(PHOTO_SIZES), tiles=(TILE,), log=print):
    """Times every case in a process of its own, the paths taking turns for `rounds` rounds; returns the report.

    Paths whose packages are missing are skipped; conversions and photos are prepared first,
    in processes of their own. The report holds the machine, each model's size, every
    process's result and the `summary`; `log` gets the machine and the models.
    """
    from hinet_tf.complexity import count_macs
    from hinet_tf.models import HINetBackbone

    kept = [path for path in paths if installed(path)]
    report = {"machine": machine_description(), "threads": threads, "skipped_paths": sorted(set(paths) - set(kept))}
    report.update(models={}, results=[])
    machine = report["machine"]
    log(f"{cpu_label(machine)}: {' '.join(machine['isa_flags'])}, {machine['cores']} cores, {threads} threads")
    if report["skipped_paths"]:
        log(f"skipped (not installed): {', '.join(report['skipped_paths'])}")
    for width in widths:
        model = HINetBackbone(width=width)
        macs = count_macs(model, *LATENCY_SIZE)
        report["models"][width] = {"parameters": model.count_params(), "macs_true": macs.true, "macs_paper": macs.paper}
        log(f"width {width}: {model.count_params():,} parameters, MACs at 256x256: "
            f"{macs.true / 1e9:.2f} G true, {macs.paper / 1e9:.2f} G as the paper counts")
    photo_sizes = [{"megapixels": size, "tile": tile} for size in megapixels for tile in tiles]
    with tempfile.TemporaryDirectory(prefix="hinet-benchmark-cache-") as cache:
        for task in tasks:
            for width in widths:
                cases = [
                    {"task": task, "path": path, "width": width, "config": config, **size}
                    for size in (photo_sizes if task == "photo" else [{}])
                    for path in kept
                    if path in (TRAIN_PATHS if task == "train" else PATHS)
                ]
                prepared = set()
                # Conversions and photo files (`prepare_case`), in processes of their own, before any timing.
                for case in cases:
                    key = (case["path"], case.get("tile"), case.get("megapixels"))
                    if (needs_conversion(case) or case["task"] == "photo") and key not in prepared:
                        prepared.add(key)
                        result = run_in_subprocess(case, threads, 1, 0, timeout, True, cache)
                        if "error" in result:
                            report["results"].append(result)
                for round_index in range(rounds):
                    for case in cases:
                        result = run_in_subprocess(case, threads, runs, warmup, timeout, cache=cache)
                        report["results"].append({**result, "round": round_index})
    report["summary"] = summarize(report["results"], {width: model["macs_true"] for width, model in report["models"].items()})
    report["machine"]["load_average_1m_after"] = os.getloadavg()[0]
    return report


def summarize(results, macs=None):
    """Per case (task, width, path, and a photo's size and tile): the median over processes, peak memory, ratios.

    Ratios are to the reference paths' row of the same case. With `macs` ({width:
    multiply-accumulates of one 256x256 forward pass}), latency and training rows also get
    `gflop_per_s`: 2 FLOPs per MAC, and a training step counted as three forward passes
    (forward, input and weight gradients) over its batch of crops. Photo rows get
    `s_per_megapixel`, and `peak_rss_ratio_to_1mp` against the 1-megapixel photo's row.
    """
    groups = {}
    for result in results:
        if "error" not in result:
            groups.setdefault(_case_key(result), []).append(result)
    summary = []
    for key, group in groups.items():
        row = {field: value for field, value in zip(CASE_FIELDS, key) if value is not None}
        row["median_s"] = statistics.median(result["median_s"] for result in group)
        row["peak_rss_mib"] = max(result["peak_rss_mib"] for result in group)
        row["processes"] = len(group)
        summary.append(row)
    rows = {_case_key(row): row for row in summary}
    for row in summary:
        work = (macs or {}).get(row["width"])
        if work is not None and row["task"] in ("latency", "train"):
            forward_passes = 1 if row["task"] == "latency" else 3 * np.prod(TRAIN_BATCH) / np.prod(LATENCY_SIZE)
            row["gflop_per_s"] = 2 * work * forward_passes / row["median_s"] / 1e9
        if row["task"] == "photo":
            row["s_per_megapixel"] = row["median_s"] / (float(np.prod(PHOTO_SIZES[row["megapixels"]])) / 1e6)
            one_megapixel = rows.get(_case_key({**row, "megapixels": 1}))
            if one_megapixel is not None:
                row["peak_rss_ratio_to_1mp"] = row["peak_rss_mib"] / one_megapixel["peak_rss_mib"]
        for reference in REFERENCES:
            anchor = rows.get(_case_key({**row, "path": reference}))
            if anchor is not None:
                row[f"ratio_to_{reference}"] = row["median_s"] / anchor["median_s"]
    return summary


def _case_key(result):
    return tuple(result.get(field) for field in CASE_FIELDS)


def machine_description():
    """Where the report was measured: the CPU (model, ISA flags, cores), the library versions and the load."""
    from hinet_tf.utils.machine import cpu_description
    from hinet_tf.utils.machine import library_versions

    return {**cpu_description(), "libraries": library_versions(), "load_average_1m": os.getloadavg()[0]}


def _main():
    parser = argparse.ArgumentParser(description="Run one benchmark case (used by `hinet benchmark`).")
    parser.add_argument("case", help="JSON object with task, path and width")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--prepare", action="store_true", help="only convert the model for the case's backend")
    args = parser.parse_args()
    case = json.loads(args.case)
    result = prepare_case(case) if args.prepare else run_case(case, args.threads, args.runs, args.warmup)
    print(json.dumps(result))


if __name__ == "__main__":
    _main()
