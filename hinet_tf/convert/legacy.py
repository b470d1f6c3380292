"""`.keras` files of the `HINet` class of hinet-tf 0.x (removed): a one-line refusal on load, and their conversion.

    python -m hinet_tf.convert.legacy OLD.keras NEW.keras

writes the same network with the same weights as a `HINetImageRestorer` file (the
optimizer state is not kept). `HINet` was a `HINetBackbone` with its training built in,
so its weights sit at the backbone's paths.
"""

import json
import sys
import tempfile
import zipfile
from pathlib import Path

import keras

from hinet_tf.models import HINetBackbone
from hinet_tf.models import HINetImageRestorer
from hinet_tf.utils.atomic import atomic_write

COMMAND = "python -m hinet_tf.convert.legacy OLD.keras NEW.keras"


@keras.saving.register_keras_serializable(package="hinet_tf", name="HINet")
class RemovedHINet:
    """Stands for the removed `HINet` in saved files: loading one raises the command that converts it."""

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        raise ValueError(f"the file holds the HINet class of hinet-tf 0.x, removed in 0.3; convert it with `{COMMAND}`")


def convert_legacy_file(source, target):
    """Writes the `HINet` of `.keras` file `source` as a `HINetImageRestorer` file `target` (which must not exist).

    Raises:
        ValueError: `source` is no `.keras` file of a `HINet`.
        FileExistsError: `target` exists.
    """
    try:
        with zipfile.ZipFile(source) as archive:
            config = json.loads(archive.read("config.json"))
            weights = archive.read("model.weights.h5")
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(f"{source} is not a readable .keras file: {error}") from None
    if config.get("registered_name") != "hinet_tf>HINet":
        found = config.get("class_name")
        raise ValueError(f"{source} holds a {found}, not the HINet of hinet-tf 0.x: it loads as it is")
    backbone = HINetBackbone(**{key: value for key, value in config["config"].items() if key != "trainable"})
    with tempfile.TemporaryDirectory() as folder:
        weights_path = Path(folder) / "model.weights.h5"
        weights_path.write_bytes(weights)
        backbone.load_weights(weights_path)
    with atomic_write(target, overwrite=False) as temporary:
        HINetImageRestorer(backbone).save(temporary)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(f"usage: {COMMAND}")
    try:
        convert_legacy_file(*sys.argv[1:])
    except (ValueError, FileExistsError) as error:
        sys.exit(f"error: {error}")
    print(f"Wrote {sys.argv[2]}")
