"""`hinet evaluate`: PSNR and SSIM of a model on a test set (`hinet_tf.evaluation`), printed and saved."""

import json
from pathlib import Path

from hinet_tf.cli.arguments import at_least
from hinet_tf.cli.arguments import check_models_early
from hinet_tf.cli.arguments import check_output_folder
from hinet_tf.cli.arguments import check_tile_early
from hinet_tf.cli.errors import CLIError


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
    check_tile_early(args)
    if not Path(args.data).is_dir():
        raise CLIError(f"Dataset folder {args.data} does not exist.")
    check_output_folder(output)  # these checks before the evaluation's modules import TensorFlow

    from hinet_tf import evaluation
    from hinet_tf.cli.arguments import load_models
    from hinet_tf.inference import ImageError
    from hinet_tf.inference import Restorer
    from hinet_tf.utils.atomic import atomic_write_text

    scoring = evaluation.scoring(args.layout, args.y_channel)
    try:
        test_sets = evaluation.list_test_sets(Path(args.data), args.layout)  # checked before the model loads
        check_models_early([args.model])
        restorer = Restorer(load_models([args.model]), tile=args.tile, overlap=args.overlap, tta=args.tta)
        result = evaluation.evaluate(restorer, test_sets, args.crop_border, on_image=_print_image, **scoring)
    except (FileNotFoundError, ValueError, ImageError) as error:
        raise CLIError(str(error)) from None
    for set_name, values in result.summary["sets"].items():
        print(f"{set_name}: {values['count']} images, PSNR {values['psnr']:.2f} dB, SSIM {values['ssim']:.4f}")
    mean = result.summary["mean"]
    print(f"mean{' of the test sets' if len(test_sets) > 1 else ''}: PSNR {mean['psnr']:.2f} dB, SSIM {mean['ssim']:.4f}")

    settings = {
        "model": args.model,
        "data": str(args.data),
        "layout": args.layout,
        "y_channel": scoring["y_channel"],
        "uint8": scoring["quantize"],
        "crop_border": args.crop_border,
        "tile": args.tile,
        "overlap": args.overlap,
        "tta": args.tta,
    }
    atomic_write_text(reports[0], result.to_csv(), args.overwrite)
    atomic_write_text(reports[1], json.dumps({**settings, **result.summary, "images": result.rows}, indent=2), args.overwrite)
    print(f"wrote {reports[0]} and {reports[1]}")


def _print_image(row, index, total):
    scores = f"PSNR {row['psnr']:.2f} dB, SSIM {row['ssim']:.4f}"
    print(f"[{index}/{total}] {row['set']}/{row['name']}: {scores}", flush=True)
