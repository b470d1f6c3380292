"""What a user names as a model, checked before Keras loads: a preset name, a folder or a `.keras` file.

The command line calls `check_model_source` before it imports TensorFlow, so a missing or
misnamed model is refused at once; `loading.load_model` calls it too, and checks the rest.
`size_multiple` reads a HINet's size multiple from its config, for the tile to be checked too.
"""

import json
import math
import zipfile
from pathlib import Path

from hinet_tf.models.hinet.hinet_presets import backbone_presets
from hinet_tf.models.preset_utils import CONFIG_FILE
from hinet_tf.models.preset_utils import shipped_preset_dir
from hinet_tf.utils.atomic import recover_directory

DEFAULT_PRESET = "hinet_camera_denoise"  # camera photos; hinet_photo_denoise for Gaussian noise


def check_model_source(spec):
    """Raises a one-line error naming `spec` unless it is a preset name, a folder or a `.keras` zip archive.

    Raises:
        FileNotFoundError: neither a preset name nor an existing file or folder.
        ValueError: a file that is not a `.keras` archive.
    """
    if str(spec) in backbone_presets:
        return
    path = Path(spec)
    recover_directory(path)  # a preset whose swap a kill interrupted lies under another name
    if path.is_dir():
        return
    if not path.is_file():
        raise FileNotFoundError(
            f"Model {path} does not exist; pass a .keras file, a preset directory or a preset "
            f"({', '.join(backbone_presets)})."
        )
    if path.suffix != ".keras":
        raise ValueError(f"Model {path} is not a .keras file.")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"Model {path} is not a valid .keras file (not a zip archive: damaged or of another kind).")


def size_multiple(specs):
    """The size multiple of the models `specs` name together (None: the default), from their configs.

    Returns None unless each is a shipped preset, a preset folder or a `.keras` file whose
    config is a HINet's (its multiple is `2 ** (depth - 1)`): other models are loaded first.
    """
    multiples = []
    for spec in specs:
        try:
            if spec is None or str(spec) in backbone_presets:
                config = json.loads((shipped_preset_dir(str(spec or DEFAULT_PRESET)) / CONFIG_FILE).read_bytes())
            elif zipfile.is_zipfile(spec):
                with zipfile.ZipFile(spec) as archive:
                    config = json.loads(archive.read(CONFIG_FILE))
            else:
                config = json.loads((Path(spec) / CONFIG_FILE).read_bytes())
            if config["registered_name"] == "hinet_tf>HINetImageRestorer":
                config = config["config"]["backbone"]
            if config["registered_name"] != "hinet_tf>HINetBackbone":
                return None
            multiples.append(2 ** (config["config"]["depth"] - 1))  # get_config writes every argument
        except Exception:  # not readable so (a damaged file, another kind of config): the loading says why
            return None
    return math.lcm(*multiples)
