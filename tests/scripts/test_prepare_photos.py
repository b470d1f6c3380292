"""`scripts/prepare_photos.py`: CBSD432 joins the training photos only when its pixels check out."""

import importlib.util
import pathlib
import shutil
import tarfile

import numpy as np
import pytest
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATASETS = ROOT.parent / "shared" / "datasets"
NAMES = ("100007", "100039", "100075")

pytestmark = pytest.mark.skipif(
    not (DATASETS / "CBSD432").is_dir() or not (DATASETS / "CBSD68").is_dir(),
    reason="needs ../shared/datasets/CBSD432 and CBSD68",
)


@pytest.fixture(scope="module")
def prepare_photos():
    spec = importlib.util.spec_from_file_location("prepare_photos", ROOT / "scripts" / "prepare_photos.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def folder(tmp_path):
    """Three CBSD432 images and one CBSD68 image, named by their ids."""
    folder = tmp_path / "cbsd432"
    folder.mkdir()
    for name in NAMES:
        shutil.copy(DATASETS / "CBSD432" / f"{name}.jpg", folder)
    shutil.copy(DATASETS / "CBSD68" / "3096.png", folder)
    return folder


def decoded(path):
    return np.asarray(Image.open(path).convert("RGB"))


def test_the_manifest_lists_cbsd432_and_no_cbsd68_image(prepare_photos):
    digests = prepare_photos.read_manifest()
    assert len(digests) == 432 and len(prepare_photos.CBSD68_IDS) == 68
    assert not set(digests) & prepare_photos.CBSD68_IDS
    assert set(digests) == {path.stem for path in (DATASETS / "CBSD432").glob("*.jpg")}


def test_checked_images_are_written_unchanged_and_cbsd68_is_left_out(prepare_photos, folder, tmp_path):
    digests = {name: prepare_photos.read_manifest()[name] for name in NAMES}
    files = prepare_photos.check_cbsd432(prepare_photos.image_files(folder), digests, folder)
    prepare_photos.write_cbsd432(files, tmp_path / "train")
    assert sorted(path.name for path in (tmp_path / "train").iterdir()) == [f"bsds_{name}.png" for name in NAMES]
    for name in NAMES:
        np.testing.assert_array_equal(decoded(tmp_path / "train" / f"bsds_{name}.png"), decoded(folder / f"{name}.jpg"))


def test_an_altered_or_missing_image_is_refused_by_name(prepare_photos, folder):
    digests = {name: prepare_photos.read_manifest()[name] for name in NAMES}
    pixels = decoded(folder / "100039.jpg").copy()
    pixels[0, 0, 0] ^= 1
    (folder / "100039.jpg").unlink()
    Image.fromarray(pixels).save(folder / "100039.png")
    with pytest.raises(SystemExit, match=r"100039\.png: its pixels differ"):
        prepare_photos.check_cbsd432(prepare_photos.image_files(folder), digests, folder)
    (folder / "100039.png").unlink()
    with pytest.raises(SystemExit, match="1 CBSD432 images are missing: 100039"):
        prepare_photos.check_cbsd432(prepare_photos.image_files(folder), digests, folder)


def test_the_bsds500_archive_gives_its_three_splits(prepare_photos, folder, tmp_path):
    archive = tmp_path / "BSR_bsds500.tgz"
    splits = {"100007": "train", "100039": "test", "100075": "val", "3096": "val"}
    with tarfile.open(archive, "w:gz") as tar:
        for name, split in splits.items():
            source = next(folder.glob(f"{name}.*"))
            tar.add(source, f"BSR/BSDS500/data/images/{split}/{name}.jpg")
        tar.add(folder / "100007.jpg", "BSR/BSDS500/data/groundTruth/train/100007.jpg")
    files = prepare_photos.bsds500_files(archive)
    assert sorted(files) == sorted(splits)
    digests = {name: prepare_photos.read_manifest()[name] for name in NAMES}
    assert sorted(prepare_photos.check_cbsd432(files, digests, archive)) == sorted(NAMES)
