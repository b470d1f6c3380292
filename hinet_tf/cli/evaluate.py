"""`hinet evaluate`: PSNR and SSIM of a model on a test set, per image and on average."""

import csv
import io
import json
from pathlib import Path

from hinet_tf.cli.arguments import at_least
from hinet_tf.cli.arguments import check_output_folder
from hinet_tf.cli.errors import CLIError

# The split each layout is evaluated on (see hinet_tf.data.layouts).
EVALUATION_SPLITS = {"pairs": "test", "gopro": "test", "reds": "val", "rain13k": "test"}


def add_parser(subparsers):
    from hinet_tf.data.layouts import LAYOUTS

    parser = subparsers.add_parser(
        "evaluate",
        help="PSNR / SSIM of a model on a test set",
        description=(
            "Restore a test set in tiles and print per-image and mean PSNR / SSIM (the official definitions: "
            "8-bit rounding, peak 255). pairs: DIR/input + DIR/target (or DIR/test/...); gopro: test/; "
            "reds: REDS-val-300; "
            "rain13k: the five test sets and their average on the Y channel (Table 3); sidd: the validation "
            "blocks (ValidationNoisyBlocksSrgb.mat, ValidationGtBlocksSrgb.mat) on float outputs."
        ),
    )
    parser.add_argument("--model", required=True, metavar="PATH_OR_PRESET", help="a .keras file or a preset")
    parser.add_argument("--data", required=True, metavar="DIR", help="the data set's root folder")
    parser.add_argument("--layout", required=True, choices=LAYOUTS, help="how DIR is organised")
    parser.add_argument("--y-channel", action="store_true", help="compare BT.601 Y (always on for rain13k)")
    parser.add_argument("--crop-border", type=at_least(0), default=0, help="pixels ignored at each edge (default 0)")
    parser.add_argument("--tile", type=at_least(1), default=256, help="tile size (default 256, as the official code)")
    parser.add_argument(
        "--overlap", type=at_least(0), default=0, help="minimum tile overlap (default 0: the official grid)"
    )
    parser.add_argument("--tta", action="store_true", help="average over the 8 flips and rotations")
    parser.add_argument("-o", "--output", default="evaluation", metavar="DIR", help="where the CSV and JSON go")
    parser.add_argument("--overwrite", action="store_true", help="replace existing reports")
    parser.set_defaults(func=run)


def run(args):
    output = Path(args.output)
    reports = [output / "metrics.csv", output / "metrics.json"]
    existing = [str(path) for path in reports if path.exists()]
    if existing and not args.overwrite:
        raise CLIError(f"{', '.join(existing)} exist(s); pass --overwrite to replace")
    if args.overlap >= args.tile:
        raise CLIError(f"--overlap ({args.overlap}) must be smaller than --tile ({args.tile})")
    check_output_folder(output)
    sets = _test_sets(Path(args.data), args.layout)
    y_channel = args.y_channel or args.layout == "rain13k"
    quantize = args.layout != "sidd"

    from hinet_tf.cli.restore import load_models
    from hinet_tf.inference import Restorer
    from hinet_tf.utils.atomic import atomic_write_bytes

    try:
        restorer = Restorer(load_models([args.model]), tile=args.tile, overlap=args.overlap, tta=args.tta)
    except (FileNotFoundError, ValueError) as error:
        raise CLIError(str(error)) from None

    rows = []
    total = sum(len(samples) for samples in sets.values())
    for set_name, samples in sets.items():
        for name, load in samples:
            degraded, target = load()
            psnr, ssim = _score(restorer(degraded), target, y_channel, quantize, args.crop_border, name)
            rows.append({"set": set_name, "name": name, "psnr": psnr, "ssim": ssim})
            print(f"[{len(rows)}/{total}] {set_name}/{name}: PSNR {psnr:.2f} dB, SSIM {ssim:.4f}", flush=True)
    summary = _summarise(rows, list(sets))
    for set_name, values in summary["sets"].items():
        print(f"{set_name}: {values['count']} images, PSNR {values['psnr']:.2f} dB, SSIM {values['ssim']:.4f}")
    mean = summary["mean"]
    print(f"mean{' of the test sets' if len(sets) > 1 else ''}: PSNR {mean['psnr']:.2f} dB, SSIM {mean['ssim']:.4f}")

    settings = {
        "model": args.model,
        "data": str(args.data),
        "layout": args.layout,
        "y_channel": y_channel,
        "uint8": quantize,
        "crop_border": args.crop_border,
        "tile": args.tile,
        "overlap": args.overlap,
        "tta": args.tta,
    }
    atomic_write_bytes(reports[0], _csv(rows).encode())
    atomic_write_bytes(reports[1], json.dumps({**settings, **summary, "images": rows}, indent=2).encode())
    print(f"wrote {reports[0]} and {reports[1]}")


