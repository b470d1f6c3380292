"""Size, cost and GPU-delegate compatibility of each LiteRT quantization of a model (docs/deployment.md's table).

    nice -n 10 python scripts/measure_litert_quantization.py --photos ../shared/datasets/CBSD432

Every variant is a fixed 1 x TILE x TILE model (`hinet export --format tflite --tile TILE
--quantization NAME`). The photos (training photos: never a test set) are split as
`hinet export --calibration` splits them (`hinet_tf.export.calibration`): "int8" is
calibrated on `--calibration-tiles` random tiles of four fifths of them, with white
Gaussian noise of a sigma drawn uniformly from [0, 50] on each tile (the inputs the
denoiser is made for); the costs are measured on `--measured-tiles` tiles of the held-out
photos, with unclipped noise N(0, sigma / 255) seeded per sigma:

- `psnr_against_float_db`: the variant's output against the float Keras model's on the
  sigma-25 tiles, all tiles pooled (what `hinet export` prints);
- `cost_db`: for sigma 15, 25 and 50, the float model's mean PSNR against the clean
  tiles (8-bit rounded, peak 255) minus the variant's;
- `gpu_delegate`: the verdict of `tf.lite.experimental.Analyzer` with `gpu_compatibility`.

A conversion that fails (int16x8 of a model with instance norms) is recorded with its error.
"""

import argparse
import contextlib
import io
import json
import pathlib
import platform
import tempfile
import time

import numpy as np
import tensorflow as tf

from hinet_tf.export import export_litert
from hinet_tf.export.calibration import calibration_set
from hinet_tf.export.calibration import stacked
from hinet_tf.export.litert import CALIBRATED
from hinet_tf.export.litert import QUANTIZATIONS
from hinet_tf.inference import load_model
from hinet_tf.inference import read_image
from hinet_tf.metrics import psnr
from hinet_tf.models import image_restorer
from hinet_tf.utils.quiet import native_stderr_silenced

SIGMAS = (15, 25, 50)


def gpu_delegate_verdict(path):
    """The Analyzer's GPU-delegate lines: "compatible", or the ops it names as incompatible."""
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        tf.lite.experimental.Analyzer.analyze(model_path=str(path), gpu_compatibility=True)
    text = text.getvalue()
    if "looks compatible with GPU delegate" in text:
        return "compatible"
    return " ".join(line.strip() for line in text.splitlines() if "GPU" in line or "not supported" in line)


def run_tflite(path, tiles):
    from ai_edge_litert.interpreter import Interpreter

    with native_stderr_silenced():
        runner = Interpreter(model_path=str(path)).get_signature_runner("serving_default")
        return np.concatenate([runner(images=tile[None].astype(np.float32))["restored"] for tile in tiles])


def mean_psnr(restored, clean):
    return float(np.mean([psnr(image, target, quantize=True) for image, target in zip(restored, clean)]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="saved_models/hinet_photo_denoise")
    parser.add_argument("--photos", default="../shared/datasets/CBSD432", help="training photos, never a test set")
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--calibration-tiles", type=int, default=64)
    parser.add_argument("--measured-tiles", type=int, default=8, help="int16x8 runs on reference kernels: slow")
    parser.add_argument("--out", default="docs/litert_quantization.json")
    args = parser.parse_args()

    started = time.time()
    model = image_restorer(load_model(args.model))
    photos = pathlib.Path(args.photos)
    names = sorted(path.name for path in photos.iterdir() if path.suffix.lower() in (".png", ".jpg", ".tif"))
    split = calibration_set(
        names, lambda name: read_image(photos / name).pixels, args.tile, args.calibration_tiles, args.measured_tiles
    )
    rng = np.random.default_rng(0)
    sigmas = rng.uniform(0, 50, (len(split.tiles), 1, 1, 1)) / 255
    calibration = (split.tiles + rng.normal(0, 1, split.tiles.shape) * sigmas).astype(np.float32)
    noisy = {
        sigma: (split.held_out + np.random.default_rng(sigma).normal(0, sigma / 255, split.held_out.shape)).astype(
            np.float32
        )
        for sigma in SIGMAS
    }
    float_outputs = {sigma: model.predict(noisy[sigma], batch_size=4, verbose=0) for sigma in SIGMAS}
    reference = {sigma: mean_psnr(float_outputs[sigma], split.held_out) for sigma in SIGMAS}

    variants = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in QUANTIZATIONS:
            path = pathlib.Path(folder) / f"{name}.tflite"
            tiles = calibration if name in CALIBRATED else None
            seconds = time.time()
            try:
                export_litert(model, path, args.tile, name, tiles)
            except ValueError as error:
                variants[name] = {"error": str(error)}
                print(name, variants[name], flush=True)
                continue
            outputs = {sigma: run_tflite(path, noisy[sigma]) for sigma in SIGMAS}
            variants[name] = {
                "size_bytes": path.stat().st_size,
                "psnr_against_float_db": round(
                    psnr(stacked(outputs[25]), stacked(float_outputs[25]), quantize=False), 2
                ),
                "cost_db": {
                    str(sigma): round(reference[sigma] - mean_psnr(outputs[sigma], split.held_out), 3)
                    for sigma in SIGMAS
                },
                "gpu_delegate": gpu_delegate_verdict(path),
                "seconds": round(time.time() - seconds),
            }
            print(name, variants[name], flush=True)

    report = {
        "model": args.model,
        "tile": args.tile,
        "photos": str(photos.name),
        "calibration": {
            "tiles": len(split.tiles),
            "images": len(split.calibration_names),
            "noise_sigma": "uniform 0-50",
        },
        "measured": {"tiles": len(split.held_out), "held_out_images": list(split.held_out_names)},
        "float_psnr_db": {str(sigma): round(value, 2) for sigma, value in reference.items()},
        "variants": variants,
        "tensorflow": tf.__version__,
        "machine": platform.processor() or platform.machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "seconds": round(time.time() - started),
    }
    pathlib.Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
