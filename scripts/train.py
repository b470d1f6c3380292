"""Trains HINet from a YAML recipe with `model.fit`: the same as `hinet train`, spelt out.

    python scripts/train.py configs/photos_cpu.yaml --data ~/Pictures --out runs/photos
    python scripts/train.py configs/gopro.yaml --data GoPro --out runs/gopro --set train.batch_size=16

Rerunning the same command after a crash resumes from the last epoch's backup.
"""

import argparse
from pathlib import Path

from hinet_tf.training import trainer
from hinet_tf.training.config import load_config


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", help="a recipe from configs/")
    parser.add_argument("--data", help="the data set's folder (overrides data.root)")
    parser.add_argument("--out", required=True, help="run folder: checkpoints, logs and the final model")
    parser.add_argument(
        "--set", nargs="+", action="extend", default=[], dest="overrides", help="section.key=value ..."
    )
    args = parser.parse_args()

    try:
        config = load_config(args.config, args.overrides)
        if args.data:
            config = config.replace(data={"root": str(Path(args.data).resolve())})
        # The strategy (all GPUs, or MultiWorkerMirroredStrategy under TF_CONFIG) is created
        # first; the model and its Adam optimizer are built inside its scope.
        run = trainer.setup(config, args.out)
    except ValueError as error:
        parser.error(str(error))
    try:
        trainer.fit(run)  # model.fit: the backup, checkpoints, TensorBoard, a stop on a NaN loss, progress
    except trainer.NonFiniteLoss as error:
        parser.exit(1, f"{parser.prog}: error: {error}\n")
    trainer.finish(run)  # writes model.keras beside config.yaml


if __name__ == "__main__":
    main()
