"""Reads the SIDD validation blocks: `ValidationNoisyBlocksSrgb.mat` and `ValidationGtBlocksSrgb.mat`.

Each file holds one uint8 array of 40 images x 32 blocks x 256 x 256 x 3. Files saved as
MATLAB v7.3 (HDF5) are read with h5py, older ones with `scipy.io.loadmat`.
"""

from pathlib import Path

import numpy as np

NOISY_FILE, GT_FILE = "ValidationNoisyBlocksSrgb.mat", "ValidationGtBlocksSrgb.mat"


def read_blocks(path):
    """Returns the blocks of one `.mat` file as a uint8 array of shape (N, H, W, 3)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"SIDD block file {path} does not exist.")
    try:
        blocks = _read_hdf5(path) if _is_hdf5(path) else _read_mat(path)
    except Exception as error:  # scipy and h5py raise many types for a corrupt file
        raise ValueError(f"Cannot read SIDD blocks from {path}: {error}") from error
    if blocks.ndim < 3 or blocks.shape[-1] != 3:
        raise ValueError(f"SIDD block file {path} holds an array of shape {blocks.shape}, not (..., H, W, 3) images.")
    return np.ascontiguousarray(blocks.reshape((-1,) + blocks.shape[-3:]))


def read_validation_blocks(folder=None, noisy_path=None, gt_path=None):
    """Returns `(noisy, gt)` uint8 arrays (N, 256, 256, 3) from the two validation files.

    Either `folder` holds both files under their official names, or both paths are given.
    """
    if folder is not None:
        noisy_path, gt_path = Path(folder) / NOISY_FILE, Path(folder) / GT_FILE
    if noisy_path is None or gt_path is None:
        raise ValueError("Give the folder of the SIDD validation .mat files, or both file paths.")
    noisy, gt = read_blocks(noisy_path), read_blocks(gt_path)
    if noisy.shape != gt.shape:
        raise ValueError(f"SIDD blocks differ in shape: {noisy_path} has {noisy.shape}, {gt_path} has {gt.shape}.")
    return noisy, gt


def _is_hdf5(path):
    with open(path, "rb") as file:
        header = file.read(128)
    return b"MATLAB 7.3" in header or header[:8] == b"\x89HDF\r\n\x1a\n"


def _read_mat(path):
    from scipy.io import loadmat

    arrays = {key: value for key, value in loadmat(path).items() if not key.startswith("__")}
    return _single_array(arrays, path)


def _read_hdf5(path):
    import h5py

    with h5py.File(path, "r") as file:
        # MATLAB writes column-major arrays: h5py sees the axes reversed.
        arrays = {key: np.asarray(file[key]).transpose() for key in file if isinstance(file[key], h5py.Dataset)}
    return _single_array(arrays, path)


def _single_array(arrays, path):
    if len(arrays) != 1:
        raise ValueError(f"expected one array in {path}, found {sorted(arrays) or 'none'}")
    (blocks,) = arrays.values()
    return np.asarray(blocks)
