"""The official HINet's side of `hinet benchmark`: PyTorch forward and training step, and its ONNX export on onnxruntime."""

import os
import tempfile

import numpy as np

from hinet_tf.inference.tiling import restore_tiled


def function(task, path, config, threads, image, tiling):
    """A function of no arguments running one `task` ("latency", "frame", "train") on `path` ("torch", "torch_onnx").

    The network is `config`'s architecture with seeded weights; inference runs over
    `image` ((H, W, 3) float32) in tiles of `tiling = (tile, overlap)` on the restorer's grid.
    """
    import torch

    from hinet_tf.convert.official_torch import HINet

    torch.manual_seed(0)
    torch.set_num_threads(threads)
    model_config = config.model
    hin_levels = range(model_config.depth) if model_config.hin_levels is None else model_config.hin_levels
    network = HINet(model_config.width, model_config.depth, tuple(hin_levels))
    if task == "train":
        if path != "torch":
            raise ValueError(f"The train task has no path {path!r}.")
        return _train_step(network, config)
    network.eval()
    tile = min(tiling[0], *image.shape[:2])
    forward = _torch_forward(network) if path == "torch" else _onnx_forward(network, tile, threads)
    return lambda: restore_tiled(forward, image, tiling[0], tiling[1])


def _torch_forward(network):
    import torch

    def run(tile):
        with torch.no_grad():
            _, restored = network(torch.from_numpy(np.ascontiguousarray(tile.transpose(2, 0, 1)[None])))
        return restored[0].numpy().transpose(1, 2, 0)

    return run


def _onnx_forward(network, tile, threads):
    """Exports `network` at a fixed 1 x 3 x tile x tile (NCHW) and returns a function running it on onnxruntime."""
    import onnxruntime
    import torch

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "official.onnx")
        example = torch.zeros(1, 3, tile, tile)
        torch.onnx.export(network, (example,), path, input_names=["image"], opset_version=17, dynamo=False)
        settings = onnxruntime.SessionOptions()
        settings.intra_op_num_threads = threads
        session = onnxruntime.InferenceSession(path, settings, providers=["CPUExecutionProvider"])
    output = session.get_outputs()[-1].name  # the second stage's image

    def run(tile_image):
        (restored,) = session.run([output], {"image": np.ascontiguousarray(tile_image.transpose(2, 0, 1)[None])})
        return restored[0].transpose(1, 2, 0)

    return run


def _train_step(network, config):
    """The official training step on a fixed seeded batch; the returned function runs one step and returns its loss."""
    import torch

    from hinet_tf.convert.official_torch import training_step

    network.train()
    step = training_step(network, config)
    generator = torch.Generator().manual_seed(0)
    shape = (config.train.batch_size, 3, config.train.crop_size, config.train.crop_size)
    target = torch.rand(shape, generator=generator)
    degraded = target + 0.1 * torch.randn(shape, generator=generator)
    return lambda: step(degraded, target).item()
