"""hinet_tf.evaluation as a library: a folder in, rows and a summary out, without the CLI."""

import json

import numpy as np
import PIL.Image
import pytest

from hinet_tf import evaluation
from hinet_tf.data import layouts
from hinet_tf.data.layouts import RAIN13K_TEST_SETS
from hinet_tf.inference import ImageError
from hinet_tf.metrics import psnr
from hinet_tf.metrics import ssim
from helpers.images import write_noisy_pair


def identity(image):
    return image


def test_a_folder_of_pairs_gives_per_image_rows_and_their_mean(tmp_path):
    pairs = [write_noisy_pair(tmp_path, "a.png", 0, 5), write_noisy_pair(tmp_path, "b.png", 1, 20)]
    seen = []
    result = evaluation.evaluate_folder(identity, tmp_path, "pairs", on_image=lambda *args: seen.append(args))

    expected = [{"psnr": psnr(d, t), "ssim": ssim(d, t)} for d, t in pairs]
    assert [row["name"] for row in result.rows] == ["a.png", "b.png"]
    for row, values in zip(result.rows, expected):
        assert row["set"] == "pairs"
        assert row["psnr"] == pytest.approx(values["psnr"], rel=1e-12)
        assert row["ssim"] == pytest.approx(values["ssim"], rel=1e-12)
    assert result.summary["sets"]["pairs"]["count"] == 2
    assert result.summary["mean"]["psnr"] == pytest.approx(np.mean([values["psnr"] for values in expected]))
    assert [(index, total) for _, index, total in seen] == [(1, 2), (2, 2)]
    assert result.to_csv().splitlines()[0] == "set,name,psnr,ssim" and len(result.to_csv().splitlines()) == 3


def test_rain13k_is_scored_on_y_and_averaged_over_sets_not_images(tmp_path):
    set_means = []
    for index, name in enumerate(RAIN13K_TEST_SETS):
        count = 2 if name == "Test2800" else 1
        images = [write_noisy_pair(tmp_path / "test" / name, f"{k}.png", 10 * index + k, 4 + 3 * index) for k in range(count)]
        set_means.append(np.mean([psnr(d, t, y_channel=True) for d, t in images]))
    result = evaluation.evaluate_folder(identity, tmp_path, "rain13k")
    assert list(result.summary["sets"]) == list(RAIN13K_TEST_SETS)
    assert result.summary["mean"]["psnr"] == pytest.approx(np.mean(set_means))
    assert layouts.scoring("rain13k") == {"y_channel": True, "quantize": True}
    assert layouts.scoring("sidd") == {"y_channel": False, "quantize": False}
    assert layouts.scoring("gopro", y_channel=True) == {"y_channel": True, "quantize": True}


def test_headers_are_checked_when_listing_and_bad_outputs_are_named(tmp_path):
    write_noisy_pair(tmp_path, "a.png", 0, 5)
    test_sets = evaluation.list_test_sets(tmp_path, "pairs")
    with pytest.raises(ValueError, match=r"a.png: the restored image \(10, 44, 3\) and the target \(36, 44, 3\)"):
        evaluation.evaluate(lambda image: image[:10], test_sets)
    write_noisy_pair(tmp_path, "b.png", 1, 5)
    PIL.Image.open(tmp_path / "target" / "b.png").crop((0, 0, 40, 36)).save(tmp_path / "target" / "b.png")
    with pytest.raises(ValueError, match=r"input/b.png is 44x36 but its target .*target/b.png is 40x36"):
        evaluation.list_test_sets(tmp_path, "pairs")
    turned = tmp_path / "turned"  # the input stored a quarter turn away, read upright by its EXIF orientation
    degraded, target = write_noisy_pair(turned, "c.png", 2, 5)
    exif = PIL.Image.Exif()
    exif[274] = 6
    PIL.Image.fromarray(np.rot90(np.round(degraded * 255).astype(np.uint8))).save(turned / "input" / "c.jpg", exif=exif)
    PIL.Image.fromarray(np.round(target * 255).astype(np.uint8)).save(turned / "target" / "c.jpg")
    for folder in ("input", "target"):
        (turned / folder / "c.png").unlink()
    assert [sample.name for sample in evaluation.list_test_sets(turned, "pairs")["pairs"]] == ["c.jpg"]
    (tmp_path / "input" / "a.png").write_text("not an image")
    with pytest.raises(ImageError, match="a.png: not a PNG file"):
        evaluation.list_test_sets(tmp_path, "pairs")


def test_evaluate_model_writes_both_reports_and_keeps_existing_ones(tmp_path, identity_model_path):
    pairs = [write_noisy_pair(tmp_path / "data", "a.png", 0, 5)]
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="overlap"):
        evaluation.evaluate_model(identity_model_path, tmp_path / "data", "pairs", out, tile=32, overlap=32)
    result, (csv_path, json_path) = evaluation.evaluate_model(identity_model_path, tmp_path / "data", "pairs", out, tile=32)
    assert result.rows[0]["psnr"] == pytest.approx(psnr(*pairs[0]), abs=1e-6)  # the identity model
    report = json.loads(json_path.read_text())
    assert report["layout"] == "pairs" and report["uint8"] and report["images"][0]["name"] == "a.png"
    assert csv_path.read_text() == result.to_csv()
    with pytest.raises(FileExistsError, match="--overwrite"):
        evaluation.evaluate_model(identity_model_path, tmp_path / "data", "pairs", out, tile=32)
