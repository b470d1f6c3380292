"""Runs the reference-fixture forward and three `fit` steps on the Keras backend of `KERAS_BACKEND`.

Prints one JSON line: the largest difference of each stage from the official outputs and
the loss of each step. tests/models/test_backends.py runs it once per backend.
"""

import json
import pathlib
import sys

import numpy as np

import keras

from hinet_tf.convert import from_pytorch
from hinet_tf.models import HINetImageRestorer
from hinet_tf.optimizers import TorchAdam

DATA = pathlib.Path(__file__).resolve().parents[1] / "data"


def main(fixture):
    arrays = np.load(DATA / fixture)
    backbone = from_pytorch(DATA / fixture)
    images = arrays["input_nchw"].transpose(0, 2, 3, 1)
    stages = [keras.ops.convert_to_numpy(output) for output in backbone(images)]
    differences = [
        float(np.abs(stage - arrays[key].transpose(0, 2, 3, 1)).max())
        for stage, key in zip(stages, ("stage1_nchw", "stage2_nchw"))
    ]
    restorer = HINetImageRestorer(backbone)
    restorer.compile(optimizer=TorchAdam(1e-3, beta_2=0.99), loss="psnr", stage_weights=(0.5, 0.5))
    degraded = np.concatenate([images, images[:, ::-1]])
    target = np.clip(degraded * 0.8 + 0.1, 0.0, 1.0).astype("float32")
    history = restorer.fit(degraded, target, batch_size=2, epochs=3, shuffle=False, verbose=0).history
    report = {"backend": keras.config.backend(), "stage_differences": differences, "losses": history["loss"]}
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1])
