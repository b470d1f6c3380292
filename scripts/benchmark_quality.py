"""Denoising quality on real photos: noisy input, non-local means, CBM3D and HINet models.

Needs the benchmark extra (scikit-image and bm3d): `pip install -e ".[benchmark]"`.

    python scripts/benchmark_quality.py \
        --model "HINet (HIN)=saved_models/hinet_photo_denoise" \
        --model "HINet (no norm)=runs/photo_none/model.keras"

For the centre `--crop` x `--crop` pixels (256 by default, to keep CBM3D within the CPU
budget; 0 for whole photos) of every photo in `--photos` (by default `data/photos/eval`,
from `scripts/prepare_photos.py`) and every sigma (15, 25, 50 on the 0-255 scale), white
Gaussian noise is added with a seed fixed by the photo's name and sigma, and is not
clipped. PSNR and SSIM are measured in float RGB in [0, 1] (peak 1, no rounding), with
the denoised outputs clipped to [0, 1]; SSIM is scikit-image's with the settings of
Wang et al. (Gaussian window, sigma 1.5). Scores are means over the photos.

- Non-local means (`skimage.restoration.denoise_nl_means`, fast mode, told the true
  sigma): `h`, the patch size and the search distance are tuned for each sigma by grid
  search on crops of the validation photos (`data/photos/val`), never on the test photos.
- CBM3D (`bm3d.bm3d_rgb`, told the true sigma, default profile). It is slow on a CPU, so
  the outputs of both classical methods are cached in `--cache`; `--jobs N` runs CBM3D
  first, on N images at a time.
- HINet: each `--model LABEL=PATH[@TILE][+tta]`, not told sigma, run by
  `hinet_tf.inference.Restorer` with the tiling and backend of `hinet restore` (`--backend`,
  auto by default: the fastest of the installed backends, timed on this machine's CPU, as
  `hinet restore` picks it): `hinet restore`'s tiles (384 pixels, overlapping by 32) by
  default, or TILE-pixel tiles overlapping by TILE / 2
  (`hinet restore --tile TILE --overlap TILE/2`); `+tta` averages the 8 flips and
  rotations (`hinet restore --tta`).

Writes `quality_benchmark.json`, `quality_benchmark.md` (the table) and
`denoise_comparison.png` (crops: clean | noisy | NLM | CBM3D | first model) to `--out`
(`quality_results` by default; the committed reports are in `docs`). A report already
there is refused before any work, unless `--overwrite` is given.

    python scripts/benchmark_quality.py --testset cbsd68 \
        --model "HINet=saved_models/hinet_photo_denoise"

`--testset cbsd68` or `mcmaster` measures the standard colour test sets (from
`--datasets`, by default `../shared/datasets`) under the protocol of the published
tables, instead of the above. The images are taken in sorted name order; for each sigma
numpy's global generator is seeded with 0 once, and each image in turn gets
`image_uint8 / 255 + np.random.normal(0, sigma / 255, image.shape)`: float64 noise,
not clipped. `--seed-each-image` seeds it again before each image instead, as the test
scripts of DRUNet (KAIR) and Restormer do. The outputs are clipped to [0, 1] and rounded
to 8 bits; PSNR (peak 255) and SSIM (`hinet_tf.metrics`: HINet's definition) are
measured over all RGB pixels and averaged over the images. CBM3D runs by default
(`--methods`). The median wall-clock and CPU seconds per image of CBM3D and of each
model on this machine are reported (CPU: this process's time on all its threads, which
other work on a shared machine does not inflate): CBM3D is timed when it runs, and rerun
uncached on the first `--timing-images` images when its outputs come from the cache.
Writes `quality_<testset>.json` and `quality_<testset>.md` (ours beside the published
PSNRs) and, for CBSD68, the comparison figure (clean | noisy | CBM3D | first model).

    python scripts/benchmark_quality.py --real ../shared/datasets/PolyU-val \
        --model "HINet (Gaussian)=hinet_photo_denoise"

`--real DIR` scores real camera noise instead: every `NAME_real.*` camera crop in DIR with
the `NAME_mean.*` of many shots of the same scene as its ground truth (PolyU's layout; a file
without its partner is refused; 16-bit crops are rounded to 8 bits, value / 257, and grey ones
scored as RGB; a crop in two files is refused). The camera is the first `_` field of NAME. Methods: the
noisy crop; non-local means (`denoise_nl_means`, fast mode, 5x5 patches, search distance 6,
`h` = 0.8 sigma, scikit-image's rule of thumb) and CBM3D, each told the crop's true noise
level, sigma = the standard deviation of noisy minus mean over all its pixels; CBM3D told
the level `skimage.restoration.estimate_sigma` finds in the noisy crop (averaged over the
channels), as a user without the mean would run it; and the `--model`s, told nothing. The
outputs are clipped and rounded to 8 bits; PSNR (peak 255) and SSIM (`hinet_tf.metrics`)
over all RGB pixels, averaged over the crops of each camera and over all crops. Writes
`quality_real_<dir>.json` and `.md`, with the median seconds per crop of each method that
ran (not of outputs taken from `--cache`), and `quality_real_<dir>.png`: the centre of each
camera's noisiest crop, noisy | CBM3D told the true level | the models | the mean.
"""

