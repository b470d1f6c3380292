"""ONNX export: names, dynamic and fixed shapes, outputs against Keras, run by onnxruntime."""

import sys

import keras
import numpy as np
import onnx
import onnxruntime
import pytest

from hinet_tf.export import export_onnx
from hinet_tf.export.onnx import OPSET
from hinet_tf.export.onnx import upsampling_as_conv_transpose
from hinet_tf.models import HINetBackbone
from hinet_tf.models import HINetImageRestorer

pytestmark = pytest.mark.slow  # each conversion takes seconds


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(5)
    return HINetImageRestorer(HINetBackbone(width=8, depth=3))  # converts in half the time of 5 levels


@pytest.fixture(scope="module")
def exported(model, tmp_path_factory):
    folder = tmp_path_factory.mktemp("onnx")
    return {"dynamic": export_onnx(model, folder / "any.onnx"), "tile": export_onnx(model, folder / "tile.onnx", tile=32)}


def keras_restore(model, images):
    """Reference: reflect-pad in NumPy, run the backbone, crop back."""
    height, width = images.shape[1:3]
    multiple = model.size_multiple
    padded = np.pad(images, ((0, 0), (0, -height % multiple), (0, -width % multiple), (0, 0)), mode="reflect")
    return model.backbone(padded)[-1][:, :height, :width].numpy()


def run_onnx(path, images):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["restored"], {"images": images})[0]


def shapes(values):
    return {value.name: [dim.dim_param or dim.dim_value for dim in value.type.tensor_type.shape.dim] for value in values}


def test_the_graph_has_the_documented_opset_names_and_dimensions(exported):
    graph = onnx.load(exported["dynamic"])
    onnx.checker.check_model(graph)
    assert {entry.version for entry in graph.opset_import if entry.domain in ("", "ai.onnx")} == {OPSET}
    assert shapes(graph.graph.input) == {"images": ["batch", "height", "width", 3]}
    assert shapes(graph.graph.output) == {"restored": ["batch", "height", "width", 3]}
    tile = onnx.load(exported["tile"])
    assert shapes(tile.graph.input) == {"images": [1, 32, 32, 3]}
    assert shapes(tile.graph.output) == {"restored": [1, 32, 32, 3]}


def test_the_fixed_tile_graph_changes_layout_only_at_its_input_and_output(exported):
    """tf2onnx runs the convolutions in NCHW; a transpose anywhere else costs time (Keras' GroupNormalization put in 20)."""
    nodes = onnx.load(exported["tile"]).graph.node
    assert sum(node.op_type == "Transpose" for node in nodes) == 2


def test_the_upsampling_runs_as_conv_transpose(exported):
    """Each stage's 2 upsamplings (3 levels) are one ConvTranspose in the file, not Keras' 1x1 conv and DepthToSpace."""
    for path in exported.values():
        operations = [node.op_type for node in onnx.load(path).graph.node]
        assert (operations.count("ConvTranspose"), operations.count("DepthToSpace")) == (4, 0)


def conv_then_depth_to_space(bias):
    """A graph of a 1x1 Conv (2 to 4 x 3 channels, `bias`) and a DepthToSpace of block 2."""
    from onnx import helper
    from onnx import numpy_helper

    kernel = np.random.default_rng(0).standard_normal((12, 2, 1, 1)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "kernel", "bias"], ["blocks"]),
        helper.make_node("DepthToSpace", ["blocks"], ["y"], blocksize=2, mode="DCR"),
    ]
    values = [numpy_helper.from_array(kernel, "kernel"), numpy_helper.from_array(bias.astype(np.float32), "bias")]
    graph = helper.make_graph(
        nodes,
        "upsampling",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 2, 5, 7])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 3, 10, 14])],
        values,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def run_graph(model, inputs):
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(["y"], {"x": inputs})[0]


