"""SavedModel export for TF Serving, with float32 and uint8 signatures of any image size."""

from pathlib import Path

import keras

from hinet_tf.export.graph import float_signature
from hinet_tf.export.graph import uint8_signature
from hinet_tf.models import image_restorer
from hinet_tf.export.outputs import SAVED_MODEL
from hinet_tf.utils.atomic import atomic_directory
from hinet_tf.utils.backend import require_tensorflow

FLOAT_SIGNATURE = "serving_default"
UINT8_SIGNATURE = "serving_uint8"


def export_saved_model(model, path, overwrite=False):
    """Writes `model` as a SavedModel folder at `path`, complete or not at all.

    An existing `path` is replaced only with `overwrite`, and only if it is a SavedModel
    folder (`SAVED_MODEL`) or empty: otherwise `FileExistsError`, and nothing is deleted.

    Signatures (both take NHWC `images` of any height and width and return `restored`):

    - `serving_default`: float32 in [0, 1] to float32 (the model's last output, unclipped);
    - `serving_uint8`: uint8 to uint8, for clients that send and want plain pixels.

    Inside the graph, images are reflect-padded to the model's size multiple and the
    result is cropped back; height and width must be more than half that multiple (at least 9 pixels for 16).
    """
    require_tensorflow("SavedModel export")
    model = image_restorer(model)
    with atomic_directory(path, SAVED_MODEL, overwrite) as temporary:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint(FLOAT_SIGNATURE, float_signature(model))
        archive.add_endpoint(UINT8_SIGNATURE, uint8_signature(model))
        archive.write_out(str(temporary), verbose=False)
    return Path(path)
