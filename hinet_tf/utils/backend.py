"""Guards for the parts of hinet-tf that run on TensorFlow only."""


class BackendError(RuntimeError):
    """A part that runs on TensorFlow only was asked for on another Keras backend."""


def require_tensorflow(what):
    """Raises a one-line `BackendError` unless Keras runs on TensorFlow; `what` names the part that needs it."""
    import keras  # here, so that the command line can name this error before Keras loads

    backend = keras.config.backend()
    if backend != "tensorflow":
        raise BackendError(
            f"{what} runs on TensorFlow only, and the Keras backend is {backend!r}; set KERAS_BACKEND=tensorflow."
        )