def test_conv_and_depth_to_space_become_the_equal_conv_transpose():
    model = conv_then_depth_to_space(np.tile([0.1, -0.2, 0.3], 4))
    inputs = np.random.default_rng(1).standard_normal((1, 2, 5, 7)).astype(np.float32)
    expected = run_graph(model, inputs)
    assert upsampling_as_conv_transpose(model.graph) == 1
    onnx.checker.check_model(model)
    assert [node.op_type for node in model.graph.node] == ["ConvTranspose"]
    assert {tensor.name for tensor in model.graph.initializer} == {"kernel/transposed", "bias/transposed"}
    np.testing.assert_allclose(run_graph(model, inputs), expected, atol=1e-6)


def test_weights_shared_by_two_upsamplings_are_regrouped_once():
    """Test-time augmentation calls the model twice: its two upsamplings read the same weights."""
    from onnx import helper

    model = conv_then_depth_to_space(np.tile([0.1, -0.2, 0.3], 4))
    model.graph.node.extend([
        helper.make_node("Conv", ["x", "kernel", "bias"], ["blocks_2"]),
        helper.make_node("DepthToSpace", ["blocks_2"], ["y_2"], blocksize=2, mode="DCR"),
    ])
    model.graph.output.append(helper.make_tensor_value_info("y_2", onnx.TensorProto.FLOAT, [1, 3, 10, 14]))
    assert upsampling_as_conv_transpose(model.graph) == 2
    onnx.checker.check_model(model)  # initializer names are unique
    assert sorted(tensor.name for tensor in model.graph.initializer) == ["bias/transposed", "kernel/transposed"]


def test_a_bias_that_differs_within_the_block_is_left_as_it_was():
    model = conv_then_depth_to_space(np.arange(12))
    assert upsampling_as_conv_transpose(model.graph) == 0
    assert [node.op_type for node in model.graph.node] == ["Conv", "DepthToSpace"]


@pytest.mark.parametrize("shape", [(1, 37, 53, 3), (2, 21, 70, 3), (1, 32, 48, 3)])  # the last needs no padding
def test_any_size_matches_keras(model, exported, shape):
    images = np.random.default_rng(sum(shape)).random(shape, np.float32)
    restored = run_onnx(exported["dynamic"], images)
    assert restored.shape == shape
    np.testing.assert_allclose(restored, keras_restore(model, images), atol=1e-4)


def test_a_fixed_tile_matches_keras(model, exported):
    images = np.random.default_rng(1).random((1, 32, 32, 3), np.float32)
    np.testing.assert_allclose(run_onnx(exported["tile"], images), model.backbone(images)[-1].numpy(), atol=1e-4)
    with pytest.raises(onnxruntime.capi.onnxruntime_pybind11_state.InvalidArgument):
        run_onnx(exported["tile"], np.zeros((1, 48, 48, 3), np.float32))


def test_an_existing_file_is_kept_without_overwrite(model, exported, monkeypatch):
    from hinet_tf.export import onnx as onnx_export

    monkeypatch.setattr(onnx_export, "convert_function", _converter_must_not_run)  # refused before converting
    before = exported["tile"].read_bytes()
    with pytest.raises(FileExistsError, match="overwrite"):
        export_onnx(model, exported["tile"], tile=16)
    assert exported["tile"].read_bytes() == before


@pytest.mark.parametrize("tile", [0, 6])
def test_tiles_must_be_positive_multiples_of_the_size_multiple(model, tmp_path, tile):
    with pytest.raises(ValueError, match="multiple of 4"):
        export_onnx(model, tmp_path / "bad.onnx", tile=tile)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_converter_is_named_in_one_line(model, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tf2onnx", None)  # as in an install without the onnx extra
    with pytest.raises(ImportError) as error:
        export_onnx(model, tmp_path / "m.onnx")
    message = str(error.value)
    assert "tf2onnx" in message and "onnx]" in message and "\n" not in message
    assert list(tmp_path.iterdir()) == []


def test_openvino_runs_the_file_in_float32(model, exported):
    import openvino  # the README shows this call

    compiled = openvino.Core().compile_model(str(exported["dynamic"]), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    images = np.random.default_rng(2).random((1, 37, 53, 3), np.float32)
    np.testing.assert_allclose(compiled({"images": images})["restored"], keras_restore(model, images), atol=1e-4)


def _converter_must_not_run(*args, **kwargs):
    raise AssertionError("converted although the file would not be written")
