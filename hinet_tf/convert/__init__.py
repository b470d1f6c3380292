"""Conversion between official PyTorch HINet checkpoints and Keras models.

`from_pytorch(path_or_mapping)` builds a `HINet` from an official checkpoint;
`to_pytorch_state_dict(model)` and `save_pytorch_checkpoint(model, path)` go back.
"""

from hinet_tf.convert.checkpoint_io import read_state_dict
from hinet_tf.convert.converter import from_pytorch
from hinet_tf.convert.converter import save_pytorch_checkpoint
from hinet_tf.convert.errors import CheckpointError
from hinet_tf.convert.state_dict import infer_config
from hinet_tf.convert.state_dict import to_pytorch_state_dict

__all__ = [
    "CheckpointError",
    "from_pytorch",
    "infer_config",
    "read_state_dict",
    "save_pytorch_checkpoint",
    "to_pytorch_state_dict",
]
