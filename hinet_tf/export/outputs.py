"""What each export format writes, and whether it may be written where asked: checked before TensorFlow loads."""

from hinet_tf.utils.atomic import FolderLayout
from hinet_tf.utils.atomic import check_replaceable

# What TensorFlow writes into a SavedModel folder: `--overwrite` replaces only such a folder.
SAVED_MODEL = FolderLayout(
    "a SavedModel", "saved_model.pb", ("saved_model.pb", "fingerprint.pb", "variables", "assets", "assets.extra")
)
FOLDER_FORMATS = {"savedmodel": SAVED_MODEL}  # the other formats write one file


def check_output(path, export_format, overwrite):
    """Raises FileExistsError unless an export of `export_format` may be written at `path` (`check_replaceable`)."""
    check_replaceable(path, overwrite, FOLDER_FORMATS.get(export_format))
