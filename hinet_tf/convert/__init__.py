"""Conversion between official PyTorch HINet checkpoints and Keras models.

`from_pytorch(path_or_mapping)` builds a `HINetBackbone` from an official checkpoint,
`convert_checkpoint` writes it as a `.keras` file or a preset directory;
`to_pytorch_state_dict(model)` and `save_pytorch_checkpoint(model, path)` go back.
"""

from hinet_tf.convert.checkpoint_io import read_state_dict
from hinet_tf.convert.converter import convert_checkpoint
from hinet_tf.convert.converter import from_pytorch
from hinet_tf.convert.converter import load_backbone_file
from hinet_tf.convert.converter import save_pytorch_checkpoint
from hinet_tf.convert.errors import CheckpointError
from hinet_tf.convert.state_dict import infer_config
from hinet_tf.convert.state_dict import to_pytorch_state_dict

__all__ = [
    "CheckpointError",
    "convert_checkpoint",
    "from_pytorch",
    "infer_config",
    "load_backbone_file",
    "read_state_dict",
    "save_pytorch_checkpoint",
    "to_pytorch_state_dict",
]
