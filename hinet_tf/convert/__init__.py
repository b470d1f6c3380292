"""Conversion between official PyTorch HINet checkpoints and Keras models.

`from_pytorch(path_or_mapping)` builds a `HINetBackbone` from an official checkpoint,
`convert_checkpoint` writes it as a `.keras` file or a preset directory;
`to_pytorch_state_dict(model)` and `save_pytorch_checkpoint(model, path)` go back.

The names below load their module on first use: the package loads no Keras, whose import
registers `legacy`, so `python -m hinet_tf.convert.legacy` runs without runpy's warning.
"""

from hinet_tf.utils.lazy import lazy_getattr

_PUBLIC = {
    "CheckpointError": "hinet_tf.convert.errors",
    "convert_checkpoint": "hinet_tf.convert.converter",
    "from_pytorch": "hinet_tf.convert.converter",
    "infer_config": "hinet_tf.convert.state_dict",
    "load_backbone_file": "hinet_tf.convert.converter",
    "read_state_dict": "hinet_tf.convert.checkpoint_io",
    "save_pytorch_checkpoint": "hinet_tf.convert.converter",
    "to_pytorch_state_dict": "hinet_tf.convert.state_dict",
}

__all__ = list(_PUBLIC)

__getattr__ = lazy_getattr(__name__, _PUBLIC)
