"""The models of `hinet restore`: the shipped preset by default, or what `load_restorer` loads."""

from hinet_tf.models.loading import load_restorer
from hinet_tf.models.preset_utils import shipped_preset_dir

DEFAULT_PRESET = "hinet_camera_denoise"  # camera photos; hinet_photo_denoise for Gaussian noise


def default_model_path():
    """The directory of the default preset, the camera-photo denoiser; `FileNotFoundError` if it is absent."""
    try:
        return shipped_preset_dir(DEFAULT_PRESET)
    except FileNotFoundError as error:
        raise FileNotFoundError(f"{error} Pass --model with a .keras file, a preset directory or a preset name.") from None


def load_model(spec=None):
    """Loads an image restorer from a preset name, a preset directory or a `.keras` file; None is the default.

    Every loaded model is an image restorer (`hinet_tf.models.image_restorer`): images of
    any size in, the final restored image out. See `hinet_tf.models.loading.load_restorer`
    for the errors.
    """
    return load_restorer(default_model_path() if spec is None else spec)

