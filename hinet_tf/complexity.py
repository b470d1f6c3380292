"""Multiply-accumulate counts of a Keras model, read off its TensorFlow graph."""

import dataclasses

import numpy as np
import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class MACCount:
    """MACs of one forward pass.

    Attributes:
        true: multiply-accumulates of the convolutions and transposed convolutions.
        paper: the count the HINet paper reports (PyTorch `thop` rules): a transposed
            convolution costs output elements x input channels x kernel area (4x its
            true cost for 2x2 stride 2), every bias adds one per output element, every
            LeakyReLU one per element, and instance norm nothing.
    """

    true: int
    paper: int


def count_macs(model, height=256, width=256, batch_size=1):
    """Counts the MACs of `model` on a `batch_size x height x width x C` input."""
    channels = model.inputs[0].shape[-1]
    spec = tf.TensorSpec([batch_size, height, width, channels], tf.float32)
    graph = tf.function(lambda images: model(images, training=False)).get_concrete_function(spec).graph
    true = paper = 0
    for op in graph.get_operations():
        output_size = _output_size(op)
        if op.type == "Conv2D":
            macs = _conv_macs(op)
            true += macs
            paper += macs
        elif op.type == "Conv2DBackpropInput":
            kernel_height, kernel_width, _, in_channels = op.inputs[1].shape
            true += output_size * in_channels
            paper += output_size * in_channels * kernel_height * kernel_width
        elif op.type in ("BiasAdd", "LeakyRelu"):
            paper += output_size
        elif op.type == "DepthToSpace":
            # A transposed convolution computed as conv (+ bias) + depth_to_space (`layers.conv`):
            # thop charges it block^2 times the conv, and one per element for the bias.
            source = op.inputs[0].op
            if source.type == "AddV2":
                paper += _output_size(source)
                source = next(tensor.op for tensor in source.inputs if tensor.op.type == "Conv2D")
            paper += (op.get_attr("block_size") ** 2 - 1) * _conv_macs(source)
    return MACCount(true=true, paper=paper)


def _output_size(op):
    return int(np.prod(op.outputs[0].shape)) if op.outputs else 0


def _conv_macs(op):
    kernel_height, kernel_width, in_channels, _ = op.inputs[1].shape
    return _output_size(op) * kernel_height * kernel_width * in_channels
