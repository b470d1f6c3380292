"""Graphs are traced once: per input shape in training, once for any image size in restoring."""

import numpy as np

from hinet_tf.models import HINetBackbone
from hinet_tf.models import HINetImageRestorer
from hinet_tf.inference import Restorer


def _count_traces(model):
    """Wraps `train_step`, whose Python body runs only while TensorFlow traces it."""
    traces = []
    train_step = model.train_step

    def counting_train_step(data):
        traces.append(data[0].shape)
        return train_step(data)

    model.train_step = counting_train_step
    return traces


def test_training_traces_once_per_input_shape():
    model = HINetImageRestorer(HINetBackbone(width=4, depth=2))  # a short graph: each trace takes seconds
    model.compile(optimizer="adam")
    traces = _count_traces(model)
    small = np.random.rand(6, 32, 32, 3).astype("float32")
    model.fit(small, small, batch_size=2, epochs=1, verbose=0)
    # tf.function's first call traces twice (once allowing variable creation), as for any Keras model.
    first_call = len(traces)
    assert first_call <= 2
    model.fit(small, small, batch_size=2, epochs=3, verbose=0)
    assert len(traces) == first_call  # later steps and epochs of the same shape reuse the graph
    large = np.random.rand(4, 48, 64, 3).astype("float32")
    model.fit(large, large, batch_size=2, epochs=2, verbose=0)
    new_shape = len(traces) - first_call
    assert 1 <= new_shape <= 2
    model.fit(large, large, batch_size=2, epochs=2, verbose=0)
    assert len(traces) == first_call + new_shape


def test_restoring_images_of_any_size_traces_once():
    restorer = Restorer(HINetBackbone(width=4), tile=64, overlap=16)
    for height, width in [(40, 40), (40, 40), (97, 131), (64, 200)]:
        restorer(np.random.rand(height, width, 3).astype("float32"))
    assert restorer.restore_tile.experimental_get_tracing_count() == 1