import argparse
import functools
import importlib.util
import itertools
import json
import multiprocessing
import os
import pathlib
import platform
import re
import time
import zlib

import numpy as np
from PIL import Image
from PIL import ImageDraw

from hinet_tf import metrics
from hinet_tf.cli.arguments import at_least
from hinet_tf.cli.main import Parser
from hinet_tf.data.layouts import list_real_noise_pairs
from hinet_tf.utils.atomic import atomic_write
from hinet_tf.utils.atomic import atomic_write_text
from hinet_tf.utils.atomic import atomic_write_texts
from hinet_tf.utils.atomic import check_replaceable
from hinet_tf.utils.atomic import check_writable
from hinet_tf.utils.image_io import ImageError
from hinet_tf.utils.image_io import eight_bit
from hinet_tf.utils.image_io import read_stored

SIGMAS = (15, 25, 50)
NLM_GRID = {"h": (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8), "patch_size": (5, 7), "patch_distance": (6, 11)}
NLM_TUNING_CROP = 256
# photo, sigma, (top, left)
FIGURE_CROPS = (("kodim23", 25, (0, 128)), ("monarch", 50, (0, 0)), ("253027", 25, (150, 60)))
TESTSETS = {"cbsd68": ("CBSD68", "*.png"), "mcmaster": ("McMaster", "*.tif")}
# RGB PSNR (dB) at sigma 15, 25 and 50 in the published tables (DRUNet's and Restormer's papers).
PUBLISHED_PSNR = {
    "cbsd68": {
        "CBM3D": (33.52, 30.71, 27.38),
        "DnCNN": (33.90, 31.24, 27.95),
        "FFDNet": (33.87, 31.21, 27.96),
        "DRUNet": (34.30, 31.69, 28.51),
        "Restormer": (34.39, 31.78, 28.59),
    },
    "mcmaster": {
        "CBM3D": (34.06, 31.66, 28.51),
        "DnCNN": (33.45, 31.52, 28.62),
        "FFDNet": (34.66, 32.35, 29.18),
        "DRUNet": (35.40, 33.14, 30.08),
        "Restormer": (35.61, 33.34, 30.30),
    },
}
FIGURE_CROP_SIZE = 128
REAL_NLM = {"h": 0.8, "patch_size": 5, "patch_distance": 6}  # h in units of the crop's sigma


def load_photo(path, crop=0):
    """The photo as float64 RGB in [0, 1]; only its centre `crop` x `crop` pixels unless `crop` is 0."""
    image = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 255.0
    if not crop:
        return image
    if min(image.shape[:2]) < crop:
        raise SystemExit(f"{path} is {image.shape[1]}x{image.shape[0]}, smaller than --crop {crop}")
    top, left = (image.shape[0] - crop) // 2, (image.shape[1] - crop) // 2
    return image[top : top + crop, left : left + crop]


def add_noise(clean, sigma, name):
    """Unclipped white Gaussian noise of `sigma` (0-255 scale), seeded by photo name and sigma."""
    rng = np.random.default_rng([zlib.crc32(name.encode()), sigma])
    return clean + rng.normal(0.0, sigma / 255.0, clean.shape)


def scores(clean, image):
    from skimage.metrics import peak_signal_noise_ratio
    from skimage.metrics import structural_similarity

    return {
        "psnr": float(peak_signal_noise_ratio(clean, image, data_range=1.0)),
        "ssim": float(
            structural_similarity(
                clean, image, data_range=1.0, channel_axis=-1, gaussian_weights=True, sigma=1.5,
                use_sample_covariance=False,
            )
        ),
    }


def nl_means(noisy, sigma, h, patch_size, patch_distance):
    from skimage.restoration import denoise_nl_means

    sigma = sigma / 255.0
    return denoise_nl_means(
        noisy, h=h * sigma, sigma=sigma, patch_size=patch_size, patch_distance=patch_distance, fast_mode=True,
        channel_axis=-1,
    )


