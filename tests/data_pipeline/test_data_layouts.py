"""Dataset layouts: pairs are found in each real folder layout, bad folders name the files at fault."""

import numpy as np
import pytest
import scipy.io

from hinet_tf.data import layouts
from hinet_tf.data import sidd_blocks


def _touch(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"x")


def test_generic_pairs_match_by_name_and_ignore_other_files(tmp_path):
    _touch(tmp_path / "input", "b.png", "a.JPG", "notes.txt", ".hidden.png")
    _touch(tmp_path / "target", "a.JPG", "b.png")
    pairs = layouts.list_pairs(tmp_path, "pairs")
    assert [(d.name, t.name) for d, t in pairs] == [("a.JPG", "a.JPG"), ("b.png", "b.png")]
    assert all(d.parent.name == "input" and t.parent.name == "target" for d, t in pairs)


def test_generic_pairs_fall_back_to_split_folder(tmp_path):
    _touch(tmp_path / "test" / "input", "x.png")
    _touch(tmp_path / "test" / "target", "x.png")
    assert layouts.list_pairs(tmp_path, "pairs", split="test")[0][0] == tmp_path / "test" / "input" / "x.png"


def test_missing_pairs_name_both_forms_the_layout_reads(tmp_path):
    with pytest.raises(ValueError, match=r"^Dataset folder .*input does not exist: pairs are DIR/train/input \+ "
                                         r"DIR/train/target or DIR/input \+ DIR/target\.$"):
        layouts.list_pairs(tmp_path, "pairs")
    with pytest.raises(ValueError, match=r"test/input does not exist: pairs are DIR/test/input \+ DIR/test/target "
                                         r"\(DIR/input \+ DIR/target is the train split, and hinet evaluate's test set\)"):
        layouts.list_pairs(tmp_path, "pairs", split="test")


def test_gopro_train_and_test(tmp_path):
    for split, names in (("train", ("GOPR0372_07_00_000047.png", "GOPR0372_07_00_000048.png")), ("test", ("t.png",))):
        _touch(tmp_path / split / "input", *names)
        _touch(tmp_path / split / "target", *names)
    assert len(layouts.list_pairs(tmp_path, "gopro", "train")) == 2
    assert len(layouts.list_pairs(tmp_path, "gopro", "test")) == 1
    with pytest.raises(ValueError, match="splits train, test"):
        layouts.list_pairs(tmp_path, "gopro", "val")


def test_sidd_medium_pairs_noisy_with_gt(tmp_path):
    scene = tmp_path / "SIDD_Medium_Srgb" / "Data" / "0001_001_S6_00100_00060_3200_L"
    _touch(scene, "0001_NOISY_SRGB_010.PNG", "0001_GT_SRGB_010.PNG", "0001_NOISY_SRGB_011.PNG", "0001_GT_SRGB_011.PNG")
    pairs = layouts.list_pairs(tmp_path / "SIDD_Medium_Srgb", "sidd")
    assert [(d.name, t.name) for d, t in pairs] == [
        ("0001_NOISY_SRGB_010.PNG", "0001_GT_SRGB_010.PNG"),
        ("0001_NOISY_SRGB_011.PNG", "0001_GT_SRGB_011.PNG"),
    ]
    assert layouts.list_pairs(tmp_path / "SIDD_Medium_Srgb" / "Data", "sidd") == pairs


def test_sidd_missing_gt_names_the_file(tmp_path):
    _touch(tmp_path / "Data" / "0002_scene", "0002_NOISY_SRGB_010.PNG")
    with pytest.raises(ValueError, match="0002_NOISY_SRGB_010.PNG"):
        layouts.list_pairs(tmp_path, "sidd")


def test_reds_train_and_val300(tmp_path):
    for split, clips in (("train", ("000", "001")), ("val", ("000",))):
        for clip in clips:
            frames = [f"{index:08d}" for index in range(20)]
            _touch(tmp_path / split / f"{split}_blur_jpeg" / clip, *(f"{frame}.jpg" for frame in frames))
            _touch(tmp_path / split / f"{split}_sharp" / clip, *(f"{frame}.png" for frame in frames))
    train = layouts.list_pairs(tmp_path, "reds", "train")
    assert len(train) == 40 and train[0][0].suffix == ".jpg" and train[0][1].suffix == ".png"
    val = layouts.list_pairs(tmp_path, "reds", "val")
    assert [pair[0].name for pair in val] == ["00000009.jpg", "00000019.jpg"]
    assert len(layouts.list_pairs(tmp_path, "reds", "val", subset="all")) == 20


def test_rain13k_train_and_named_test_sets(tmp_path):
    _touch(tmp_path / "train" / "input", "1.jpg")
    _touch(tmp_path / "train" / "target", "1.jpg")
    for index, name in enumerate(layouts.RAIN13K_TEST_SETS):
        _touch(tmp_path / "test" / name / "input", *(f"{n}.png" for n in range(index + 1)))
        _touch(tmp_path / "test" / name / "target", *(f"{n}.png" for n in range(index + 1)))
    assert len(layouts.list_pairs(tmp_path, "rain13k")) == 1
    assert len(layouts.list_pairs(tmp_path, "rain13k", "test", subset="Rain100H")) == 2
    assert len(layouts.list_pairs(tmp_path, "rain13k", "test")) == 1 + 2 + 3 + 4 + 5
    with pytest.raises(ValueError, match="Rain200"):
        layouts.list_pairs(tmp_path, "rain13k", "test", subset="Rain200")


