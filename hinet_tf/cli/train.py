"""`hinet train`: trains HINet from a YAML recipe, resuming an interrupted run."""

from pathlib import Path

from hinet_tf.cli.arguments import check_output_folder
from hinet_tf.cli.errors import CLIError
from hinet_tf.cli.errors import reported


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "train",
        help="train HINet from a YAML recipe (resumes an interrupted run)",
        description=(
            "Train HINet with model.fit on every visible GPU (MultiWorkerMirroredStrategy when TF_CONFIG is set). "
            "Rerunning the same command after a crash resumes from the last epoch's backup."
        ),
    )
    parser.add_argument("config", metavar="CONFIG", help="a recipe, e.g. configs/gopro.yaml or configs/photos_cpu.yaml")
    parser.add_argument("--data", metavar="DIR", help="the data set's folder (overrides data.root)")
    parser.add_argument(
        "--out", metavar="RUN_DIR", required=True, help="folder of checkpoints, logs and the final model"
    )
    parser.add_argument(
        "--set",
        metavar="KEY=VALUE",
        nargs="+",
        action="extend",
        default=[],
        dest="overrides",
        help="override config values, e.g. --set train.batch_size=8 train.steps=1000 (repeatable)",
    )
    parser.set_defaults(func=run)


def run(args):
    # The paths of the command line first: the config's modules import TensorFlow.
    if not Path(args.config).is_file():
        raise CLIError(f"cannot read config {args.config}: not a file")
    if args.data:
        _check_data_folder(args.data)
    check_output_folder(args.out)

    from hinet_tf.training.config import load_config

    with reported(ValueError):
        config = load_config(args.config, args.overrides)
    root = args.data or config.data.root
    if not root:
        raise CLIError("no training data: give --data DIR (or data.root in the config)")
    _check_data_folder(root)
    config = config.replace(
        data={"root": str(Path(root).resolve())}, train={"init_weights": _init_weights(config.train.init_weights)}
    )

    from hinet_tf.training import trainer

    with reported(ValueError):
        run = trainer.setup(config, args.out)
    with reported(trainer.NonFiniteLoss, ValueError):
        trainer.fit(run)
    trainer.finish(run)


def _init_weights(spec):
    """`train.init_weights` as the run folder's config keeps it: a preset name, or an absolute path that exists."""
    from hinet_tf.models.hinet.hinet_presets import architecture_presets  # pure Python: no TensorFlow yet
    from hinet_tf.models.hinet.hinet_presets import backbone_presets

    if spec in architecture_presets():
        raise CLIError(f"train.init_weights: {spec} is an architecture without weights; leave init_weights out instead")
    if not spec or spec in backbone_presets:
        return spec
    path = Path(spec).resolve()
    if not path.exists():
        where = "" if Path(spec).is_absolute() else f" (a relative path is read from the working folder, {Path.cwd()})"
        raise CLIError(f"train.init_weights: {spec} does not exist{where}; give a path or a preset name")
    return str(path)


def _check_data_folder(root):
    from hinet_tf.data.layouts import folder_problem  # pure Python: no TensorFlow yet

    problem = folder_problem(root)
    if problem:
        raise CLIError(f"the training data folder {root} {problem}")