def tune_nl_means(tuning_photos, sigma):
    """The grid point with the best mean PSNR on centre crops of the tuning photos."""
    crops = [(path.stem, load_photo(path, NLM_TUNING_CROP)) for path in tuning_photos]
    best = None
    for values in itertools.product(*NLM_GRID.values()):
        params = dict(zip(NLM_GRID, values))
        psnr = np.mean(
            [scores(clean, np.clip(nl_means(add_noise(clean, sigma, name), sigma, **params), 0, 1))["psnr"]
             for name, clean in crops]
        )
        if best is None or psnr > best[0]:
            best = (psnr, params)
    return best[1]


def cbm3d(noisy, sigma):
    import bm3d

    return bm3d.bm3d_rgb(noisy, sigma / 255.0)


def cbm3d_key(name, tag, sigma):
    return f"cbm3d_{name}_{tag}_s{sigma}"


def cbm3d_into_cache(cache_dir, key, noisy, sigma):
    """Caches CBM3D's output for `noisy`; returns its wall-clock and CPU seconds (run in a worker process)."""
    seconds = {}
    cached(cache_dir, key, lambda: timed(seconds, "CBM3D", lambda: cbm3d(noisy, sigma)))
    return seconds["CBM3D"][0]


def fill_cbm3d_cache(args, noisy_images, tag):
    """Runs CBM3D on every image not yet in the cache, in `--jobs` processes; returns their seconds."""
    seconds = []
    with multiprocessing.Pool(args.jobs) as pool:
        for sigma in args.sigmas:
            jobs = [(args.cache, cbm3d_key(name, tag, sigma), noisy, sigma) for name, _, noisy in noisy_images(sigma)]
            jobs = [job for job in jobs if not (args.cache / f"{job[1]}.npy").exists()]
            seconds += pool.starmap(cbm3d_into_cache, jobs)
    return seconds


def cached(cache_dir, key, compute):
    """Runs `compute()` once per key, keeping its image as float32 `.npy` in `cache_dir`."""
    path = cache_dir / f"{key}.npy"
    if path.exists():
        return np.load(path).astype(np.float64)
    result = compute()
    with atomic_write(path) as temporary:
        np.save(temporary, result.astype(np.float32))
    return result


