"""Guards for the parts of hinet-tf that run on TensorFlow only."""

import keras


def require_tensorflow(what):
    """Raises a one-line RuntimeError unless Keras runs on TensorFlow; `what` names the part that needs it."""
    backend = keras.config.backend()
    if backend != "tensorflow":
        raise RuntimeError(
            f"{what} runs on TensorFlow only, and the Keras backend is {backend!r}; set KERAS_BACKEND=tensorflow."
        )
