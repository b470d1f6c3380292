"""ONNX export (onnxruntime, OpenVINO, TensorRT, ...) through tf2onnx: dynamic-size or fixed-tile models.

The file holds one graph from `images` (float32 NHWC in [0, 1]) to `restored` (float32
NHWC, the model's final output, unclipped), at ONNX opset `OPSET` by default. The
dynamic-size graph pads height and width to the model's size multiple inside and crops
back, like the SavedModel's `serving_default`; its dimensions are named `batch`,
`height` and `width`.

tf2onnx was chosen over `keras.Model.export(format="onnx")`, which runs the same
converter on the model's own call: that graph returns every stage, has no padding and
names its input after the model's input layer.
"""

import importlib.util

from hinet_tf.export.graph import float_signature
from hinet_tf.export.graph import input_shape
from hinet_tf.utils.atomic import atomic_write_bytes
from hinet_tf.utils.atomic import check_replaceable
from hinet_tf.utils.backend import require_tensorflow

OPSET = 17
INSTALL = 'pip install "hinet-tf[onnx]"'
CONVERTER_PACKAGES = ("onnx", "tf2onnx")
DIMENSION_NAMES = ("batch", "height", "width")


def missing_packages(packages=CONVERTER_PACKAGES):
    """The names among `packages` that are not installed."""
    return [name for name in packages if importlib.util.find_spec(name) is None]


def require(packages=CONVERTER_PACKAGES, purpose="ONNX export"):
    """Raises a one-line ImportError naming the missing `packages` and the extra to install."""
    missing = missing_packages(packages)
    if missing:
        raise ImportError(f"{purpose} needs {', '.join(missing)}, not installed here: {INSTALL}")


def export_onnx(model, path, tile=None, opset=OPSET, overwrite=False):
    """Converts `model` to an ONNX file at `path`, complete or not at all.

    Args:
        model: an image restorer (`HINetImageRestorer`; a `HINetBackbone` is wrapped in one).
        path: the `.onnx` file to write.
        tile: None for a graph of any batch, height and width (at least the model's size
            multiple, 16), or a tile size for a fixed 1 x tile x tile input.
        opset: the ONNX opset to convert to.
        overwrite: replace an existing `path`; otherwise, or if `path` is a folder, it raises
            `FileExistsError` before converting.
    """
    require_tensorflow("ONNX export")
    shape = input_shape(model, tile)
    check_replaceable(path, overwrite)  # before the slow conversion
    return convert_function(float_signature(model, shape), path, opset, overwrite)


def convert_function(function, path, opset=OPSET, overwrite=True):
    """Converts a `tf.function` of one input signature to an ONNX file at `path`, atomically.

    The inputs and outputs keep the names of the signature and of the returned dict
    (`Restorer` converts its tile function, with test-time augmentation and every model
    of an ensemble, this way). Unknown dimensions of rank-4 inputs and outputs are
    named `batch`, `height` and `width`.
    """
    require()
    import tf2onnx

    proto, _ = tf2onnx.convert.from_function(function, input_signature=function.input_signature, opset=opset)
    for value in (*proto.graph.input, *proto.graph.output):
        dimensions = value.type.tensor_type.shape.dim
        for dimension, name in zip(dimensions, DIMENSION_NAMES if len(dimensions) == 4 else ()):
            if not dimension.HasField("dim_value"):
                dimension.dim_param = name
    atomic_write_bytes(path, proto.SerializeToString(), overwrite)
    return path
