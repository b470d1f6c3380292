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

import collections
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
# Changes whenever the converted graph does, so that cached conversions are made again.
GRAPH_VERSION = 2
# A `Conv`'s attributes at their defaults: no padding, stride, dilation or groups.
PLAIN_CONV = {"pads": [0, 0, 0, 0], "strides": [1, 1], "dilations": [1, 1], "group": 1}


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
    upsampling_as_conv_transpose(proto.graph)
    atomic_write_bytes(path, proto.SerializeToString(), overwrite)
    return path


def upsampling_as_conv_transpose(graph):
    """Replaces each 1x1 `Conv` read only by a `DepthToSpace` with the equal `ConvTranspose`, in place.

    Such pairs are the decoder's upsampling (`layers.conv.Conv2DTranspose` says why); onnxruntime
    runs the one `ConvTranspose` faster (`DepthToSpace` alone took 7% of the time on an AMD EPYC).
    Returns how many pairs were replaced.
    """
    from onnx import helper
    from onnx import numpy_helper

    constants = {tensor.name: tensor for tensor in graph.initializer}
    producers = {output: node for node in graph.node for output in node.output}
    read = [name for node in graph.node for name in node.input] + [value.name for value in graph.output]
    readers = collections.Counter(read)
    replaced = []
    for depth_to_space in [node for node in graph.node if node.op_type == "DepthToSpace"]:
        conv = producers.get(depth_to_space.input[0])
        weights = conv and readers[conv.output[0]] == 1 and _transposed_weights(conv, depth_to_space, constants)
        if not weights:
            continue
        names = [f"{name}/transposed" for name in conv.input[1:]]
        for values, name in zip(weights, names):
            if name not in constants:  # weights shared by several calls (test-time augmentation) once
                constants[name] = numpy_helper.from_array(values, name)
                graph.initializer.append(constants[name])
        block = weights[0].shape[-1]
        transposed = helper.make_node(
            "ConvTranspose", [conv.input[0], *names], depth_to_space.output, f"{conv.name}/transposed",
            kernel_shape=[block, block], strides=[block, block],
        )
        graph.node.insert(list(graph.node).index(conv), transposed)
        graph.node.remove(conv)
        graph.node.remove(depth_to_space)
        replaced.append(conv)
    still_read = {name for node in graph.node for name in node.input}
    for name in {name for conv in replaced for name in conv.input[1:]} - still_read:
        graph.initializer.remove(constants[name])
    return len(replaced)


def _transposed_weights(conv, depth_to_space, constants):
    """The kernel (and bias) of the `ConvTranspose` that computes `conv` then `depth_to_space`, or None.

    With a block of `b`, a plain 1x1 convolution to `b * b * C` channels and `DepthToSpace`
    in "DCR" order write each input pixel's `b` x `b` block of C channels: a transposed
    convolution with a `b` x `b` kernel and stride, its kernel (in, C, b, b) the 1x1 kernel
    regrouped. A bias must then be the same at every position of the block.
    """
    from onnx import helper
    from onnx import numpy_helper

    settings = {item.name: helper.get_attribute_value(item) for item in depth_to_space.attribute}
    conv_settings = {item.name: helper.get_attribute_value(item) for item in conv.attribute}
    plain = all(conv_settings.get(name, default) == default for name, default in PLAIN_CONV.items())
    if conv.op_type != "Conv" or settings.get("mode", b"DCR") != b"DCR" or not plain:
        return None
    if not all(name in constants for name in conv.input[1:]):
        return None
    kernel, *bias = (numpy_helper.to_array(constants[name]) for name in conv.input[1:])
    block = settings["blocksize"]
    if kernel.shape[2:] != (1, 1):
        return None
    channels = kernel.shape[0] // block**2
    bias = [values.reshape(block**2, channels) for values in bias]
    if any((values != values[0]).any() for values in bias):
        return None
    kernel = kernel[:, :, 0, 0].reshape(block, block, channels, -1).transpose(3, 2, 0, 1)
    return [kernel.copy(), *(values[0].copy() for values in bias)]
