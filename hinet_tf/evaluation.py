"""Scores a restorer on a test set as the official evaluation: PSNR / SSIM per image, per set, mean.

```python
from hinet_tf.evaluation import evaluate_folder
from hinet_tf.inference import Restorer, load_model

restorer = Restorer(load_model("hinet_gopro.keras"), tile=256, overlap=0, grid="official")
result = evaluate_folder(restorer, "GoPro", "gopro")
result.summary["mean"]            # {"psnr": ..., "ssim": ...}
result.rows[0]                    # {"set": "gopro", "name": ..., "psnr": ..., "ssim": ...}
```

Layouts are those of `hinet_tf.data.layouts`; "sidd" means the SIDD validation blocks. Rain13k
is scored on the BT.601 Y channel over its five test sets, whose mean is the mean of the set
means (Table 3); SIDD on float outputs; every other layout on 8-bit rounded outputs.
"""

import csv
import dataclasses
import io
import json
from pathlib import Path
from typing import Callable

import numpy as np

from hinet_tf.data import layouts
from hinet_tf.data.layouts import scoring
from hinet_tf.data.sidd_blocks import read_validation_blocks
from hinet_tf.metrics import psnr
from hinet_tf.metrics import ssim
from hinet_tf.models.model_source import check_model_source
from hinet_tf.models.model_source import size_multiple
from hinet_tf.utils.atomic import atomic_write_texts
from hinet_tf.utils.atomic import check_replaceable
from hinet_tf.utils.atomic import check_writable
from hinet_tf.utils.image_io import read_header
from hinet_tf.utils.image_io import read_image
from hinet_tf.utils.tiles import check_tile_before_loading

# The split each layout is evaluated on; "sidd" is scored on its validation blocks instead.
EVALUATION_SPLITS = {"pairs": "test", "gopro": "test", "reds": "val", "rain13k": "test"}
CSV_COLUMNS = ("set", "name", "psnr", "ssim")