def _test_sets(root, layout):
    """`{set name: [(image name, loader returning (degraded, target) float arrays)]}`."""
    from hinet_tf.data import layouts

    try:
        if layout == "sidd":
            return {"sidd_validation": _sidd_blocks(root)}
        if layout == "rain13k":
            names = layouts.RAIN13K_TEST_SETS
            return {name: _file_samples(layouts.list_pairs(root, layout, "test", subset=name)) for name in names}
        if layout == "pairs" and (root / "input").is_dir():
            return {layout: _file_samples(layouts.match_by_name(root / "input", root / "target"))}
        pairs = layouts.list_pairs(root, layout, EVALUATION_SPLITS[layout])
        return {layout: _file_samples(pairs, with_folder=layout == "reds")}  # REDS frame names repeat per clip
    except ValueError as error:
        raise CLIError(str(error)) from None


def _file_samples(pairs, with_folder=False):
    """Loaders of image pairs, whose headers are checked now, before the model is loaded."""
    from hinet_tf.inference import ImageError
    from hinet_tf.inference import read_image
    from hinet_tf.inference.image_io import read_header

    for path in (path for pair in pairs for path in pair):
        try:
            read_header(path)
        except ImageError as error:
            raise CLIError(str(error)) from None

    def loader(degraded_path, target_path):
        def load():
            try:
                return read_image(degraded_path).pixels, read_image(target_path).pixels
            except ImageError as error:
                raise CLIError(str(error)) from None

        return load

    def name(path):
        return f"{path.parent.name}/{path.name}" if with_folder else path.name

    return [(name(degraded), loader(degraded, target)) for degraded, target in pairs]


def _sidd_blocks(root):
    import numpy as np

    from hinet_tf.data.sidd_blocks import read_validation_blocks

    noisy, clean = read_validation_blocks(root)
    return [
        (f"block_{index:04d}", lambda index=index: (noisy[index] / np.float32(255), clean[index] / np.float32(255)))
        for index in range(len(noisy))
    ]


def _score(restored, target, y_channel, quantize, crop_border, name):
    from hinet_tf.metrics import psnr
    from hinet_tf.metrics import ssim

    if restored.shape != target.shape:
        raise CLIError(f"{name}: the restored image {restored.shape} and the target {target.shape} differ in shape")
    options = {"crop_border": crop_border, "y_channel": y_channel, "quantize": quantize}
    return psnr(restored, target, **options), ssim(restored, target, **options)


def _summarise(rows, set_names):
    sets = {}
    for set_name in set_names:
        scores = [row for row in rows if row["set"] == set_name]
        sets[set_name] = {
            "count": len(scores),
            "psnr": sum(row["psnr"] for row in scores) / len(scores),
            "ssim": sum(row["ssim"] for row in scores) / len(scores),
        }
    # Several test sets (Rain13k): the mean of their means, as Table 3 of the paper.
    mean = {key: sum(values[key] for values in sets.values()) / len(sets) for key in ("psnr", "ssim")}
    return {"sets": sets, "mean": mean}


def _csv(rows):
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=["set", "name", "psnr", "ssim"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()
