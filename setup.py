"""Packaging for hinet-tf."""

import pathlib

from setuptools import find_packages
from setuptools import setup

ROOT = pathlib.Path(__file__).parent
VERSION = {}
exec((ROOT / "hinet_tf" / "version.py").read_text(), VERSION)


def requirements(name):
    lines = (ROOT / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith(("#", "-r"))]


# The shipped presets (`hinet_camera_denoise`, the default model of `hinet restore`, and the
# Gaussian `hinet_photo_denoise`), each a directory of config.json, model.weights.h5 and
# metadata.json, found by `from_preset(name)` in share/hinet-tf/saved_models/NAME when installed.
SHIPPED_PRESETS = ("hinet_camera_denoise", "hinet_photo_denoise")


def preset_files(name):
    return sorted(str(path.relative_to(ROOT)) for path in (ROOT / "saved_models" / name).iterdir() if path.is_file())


DATA_FILES = [
    (f"share/hinet-tf/saved_models/{name}", preset_files(name))
    for name in SHIPPED_PRESETS
    if (ROOT / "saved_models" / name / "config.json").is_file()
]


setup(
    name="hinet-tf",
    version=VERSION["__version__"],
    description="HINet (Half Instance Normalization Network) image restoration for Keras 3 / TensorFlow.",
    long_description=(ROOT / "README.md").read_text(),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.11",
    packages=find_packages(include=["hinet_tf", "hinet_tf.*"]),
    install_requires=requirements("requirements.txt"),
    extras_require={
        "dev": requirements("requirements-dev.txt"),
        "jax": ["jax[cpu]>=0.10,<0.11"],
        "torch": ["torch>=2.2"],
        "tiff": ["tifffile>=2023.1", "imagecodecs>=2025.3"],  # LZW, deflate and JPEG compressed TIFFs
        "litert": ["ai-edge-litert>=1.2"],
        "onnx": ["onnx>=1.23,<1.24", "onnxruntime>=1.32,<1.33", "tf2onnx>=1.17,<1.18"],
        "benchmark": ["scikit-image>=0.22", "bm3d>=4.0,<5"],  # scripts/benchmark_quality.py
    },
    data_files=DATA_FILES,
    entry_points={"console_scripts": ["hinet=hinet_tf.cli.main:main"]},
    classifiers=[
        "Programming Language :: Python :: 3.11",
        "Topic :: Scientific/Engineering :: Image Processing",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
