"""What each export format writes, and whether it may be written where asked: checked before TensorFlow loads."""

from pathlib import Path

from hinet_tf.utils.atomic import FolderLayout
from hinet_tf.utils.atomic import check_replaceable

# What TensorFlow writes into a SavedModel folder: `--overwrite` replaces only such a folder. Not
# `assets.extra`: TF Serving's warm-up requests, which a user adds and a new export would drop.
SAVED_MODEL = FolderLayout("a SavedModel", "saved_model.pb", ("saved_model.pb", "fingerprint.pb", "variables", "assets"))
FOLDER_FORMATS = {"savedmodel": SAVED_MODEL}
FILE_SUFFIXES = {"tflite": ".tflite", "onnx": ".onnx"}  # the other formats write one file
# Suffixes of model files: a folder export named so would pass for one.
MODEL_FILE_SUFFIXES = (*FILE_SUFFIXES.values(), ".keras", ".h5", ".pth")


def check_output(path, export_format, overwrite):
    """Raises unless an export of `export_format` may be written at `path`.

    Raises:
        ValueError: a file format's `path` does not end in its suffix (`FILE_SUFFIXES`), or a folder
            format's `path` ends in a model file's suffix (`MODEL_FILE_SUFFIXES`).
        FileExistsError: as `check_replaceable`.
    """
    suffix = FILE_SUFFIXES.get(export_format)
    if suffix and Path(path).suffix.lower() != suffix:
        raise ValueError(f"the output of --format {export_format} must end in {suffix}; got {path}")
    if not suffix and Path(path).suffix.lower() in MODEL_FILE_SUFFIXES:
        raise ValueError(f"the output of --format {export_format} is a folder, not a {Path(path).suffix} file; got {path}")
    check_replaceable(path, overwrite, FOLDER_FORMATS.get(export_format))
