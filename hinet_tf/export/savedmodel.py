"""SavedModel export for TF Serving, with float32 and uint8 signatures of any image size."""

import shutil
import tempfile
from pathlib import Path

import keras

from hinet_tf.export.graph import float_signature
from hinet_tf.export.graph import uint8_signature
from hinet_tf.models import image_restorer
from hinet_tf.utils.atomic import current_umask
from hinet_tf.utils.backend import require_tensorflow

FLOAT_SIGNATURE = "serving_default"
UINT8_SIGNATURE = "serving_uint8"


def export_saved_model(model, path, overwrite=False, signatures=(FLOAT_SIGNATURE, UINT8_SIGNATURE)):
    """Writes `model` as a SavedModel folder at `path`, complete or not at all.

    An existing `path` raises `FileExistsError` unless `overwrite`.

    Signatures (both take NHWC `images` of any height and width and return `restored`):

    - `serving_default`: float32 in [0, 1] to float32 (the restored image, unclipped);
    - `serving_uint8`: uint8 to uint8, for clients that send and want plain pixels.

    Inside the graph, images are reflect-padded to the model's size multiple and the
    result is cropped back; height and width must be at least that multiple (16).
    """
    require_tensorflow("SavedModel export")
    model = image_restorer(model)
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True (--overwrite) to replace it.")
    builders = {FLOAT_SIGNATURE: float_signature, UINT8_SIGNATURE: uint8_signature}
    archive = keras.export.ExportArchive()
    archive.track(model)
    for name in signatures:
        archive.add_endpoint(name, builders[name](model))
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        staging.chmod(0o777 & ~current_umask())  # mkdtemp makes folders private
        archive.write_out(str(staging), verbose=False)
        if path.exists():
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        staging.rename(path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path