@dataclasses.dataclass(frozen=True)
class Sample:
    """One test image: its name and a function loading `(degraded, target)` float arrays in [0, 1]."""

    name: str
    load: Callable


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Scores: `rows` of `{"set", "name", "psnr", "ssim"}` per image, and their `summary`.

    `summary` is `{"sets": {set: {"count", "psnr", "ssim"}}, "mean": {"psnr", "ssim"}}`.
    """

    rows: list
    summary: dict

    def to_csv(self):
        """The rows as CSV text, one line per image."""
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return text.getvalue()


def list_test_sets(root, layout):
    """`{set name: [Sample]}` of a data set; every image's header is checked now.

    Raises:
        ValueError: an unknown layout, or a missing or empty folder or unmatched files, named.
        ImageError: an image that cannot be read, named.
    """
    root = Path(root)
    if layout == "sidd":
        return {"sidd_validation": _sidd_blocks(root)}
    if layout == "rain13k":
        return {
            name: _file_samples(layouts.list_pairs(root, layout, "test", subset=name))
            for name in layouts.RAIN13K_TEST_SETS
        }
    if layout == "pairs" and (root / "input").is_dir():
        return {layout: _file_samples(layouts.match_by_name(root / "input", root / "target"))}
    pairs = layouts.list_pairs(root, layout, EVALUATION_SPLITS[layout])
    return {layout: _file_samples(pairs, with_folder=layout == "reds")}  # REDS frame names repeat per clip


def evaluate(restorer, test_sets, crop_border=0, y_channel=False, quantize=True, on_image=None):
    """Restores and scores every sample of `test_sets` (from `list_test_sets`).

    Args:
        restorer: a callable from an (H, W, C) float image to its restoration, e.g. a `Restorer`.
        test_sets: `{set name: [Sample]}`.
        crop_border, y_channel, quantize: as `hinet_tf.metrics.psnr`.
        on_image: called with `(row, index, total)` after each image, for progress.

    Returns:
        an `Evaluation`.

    Raises:
        ValueError: a restored image whose shape is not its target's, named.
        ImageError: an image that cannot be decoded, named.
    """
    rows = []
    total = sum(len(samples) for samples in test_sets.values())
    for set_name, samples in test_sets.items():
        for sample in samples:
            degraded, target = sample.load()
            scores = score(restorer(degraded), target, crop_border, y_channel, quantize, name=sample.name)
            rows.append({"set": set_name, "name": sample.name, **scores})
            if on_image is not None:
                on_image(rows[-1], len(rows), total)
    return Evaluation(rows, summarise(rows, list(test_sets)))


def evaluate_folder(restorer, root, layout, crop_border=0, y_channel=False, on_image=None):
    """Evaluates `restorer` on the data set in `root`, scored as its `layout` is (see `scoring`)."""
    test_sets = list_test_sets(root, layout)
    return evaluate(restorer, test_sets, crop_border, on_image=on_image, **scoring(layout, y_channel))


def evaluate_model(
    model,
    root,
    layout,
    output,
    y_channel=False,
    crop_border=0,
    tile=256,
    overlap=0,
    tta=False,
    overwrite=False,
    on_image=None,
):
    """`hinet evaluate`: scores `model` (a path or preset) on `root` and writes `metrics.csv` and `metrics.json`.

    The reports, tile, data set (every header) and model name are checked before the model
    loads. Returns `(Evaluation, [csv path, json path])`.

    Raises:
        FileExistsError: a report exists and `overwrite` is false.
        ValueError, ImageError, FileNotFoundError: bad settings, data or model, named.
    """
    output = Path(output)
    reports = [output / "metrics.csv", output / "metrics.json"]
    for report in reports:
        check_replaceable(report, overwrite)
    check_tile_before_loading(tile, overlap, size_multiple([model]))
    layouts.require_folder(root, "Dataset folder")
    check_writable(output)
    test_sets = list_test_sets(root, layout)
    check_model_source(model)  # before the imports below load TensorFlow
    from hinet_tf.models.loading import load_model
    from hinet_tf.inference.restorer import Restorer

    restorer = Restorer(load_model(model), tile=tile, overlap=overlap, tta=tta, grid="official")
    options = scoring(layout, y_channel)
    result = evaluate(restorer, test_sets, crop_border, on_image=on_image, **options)
    settings = {
        "model": str(model),
        "data": str(root),
        "layout": layout,
        "y_channel": options["y_channel"],
        "uint8": options["quantize"],
        "crop_border": crop_border,
        "tile": tile,
        "overlap": overlap,
        "grid": "official",
        "tta": tta,
    }
    summary = json.dumps({**settings, **result.summary, "images": result.rows}, indent=2)
    atomic_write_texts({reports[0]: result.to_csv(), reports[1]: summary}, overwrite)
    return result, reports


def score(restored, target, crop_border=0, y_channel=False, quantize=True, name="the restored image"):
    """`{"psnr": ..., "ssim": ...}` of one restored image; ValueError naming it if the shapes differ."""
    if restored.shape != target.shape:
        raise ValueError(f"{name}: the restored image {restored.shape} and the target {target.shape} differ in shape")
    options = {"crop_border": crop_border, "y_channel": y_channel, "quantize": quantize}
    try:
        return {"psnr": psnr(restored, target, **options), "ssim": ssim(restored, target, **options)}
    except ValueError as error:  # a border too wide for the image
        raise ValueError(f"{name}: {error}") from None


def summarise(rows, set_names):
    """Per-set means and their mean: with several sets (Rain13k), the mean of the set means."""
    sets = {}
    for set_name in set_names:
        scores = [row for row in rows if row["set"] == set_name]
        sets[set_name] = {
            "count": len(scores),
            "psnr": sum(row["psnr"] for row in scores) / len(scores),
            "ssim": sum(row["ssim"] for row in scores) / len(scores),
        }
    mean = {key: sum(values[key] for values in sets.values()) / len(sets) for key in ("psnr", "ssim")}
    return {"sets": sets, "mean": mean}


def _file_samples(pairs, with_folder=False):
    """Samples of image file pairs, whose headers and sizes are checked now, before any model runs."""
    for degraded, target in pairs:
        sizes = [(header.width, header.height) for header in (read_header(degraded), read_header(target))]
        if sorted(sizes[0]) != sorted(sizes[1]):  # up to a quarter turn: the EXIF orientation is applied on reading
            (width, height), (target_width, target_height) = sizes
            raise ValueError(f"{degraded} is {width}x{height} but its target {target} is {target_width}x{target_height}")

    def loader(degraded_path, target_path):
        return lambda: (read_image(degraded_path).pixels, read_image(target_path).pixels)

    def name(path):
        return f"{path.parent.name}/{path.name}" if with_folder else path.name

    return [Sample(name(degraded), loader(degraded, target)) for degraded, target in pairs]


def _sidd_blocks(root):
    noisy, clean = read_validation_blocks(root)
    return [
        Sample(f"block_{index:04d}", lambda index=index: (noisy[index] / np.float32(255), clean[index] / np.float32(255)))
        for index in range(len(noisy))
    ]
