"""`hinet evaluate`: PSNR and SSIM of a model on a test set (`hinet_tf.evaluation`), printed and saved."""

from hinet_tf.cli.arguments import at_least
from hinet_tf.cli.errors import reported


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
    """Scores with `hinet_tf.evaluation.evaluate_model`, printing each image and the means."""
    from hinet_tf.evaluation import evaluate_model
    from hinet_tf.utils.image_io import ImageError

    with reported(OSError, ValueError, ImageError):
        result, reports = evaluate_model(
            args.model,
            args.data,
            args.layout,
            args.output,
            y_channel=args.y_channel,
            crop_border=args.crop_border,
            tile=args.tile,
            overlap=args.overlap,
            tta=args.tta,
            overwrite=args.overwrite,
            on_image=_print_image,
        )
    sets = result.summary["sets"]
    for set_name, values in sets.items():
        print(f"{set_name}: {values['count']} images, PSNR {values['psnr']:.2f} dB, SSIM {values['ssim']:.4f}")
    mean = result.summary["mean"]
    print(f"mean{' of the test sets' if len(sets) > 1 else ''}: PSNR {mean['psnr']:.2f} dB, SSIM {mean['ssim']:.4f}")
    print(f"wrote {reports[0]} and {reports[1]}")


def _print_image(row, index, total):
    scores = f"PSNR {row['psnr']:.2f} dB, SSIM {row['ssim']:.4f}"
    print(f"[{index}/{total}] {row['set']}/{row['name']}: {scores}", flush=True)
