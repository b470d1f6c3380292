"""What a user names as a model, checked before Keras loads: a preset name, a folder or a `.keras` file.

The command line calls `check_model_source` before it imports TensorFlow, so a missing or
misnamed model is refused at once; `loading.load_model` calls it too, and checks the rest.
"""

import zipfile
from pathlib import Path

from hinet_tf.models.hinet.hinet_presets import backbone_presets
from hinet_tf.utils.atomic import recover_directory


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
