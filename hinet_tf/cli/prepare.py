"""`hinet prepare`: packs a data set's image pairs into TFRecord shards for fast input."""

from hinet_tf.cli.arguments import check_output_folder
from hinet_tf.cli.errors import CLIError
from hinet_tf.cli.errors import reported


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "prepare",
        help="pack a data set into TFRecord shards (the counterpart of the official lmdb)",
        description=(
            "Check every image pair of a data set and pack the original PNG/JPEG bytes into TFRecord shards. "
            "Train from them with data.layout=tfrecord and --data OUT_DIR. The split 'sidd_blocks' packs "
            "the two SIDD validation .mat files found in DATA_DIR."
        ),
    )
    parser.add_argument("layout", metavar="LAYOUT", help="pairs, gopro, sidd, reds or rain13k")
    parser.add_argument("data", metavar="DATA_DIR", help="the data set's folder")
    parser.add_argument("out", metavar="OUT_DIR", help="folder for the shards and their <split>.json index")
    parser.add_argument(
        "--splits", nargs="+", default=["train"], metavar="SPLIT", help="splits to pack (default: train)"
    )
    parser.add_argument("--subset", help="Rain13k test set, or 'all' for every REDS validation frame")
    parser.add_argument("--shards", type=int, default=8, help="shards per split, at most one per pair (default: 8)")
    parser.add_argument(
        "--check", choices=("full", "header"), default="full", help="decode every file (full) or read headers only"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace shards of the same split in OUT_DIR")
    parser.set_defaults(func=run)


def run(args):
    from hinet_tf.data import layouts

    if args.layout not in layouts.LAYOUTS:
        raise CLIError(f"unknown layout {args.layout!r}; choose one of: {', '.join(layouts.LAYOUTS)}")
    if args.shards < 1:
        raise CLIError(f"--shards must be at least 1, got {args.shards}")
    with reported(ValueError):
        layouts.require_folder(args.data, "Dataset folder")
    check_output_folder(args.out)  # before the shards' module imports TensorFlow
    from hinet_tf.data import tfrecord

    with reported(ValueError):
        tfrecord.prepare_splits(
            args.data, args.layout, args.out, args.splits, args.subset, args.shards, args.check == "full", args.overwrite
        )