class ModelDenoiser:
    """A trained HINet (`.keras` file, preset directory or name) restoring photos tile by tile as `hinet restore`."""

    def __init__(self, path, tile=None, tta=False, backend="auto"):
        from hinet_tf import inference

        self.path, self.tile, self.tta = path, tile, tta
        try:
            model = inference.load_model(path)
        except (FileNotFoundError, ValueError) as error:
            raise SystemExit(str(error)) from None
        tiling = {} if tile is None else {"tile": tile, "overlap": tile // 2}
        try:
            self.restorer = inference.Restorer(model, tta=tta, backend=backend, **tiling)
        except ValueError as error:  # a tile that is no multiple of the model's
            raise SystemExit(f"--model {path}{'' if tile is None else f'@{tile}'}: {error}") from None
        self.backend = self.restorer.backend
        self(np.zeros((self.restorer.tile, self.restorer.tile, self.restorer.channels)))  # converts/traces the full tile untimed

    def __call__(self, noisy):
        return self.restorer(noisy.astype(np.float32)).astype(np.float64)


def load_uint8_image(path):
    """The image's grey or RGB samples as uint8 (H, W, 1 or 3); 16-bit samples are rounded to 8 bits (value / 257)."""
    try:
        return eight_bit(read_stored(path).colour_samples)
    except ImageError as error:
        raise SystemExit(str(error)) from None


def as_rgb(image):
    """An (H, W, 1) grey image as three equal channels; an RGB one as it is."""
    return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image


def published_noisy_images(images, sigma, seed_each_image=False):
    """Yields each uint8 image plus unclipped N(0, sigma/255) noise from numpy's generator seeded with 0.

    The generator is seeded once and drawn from image after image, or, with
    `seed_each_image`, seeded again before each image.
    """
    np.random.seed(0)
    for image in images:
        if seed_each_image:
            np.random.seed(0)
        yield image / 255.0 + np.random.normal(0.0, sigma / 255.0, image.shape)


def published_scores(clean, image):
    """PSNR and SSIM of `image` clipped to [0, 1] and rounded to 8 bits, against the uint8 `clean`."""
    return {
        "psnr": metrics.psnr(image, clean, quantize=True),
        "ssim": metrics.ssim(image, clean, quantize=True),
    }


def timed(seconds, method, compute):
    """Runs `compute()`, appending its wall-clock and CPU seconds to `seconds[method]`."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = compute()
    seconds.setdefault(method, []).append((time.perf_counter() - wall, time.process_time() - cpu))
    return result


def photo_benchmark(args):
    """The `--photos` benchmark: `(names, noisy images by sigma, score function, crop tag)`."""
    photos = sorted(args.photos.glob("*.png"))
    if not photos:
        raise SystemExit(f"no PNG photos in {args.photos}; run scripts/prepare_photos.py first")

    def noisy_images(sigma):
        for path in photos:
            clean = load_photo(path, args.crop)
            yield path.stem, clean, add_noise(clean, sigma, path.stem)

    return [path.stem for path in photos], noisy_images, scores, f"c{args.crop}"


def testset_benchmark(args):
    """A `--testset` benchmark under the published protocol, as `photo_benchmark`."""
    folder, pattern = TESTSETS[args.testset]
    paths = sorted((args.datasets / folder).glob(pattern))
    if not paths:
        raise SystemExit(f"no {pattern} images in {args.datasets / folder}")
    images = [as_rgb(load_uint8_image(path)) for path in paths]

    def noisy_images(sigma):
        noisy = published_noisy_images(images, sigma, args.seed_each_image)
        for path, clean, noisy in zip(paths, images, noisy):
            yield path.stem, clean, noisy

    tag = f"{args.testset}_seed0{'_each' if args.seed_each_image else ''}"
    return [path.stem for path in paths], noisy_images, published_scores, tag


def model_spec(spec):
    """An argparse type: `LABEL=PATH[@TILE][+tta]` as `(label, path, tile or None, tta)`, checked before any work."""
    label, separator, path = spec.partition("=")
    path, tta = (path[: -len("+tta")], True) if path.endswith("+tta") else (path, False)
    path, at, tile = path.partition("@")
    if not separator or not _is_model(path) or at and not (tile.isdigit() and int(tile) > 0):
        raise argparse.ArgumentTypeError(
            f"must be LABEL=PATH[@TILE][+tta] with a .keras file, a preset directory or a "
            f"trained preset's name and a positive TILE, got {spec!r}"
        )
    return label, path, int(tile) if tile else None, tta


def parse_models(specs, backend):
    return {label: ModelDenoiser(path, tile, tta, backend) for label, path, tile, tta in specs}


def _is_model(path):
    from hinet_tf.models import PRESETS
    from hinet_tf.models.hinet.hinet_presets import is_architecture_preset

    return pathlib.Path(path).exists() or path in PRESETS and not is_architecture_preset(path)


def real_noise_crops(folder):
    """Yields `(name, noisy, mean)` of each crop of a real-noise folder as uint8 RGB.

    Refuses unpaired files, a crop in two files (`X_real.png` and `X_real.jpg`) and a pair
    of different sizes or channels (a grey mean beside an RGB crop).
    """
    try:
        pairs = list_real_noise_pairs(folder)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    for name, noisy_path, mean_path in pairs:
        noisy, mean = load_uint8_image(noisy_path), load_uint8_image(mean_path)
        if noisy.shape[:2] != mean.shape[:2]:
            raise SystemExit(f"{noisy_path} is {noisy.shape[1]}x{noisy.shape[0]} but {mean_path} is "
                             f"{mean.shape[1]}x{mean.shape[0]}")
        if noisy.shape != mean.shape:
            raise SystemExit(f"{noisy_path} has shape {noisy.shape} but {mean_path} has shape {mean.shape}: "
                             "a crop and its mean must both be grey or both RGB")
        yield name, as_rgb(noisy), as_rgb(mean)


def real_noise_outputs(args, name, noisy, sigmas, seconds):
    """The classical methods' outputs for one noisy crop (float in [0, 1]), cached by name and sigma (0-255)."""
    outputs = {}
    if "nlm" in args.methods:
        key = f"nlm_real_{name}_s{sigmas['true']:.4f}"
        outputs["NLM (true sigma)"] = cached(args.cache, key, lambda: timed(
            seconds, "NLM (true sigma)", lambda: nl_means(noisy, sigmas["true"], **REAL_NLM)))
    if "cbm3d" in args.methods:
        for kind in ("true", "estimated"):
            label = f"CBM3D ({kind} sigma)"
            outputs[label] = cached(args.cache, real_cbm3d_key(name, sigmas[kind]), lambda: timed(
                seconds, label, lambda: cbm3d(noisy, sigmas[kind])))
    return outputs


def real_cbm3d_key(name, sigma):
    return cbm3d_key(name, "real", f"{sigma:.4f}")


def run_real(args):
    """The `--real` benchmark: per-camera and overall scores on a folder of real noisy / mean crops."""
    stem = "quality_real_" + re.sub(r"[^a-z0-9]+", "_", pathlib.Path(args.real).resolve().name.lower()).strip("_")
    check_outputs(args, [f"{stem}.json", f"{stem}.md", f"{stem}.png"])
    crops = list(real_noise_crops(args.real))
    if args.methods is None:
        args.methods = ("nlm", "cbm3d")
    args.cache.mkdir(parents=True, exist_ok=True)
    from skimage.restoration import estimate_sigma

    noise = {  # sigma on the 0-255 scale
        name: {
            "true": float(np.std(noisy / 255.0 - mean / 255.0)) * 255,
            "estimated": float(estimate_sigma(noisy / 255.0, channel_axis=-1, average_sigmas=True)) * 255,
        }
        for name, noisy, mean in crops
    }
    if "cbm3d" in args.methods and args.jobs > 1:
        jobs = [
            (args.cache, real_cbm3d_key(name, sigma), noisy / 255.0, sigma)
            for name, noisy, _ in crops
            for sigma in noise[name].values()
        ]
        with multiprocessing.Pool(args.jobs) as pool:
            pool.starmap(cbm3d_into_cache, [job for job in jobs if not (args.cache / f"{job[1]}.npy").exists()])
    models = parse_models(args.model, args.backend)

    figure_crops = {  # the noisiest crop of each camera
        camera: max((name for name in noise if camera_of(name) == camera), key=lambda name: noise[name]["true"])
        for camera in {camera_of(name) for name in noise}
    }
    per_crop, seconds, figure_images = {}, {}, {}
    for name, noisy_uint8, mean in crops:
        noisy = noisy_uint8 / 255.0
        outputs = {"noisy": noisy, **real_noise_outputs(args, name, noisy, noise[name], seconds)}
        for label, denoiser in models.items():
            outputs[label] = timed(seconds, label, lambda: denoiser(noisy))
        for method, image in outputs.items():
            per_crop.setdefault(method, {})[name] = published_scores(mean, image)
        print(f"{name} (sigma {noise[name]['true']:.2f}, estimated {noise[name]['estimated']:.2f}): "
              + ", ".join(f"{method} {per_crop[method][name]['psnr']:.2f}" for method in outputs), flush=True)
        if name in figure_crops.values():
            figure_images[name] = (mean / 255.0, outputs)

    cameras = sorted({camera_of(name) for name in noise})
    summary = {
        method: {
            group: mean_scores([s for name, s in scores_by_crop.items() if group == "all" or camera_of(name) == group])
            for group in (*cameras, "all")
        }
        for method, scores_by_crop in per_crop.items()
    }
    median_seconds = {
        method: dict(zip(("wall", "cpu"), np.median(values, axis=0).tolist())) for method, values in seconds.items()
    }
    report = {
        "folder": str(args.real),
        "crops": list(noise),
        "cameras": cameras,
        "protocol": protocol_text(args),
        "host": host_description(),
        "noise_sigma_255": noise,
        "nlm_params": REAL_NLM,
        "models": {
            label: {"path": str(d.path), "tile": d.restorer.tile, "tta": d.tta, "backend": d.backend}
            for label, d in models.items()
        },
        "median_seconds_per_image": median_seconds,
        "timed_images": {method: len(values) for method, values in seconds.items()},
        "mean": summary,
        "per_crop": per_crop,
    }
    table = real_noise_table(summary, cameras, median_seconds, noise) + timing_host_line(report["host"])
    write_report(args, stem, report, table)
    save_real_figure(figure_images, args.out / f"{stem}.png", per_crop, args.overwrite)
    print(table)


def check_outputs(args, names):
    """Refuses, before any work and in one line, what the reports `names` cannot be written to.

    `--out` and `--cache` must be folders that can be written to, and the reports must not
    exist in `--out` unless `--overwrite` is given.
    """
    try:
        for folder in (args.out, args.cache):
            check_writable(folder)
        for name in names:
            check_replaceable(args.out / name, args.overwrite)
    except (ValueError, FileExistsError) as error:
        raise SystemExit(str(error)) from None


def write_report(args, stem, report, table):
    """Writes `STEM.json` and `STEM.md` to `--out`, atomically, replacing old ones only with `--overwrite`."""
    texts = {args.out / f"{stem}.json": json.dumps(report, indent=2) + "\n", args.out / f"{stem}.md": table}
    atomic_write_texts(texts, args.overwrite)


def camera_of(name):
    """The camera of a PolyU crop: the first `_` field of its name."""
    return name.split("_")[0]


def mean_scores(scores_list):
    return {
        "count": len(scores_list),
        **{metric: float(np.mean([s[metric] for s in scores_list])) for metric in ("psnr", "ssim")},
    }


def real_noise_table(summary, cameras, median_seconds, noise):
    """PSNR / SSIM per camera and over all crops, one row per method, gains over the noisy crop."""
    counts = summary["noisy"]
    groups = (*cameras, "all")
    lines = [
        "| method | " + " | ".join(f"{group} ({counts[group]['count']} crops)" for group in groups)
        + " | gain over noisy (all) | s / crop: wall (CPU) |",
        "| --- |" + " --- |" * (len(groups) + 2),
    ]
    for method, by_group in summary.items():
        cells = [f"{by_group[group]['psnr']:.2f} dB / {by_group[group]['ssim']:.4f}" for group in groups]
        gain = by_group["all"]["psnr"] - counts["all"]["psnr"]
        timing = median_seconds.get(method)
        time_cell = f"{timing['wall']:.2f} ({timing['cpu']:.2f} CPU)" if timing else ""
        lines.append(f"| {method} | " + " | ".join(cells) + f" | {gain:+.2f} dB | {time_cell} |")
    true = [sigmas["true"] for sigmas in noise.values()]
    estimated = [sigmas["estimated"] for sigmas in noise.values()]
    lines += ["", f"Noise level (0-255 scale): true sigma {np.min(true):.2f} to {np.max(true):.2f} "
              f"(mean {np.mean(true):.2f}); estimated {np.min(estimated):.2f} to {np.max(estimated):.2f} "
              f"(mean {np.mean(estimated):.2f})."]
    return "\n".join(lines) + "\n"


def run(args):
    if args.real:
        if args.testset:
            raise SystemExit("--real and --testset exclude each other: give one")
        return run_real(args)
    names, noisy_images, score, tag = testset_benchmark(args) if args.testset else photo_benchmark(args)
    if args.methods is None:
        args.methods = ("cbm3d",) if args.testset else ("nlm", "cbm3d")
    stem = f"quality_{args.testset}" if args.testset else "quality_benchmark"
    figure = any(name in names and sigma in args.sigmas for name, sigma, _ in FIGURE_CROPS)
    check_outputs(args, [f"{stem}.json", f"{stem}.md"] + ["denoise_comparison.png"] * figure)
    tuning_photos = sorted(args.tuning_photos.glob("*.png"))
    if "nlm" in args.methods and not tuning_photos:
        raise SystemExit(f"no PNG photos to tune non-local means on in {args.tuning_photos}")
    args.cache.mkdir(parents=True, exist_ok=True)
    seconds = {}
    if "cbm3d" in args.methods and args.jobs > 1:
        seconds["CBM3D"] = fill_cbm3d_cache(args, noisy_images, tag)
    models = parse_models(args.model, args.backend)

    nlm_params = {}
    if "nlm" in args.methods:
        for sigma in args.sigmas:
            tune = functools.partial(tune_nl_means, tuning_photos, sigma)
            nlm_params[sigma] = cached_json(args.cache / f"nlm_params_s{sigma}.json", tune)
            print(f"non-local means, sigma {sigma}: {nlm_params[sigma]}", flush=True)

    per_photo = {}
    timing_inputs = []
    figure_images = {}
    for sigma in args.sigmas:
        for name, clean, noisy in noisy_images(sigma):
            outputs = {"noisy": noisy}
            if "nlm" in args.methods:
                p = nlm_params[sigma]
                key = f"nlm_{name}_{tag}_s{sigma}_h{p['h']}_p{p['patch_size']}_d{p['patch_distance']}"
                outputs["NLM"] = cached(args.cache, key, lambda: nl_means(noisy, sigma, **p))
            if "cbm3d" in args.methods:
                key = cbm3d_key(name, tag, sigma)
                outputs["CBM3D"] = cached(args.cache, key, lambda: timed(seconds, "CBM3D", lambda: cbm3d(noisy, sigma)))
            for label, denoiser in models.items():
                outputs[label] = timed(seconds, label, lambda: denoiser(noisy))
            for method, image in outputs.items():
                result = score(clean, image if method == "noisy" else np.clip(image, 0.0, 1.0))
                per_photo.setdefault(method, {}).setdefault(str(sigma), {})[name] = result
            print(f"sigma {sigma} {name}: " + ", ".join(
                f"{m} {per_photo[m][str(sigma)][name]['psnr']:.2f}" for m in outputs), flush=True)
            if len(timing_inputs) < args.timing_images:
                timing_inputs.append((noisy, sigma))
            for crop_name, crop_sigma, corner in FIGURE_CROPS:
                if (crop_name, crop_sigma) == (name, sigma):
                    figure_clean = clean / 255.0 if clean.dtype == np.uint8 else clean
                    figure_images[(name, sigma)] = (figure_clean, outputs, corner)
    if "cbm3d" in args.methods and len(seconds.get("CBM3D", ())) < len(timing_inputs):
        print(f"timing CBM3D on {len(timing_inputs)} images (its outputs came from the cache)", flush=True)
        seconds["CBM3D"] = []
        for noisy, sigma in timing_inputs:
            timed(seconds, "CBM3D", lambda: cbm3d(noisy, sigma))

    summary = {
        method: {
            sigma: {metric: float(np.mean([s[metric] for s in photos_scores.values()])) for metric in ("psnr", "ssim")}
            for sigma, photos_scores in by_sigma.items()
        }
        for method, by_sigma in per_photo.items()
    }
    median_seconds = {
        method: dict(zip(("wall", "cpu"), np.median(values, axis=0).tolist()))
        for method, values in seconds.items()
        if values
    }
    report = {
        "photos": names,
        "sigmas": list(args.sigmas),
        "protocol": protocol_text(args),
        "host": host_description(),
        "nlm_params": {str(sigma): params for sigma, params in nlm_params.items()},
        "models": {
            label: {"path": str(d.path), "tile": d.restorer.tile, "tta": d.tta, "backend": d.backend}
            for label, d in models.items()
        },
        "median_seconds_per_image": median_seconds,
        "timed_images": {method: len(values) for method, values in seconds.items()},
        "mean": summary,
        "per_photo": per_photo,
    }
    if not args.testset:
        report["crop"] = args.crop
    table = markdown_table(summary, args.sigmas, median_seconds) + timing_host_line(report["host"])
    if args.testset:
        table = published_table(args.testset, len(names), table, summary)
    write_report(args, stem, report, table)
    if figure_images:
        save_figure(figure_images, args.out / "denoise_comparison.png", per_photo, args.overwrite)
    print(table)


def protocol_text(args):
    """The docstring's paragraph on the protocol in use, on one line."""
    start = "`--real" if args.real else "`--testset" if args.testset else "For the centre"
    paragraph = next(text for text in __doc__.split("\n\n") if text.startswith(start))
    return paragraph.replace("\n", " ")


def host_description():
    """The CPU model, the cores this process may use and the load average, for the timings."""
    cpu = next((line.split(":", 1)[1].strip() for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"cpu": cpu, "cores": len(os.sched_getaffinity(0)), "load_average": os.getloadavg()}


def timing_host_line(host):
    """The machine the table's seconds come from: they say nothing about another CPU."""
    return f"\nTimed on: {host['cpu']}, {host['cores']} cores, 1-minute load average {host['load_average'][0]:.2f}.\n"


def cached_json(path, compute):
    if path.exists():
        return json.loads(path.read_text())
    value = compute()
    atomic_write_text(path, json.dumps(value) + "\n")
    return value


def markdown_table(summary, sigmas, median_seconds):
    columns = [f"sigma {sigma}: PSNR / SSIM" for sigma in sigmas] + ["s / image: wall (CPU)"]
    header = "| method | " + " | ".join(columns) + " |"
    lines = [header, "| --- |" + " --- |" * (len(sigmas) + 1)]
    for method, by_sigma in summary.items():
        cells = [f"{by_sigma[str(s)]['psnr']:.2f} dB / {by_sigma[str(s)]['ssim']:.4f}" for s in sigmas]
        timing = median_seconds.get(method)
        time_cell = f"{timing['wall']:.2f} ({timing['cpu']:.2f} CPU)" if timing else ""
        lines.append(f"| {method} | " + " | ".join(cells) + f" | {time_cell} |")
    return "\n".join(lines) + "\n"


def published_table(testset, count, measured_table, summary):
    """The measured table, then the published PSNRs with the ones measured here beside them."""
    lines = [f"{TESTSETS[testset][0]} ({count} images), measured here:", "", measured_table]
    lines += ["RGB PSNR (dB) on the published tables' protocol:", ""]
    lines += ["| method | " + " | ".join(f"sigma {sigma}" for sigma in SIGMAS) + " |", "| --- |" + " --- |" * 3]
    for method, values in PUBLISHED_PSNR[testset].items():
        lines.append(f"| {method} (published) | " + " | ".join(f"{value:.2f}" for value in values) + " |")
    for method, by_sigma in summary.items():
        if method != "noisy":
            cells = [f"{by_sigma[str(s)]['psnr']:.2f}" if str(s) in by_sigma else "-" for s in SIGMAS]
            lines.append(f"| {method} (measured here) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def figure_row(columns, corner):
    """A row of labelled 2x crops: `columns` is `[(label, image in [0, 1])]`, the crop's top-left `corner`."""
    scale, label_height = 2, 18
    tile, (top, left) = FIGURE_CROP_SIZE * scale, corner
    row = Image.new("RGB", (tile * len(columns), tile + label_height), "white")
    draw = ImageDraw.Draw(row)
    for index, (label, image) in enumerate(columns):
        crop = np.clip(image[top : top + FIGURE_CROP_SIZE, left : left + FIGURE_CROP_SIZE], 0, 1)
        crop = Image.fromarray(np.round(crop * 255).astype(np.uint8)).resize((tile, tile), Image.Resampling.NEAREST)
        row.paste(crop, (index * tile, label_height))
        draw.text((index * tile + 4, 3), label, fill="black")
    return row


def save_figure(figure_images, path, per_photo, overwrite):
    """One row per (photo, sigma): crops of the clean photo and of every method, 2x, labelled."""
    rows = []
    for (name, sigma), (clean, outputs, corner) in sorted(figure_images.items(), key=lambda item: item[0][1]):
        columns = [(f"{name}, sigma {sigma}", clean)] + [
            (f"{method} {per_photo[method][str(sigma)][name]['psnr']:.2f} dB", image)
            for method, image in list(outputs.items())[:4]
        ]
        rows.append(figure_row(columns, corner))
    save_rows(rows, path, overwrite)


def save_real_figure(figure_images, path, per_crop, overwrite):
    """One row per camera, its noisiest crop's centre: noisy | CBM3D (true sigma) | the models | the mean, 2x."""
    rows = []
    for name, (mean, outputs) in sorted(figure_images.items()):
        shown = {method: image for method, image in outputs.items() if method == "noisy" or "NLM" not in method
                 and "estimated" not in method}
        columns = [(f"{method} {per_crop[method][name]['psnr']:.2f} dB", image) for method, image in shown.items()]
        corner = (max(mean.shape[0] - FIGURE_CROP_SIZE, 0) // 2, max(mean.shape[1] - FIGURE_CROP_SIZE, 0) // 2)
        rows.append(figure_row([*columns, (f"{name[:28]} mean", mean)], corner))
    save_rows(rows, path, overwrite)


def save_rows(rows, path, overwrite):
    """Stacks figure rows into one PNG at `path`, written atomically."""
    figure = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows)), "white")
    for index, row in enumerate(rows):
        figure.paste(row, (0, sum(r.height for r in rows[:index])))
    with atomic_write(path, overwrite) as temporary:
        figure.save(temporary, optimize=True)


def main(argv=None):
    parser = Parser(description=__doc__.splitlines()[0])  # one-line errors
    parser.add_argument("--photos", type=pathlib.Path, default=pathlib.Path("data/photos/eval"))
    parser.add_argument("--testset", choices=tuple(TESTSETS), help="a standard test set, published protocol")
    parser.add_argument("--real", type=pathlib.Path, metavar="DIR",
                        help="a folder of NAME_real / NAME_mean camera crops (PolyU): real noise, per camera")
    parser.add_argument("--seed-each-image", action="store_true",
                        help="with --testset: seed numpy with 0 before each image, not once per sigma")
    parser.add_argument("--datasets", type=pathlib.Path, default=pathlib.Path("../shared/datasets"),
                        help="folder holding CBSD68/ and McMaster/")
    parser.add_argument("--tuning-photos", type=pathlib.Path, default=pathlib.Path("data/photos/val"))
    parser.add_argument("--model", action="append", default=[], type=model_spec, metavar="LABEL=PATH[@TILE][+tta]",
                        help="a .keras model (repeatable)")
    parser.add_argument("--methods", nargs="*", choices=("nlm", "cbm3d"),
                        help="classical denoisers to run (default: nlm and cbm3d; cbm3d with --testset)")
    parser.add_argument("--crop", type=at_least(0), default=256, help="centre crop side in pixels; 0: whole photos")
    parser.add_argument("--sigmas", type=at_least(1), nargs="+", default=SIGMAS)
    parser.add_argument("--backend", choices=("auto", "keras", "litert", "onnx"), default="auto",
                        help="models' backend, as `hinet restore --backend` (default auto)")
    parser.add_argument("--timing-images", type=at_least(0), default=3,
                        help="images to rerun CBM3D on for its timing when its outputs are cached")
    parser.add_argument("--jobs", type=at_least(1), default=1, help="processes to run CBM3D in, before the rest")
    parser.add_argument("--cache", type=pathlib.Path, default=pathlib.Path("data/benchmark_cache"))
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("quality_results"),
                        help="folder for the reports (default quality_results)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace reports already in --out (refused by default)")
    args = parser.parse_args(argv)
    labels = [label for label, *_ in args.model]
    repeated = next((label for index, label in enumerate(labels) if label in labels[:index]), None)
    if repeated is not None:  # the reports key models by label: the later one would silently replace the earlier
        parser.error(f"argument --model: the label {repeated!r} is given twice: give each model its own LABEL")
    needed = ("skimage", "bm3d") if args.methods is None or "cbm3d" in args.methods else ("skimage",)
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise SystemExit(f"{' and '.join(missing)} missing: install the benchmark extra, pip install -e \".[benchmark]\"")
    run(args)


if __name__ == "__main__":
    main()