def test_unmatched_names_are_listed(tmp_path):
    _touch(tmp_path / "input", "a.png", "only_input.png")
    _touch(tmp_path / "target", "a.png", "only_target.png")
    with pytest.raises(ValueError, match="only_input.png") as error:
        layouts.list_pairs(tmp_path, "pairs")
    assert "only_target.png" in str(error.value)


def test_real_noise_crops_pair_with_their_mean_and_strays_are_named(tmp_path):
    _touch(tmp_path, "Cam_1_real.JPG", "Cam_1_mean.JPG", "Other_2_mean.png", "Other_2_real.png", "notes.txt")
    pairs = layouts.list_real_noise_pairs(tmp_path)
    assert [(name, real.name, mean.name) for name, real, mean in pairs] == [
        ("Cam_1", "Cam_1_real.JPG", "Cam_1_mean.JPG"),
        ("Other_2", "Other_2_real.png", "Other_2_mean.png"),
    ]
    _touch(tmp_path, "Cam_3_real.JPG")
    with pytest.raises(ValueError, match=r"1 file\(s\) in .* have no partner in .*Cam_3_real.JPG"):
        layouts.list_real_noise_pairs(tmp_path)
    (tmp_path / "Cam_3_real.JPG").unlink()
    _touch(tmp_path, "Cam_3_noisy.JPG")
    with pytest.raises(ValueError, match=r"Cam_3_noisy.JPG is named neither NAME_real nor NAME_mean"):
        layouts.list_real_noise_pairs(tmp_path)


def test_empty_and_missing_folders_are_named(tmp_path):
    (tmp_path / "input").mkdir()
    _touch(tmp_path / "target", "a.png")
    with pytest.raises(ValueError, match=r"input has no PNG or JPEG images"):
        layouts.list_pairs(tmp_path, "pairs")
    with pytest.raises(ValueError, match="does not exist"):
        layouts.list_pairs(tmp_path / "nowhere", "gopro")
    with pytest.raises(ValueError, match=f"^Photo folder {tmp_path / 'target' / 'a.png'} is a file, not a folder.$"):
        layouts.list_images(tmp_path / "target" / "a.png")
    with pytest.raises(ValueError, match="Unknown dataset layout"):
        layouts.list_pairs(tmp_path, "lmdb")


def test_a_broken_link_is_named_not_taken_for_a_missing_file(tmp_path):
    _touch(tmp_path / "target", "x1.png")
    (tmp_path / "input").mkdir()
    (tmp_path / "input" / "notes.txt").symlink_to(tmp_path / "nowhere")  # not an image: ignored as before
    (tmp_path / "input" / "x1.png").symlink_to(tmp_path / "nowhere")
    broken = f"^{tmp_path / 'input' / 'x1.png'} is a broken link to {tmp_path / 'nowhere'}: fix or remove it.$"
    with pytest.raises(ValueError, match=broken):  # not "target/x1.png has no partner in input"
        layouts.list_pairs(tmp_path, "pairs")
    with pytest.raises(ValueError, match=broken):  # not skipped: a photo folder
        layouts.list_images(tmp_path)


def test_sidd_validation_blocks_from_mat_files(tmp_path):
    rng = np.random.default_rng(0)
    noisy = rng.integers(0, 256, (2, 3, 16, 16, 3), dtype=np.uint8)
    gt = rng.integers(0, 256, (2, 3, 16, 16, 3), dtype=np.uint8)
    scipy.io.savemat(tmp_path / sidd_blocks.NOISY_FILE, {"ValidationNoisyBlocksSrgb": noisy})
    scipy.io.savemat(tmp_path / sidd_blocks.GT_FILE, {"ValidationGtBlocksSrgb": gt})
    read_noisy, read_gt = sidd_blocks.read_validation_blocks(tmp_path)
    assert read_noisy.shape == (6, 16, 16, 3) and read_noisy.dtype == np.uint8
    np.testing.assert_array_equal(read_noisy[4], noisy[1, 1])
    np.testing.assert_array_equal(read_gt, gt.reshape(6, 16, 16, 3))


def test_sidd_blocks_from_hdf5_mat(tmp_path):
    h5py = pytest.importorskip("h5py")
    blocks = np.random.default_rng(1).integers(0, 256, (2, 4, 8, 8, 3), dtype=np.uint8)
    with h5py.File(tmp_path / "v73.mat", "w", userblock_size=512) as file:
        file["ValidationNoisyBlocksSrgb"] = blocks.transpose()  # MATLAB's column-major order
    with open(tmp_path / "v73.mat", "r+b") as file:
        file.write(b"MATLAB 7.3 MAT-file")
    np.testing.assert_array_equal(sidd_blocks.read_blocks(tmp_path / "v73.mat"), blocks.reshape(8, 8, 8, 3))


def test_sidd_blocks_shape_mismatch_and_garbage(tmp_path):
    scipy.io.savemat(tmp_path / "a.mat", {"x": np.zeros((2, 8, 8, 3), np.uint8)})
    scipy.io.savemat(tmp_path / "b.mat", {"x": np.zeros((3, 8, 8, 3), np.uint8)})
    with pytest.raises(ValueError, match="differ in shape"):
        sidd_blocks.read_validation_blocks(noisy_path=tmp_path / "a.mat", gt_path=tmp_path / "b.mat")
    (tmp_path / "bad.mat").write_bytes(b"not a mat file at all")
    with pytest.raises(ValueError, match="bad.mat"):
        sidd_blocks.read_blocks(tmp_path / "bad.mat")
