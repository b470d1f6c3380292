"""`hinet evaluate`: per-image and mean PSNR / SSIM, CSV and JSON reports, Rain13k's five sets."""

import csv
import json

import numpy as np
import PIL.Image
import pytest

from hinet_tf.cli.main import main
from hinet_tf.data.layouts import RAIN13K_TEST_SETS
from hinet_tf.metrics import psnr
from hinet_tf.metrics import ssim
from helpers.images import write_noisy_pair


def test_pairs_layout_reports_per_image_and_mean(tmp_path, identity_model_path, capsys):
    pairs = [write_noisy_pair(tmp_path / "data", "a.png", 0, 5), write_noisy_pair(tmp_path / "data", "b.png", 1, 20)]
    reports = tmp_path / "reports"
    argv = ["evaluate", "--model", str(identity_model_path), "--data", str(tmp_path / "data"), "--layout", "pairs"]
    assert main([*argv, "-o", str(reports), "--tile", "32", "--overlap", "8"]) == 0

    expected_psnr = [psnr(degraded, target) for degraded, target in pairs]
    expected_ssim = [ssim(degraded, target) for degraded, target in pairs]
    rows = list(csv.DictReader((reports / "metrics.csv").open()))
    assert [row["name"] for row in rows] == ["a.png", "b.png"]
    np.testing.assert_allclose([float(row["psnr"]) for row in rows], expected_psnr, rtol=1e-9)
    np.testing.assert_allclose([float(row["ssim"]) for row in rows], expected_ssim, rtol=1e-9)
    report = json.loads((reports / "metrics.json").read_text())
    assert report["mean"]["psnr"] == pytest.approx(np.mean(expected_psnr))
    assert report["y_channel"] is False and report["uint8"] is True
    assert f"PSNR {np.mean(expected_psnr):.2f} dB" in capsys.readouterr().out

    assert main([*argv, "-o", str(reports)]) == 2  # reports exist: not replaced without --overwrite
    assert "--overwrite" in capsys.readouterr().err
    before = (reports / "metrics.json").read_bytes()
    size = PIL.Image.open(tmp_path / "data" / "input" / "a.png").size
    assert main([*argv, "-o", str(reports), "--overwrite", "--crop-border", str(min(size) // 2)]) == 2
    error = capsys.readouterr().err
    assert f"a.png: A border of {min(size) // 2} pixels leaves nothing of a {size[0]}x{size[1]} image to score." in error
    assert (reports / "metrics.json").read_bytes() == before  # no report of NaN scores


def test_rain13k_averages_the_five_test_sets_on_the_y_channel(tmp_path, identity_model_path):
    root = tmp_path / "rain13k"
    # Test2800 gets two images: the average is over sets, not over images.
    per_set = {}
    for index, name in enumerate(RAIN13K_TEST_SETS):
        count = 2 if name == "Test2800" else 1
        images = [write_noisy_pair(root / "test" / name, f"{k}.png", 10 * index + k, 4 + 3 * index) for k in range(count)]
        per_set[name] = np.mean([psnr(degraded, target, y_channel=True) for degraded, target in images])
    reports = tmp_path / "reports"
    argv = ["evaluate", "--model", str(identity_model_path), "--data", str(root), "--layout", "rain13k"]
    assert main([*argv, "-o", str(reports), "--tile", "48"]) == 0

    report = json.loads((reports / "metrics.json").read_text())
    assert report["y_channel"] is True
    assert list(report["sets"]) == list(RAIN13K_TEST_SETS)
    assert report["sets"]["Test2800"]["count"] == 2
    for name, value in per_set.items():
        assert report["sets"][name]["psnr"] == pytest.approx(value)
    assert report["mean"]["psnr"] == pytest.approx(np.mean(list(per_set.values())))


def test_a_missing_data_set_is_a_clear_error(tmp_path, capsys):
    argv = ["evaluate", "--model", "unused.keras", "--data", str(tmp_path / "none"), "--layout", "gopro"]
    assert main([*argv, "-o", str(tmp_path / "reports")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_sidd_scores_the_validation_blocks_on_float_outputs(tmp_path, identity_model_path):
    scipy_io = pytest.importorskip("scipy.io", reason="scipy writes the .mat files")
    rng = np.random.default_rng(5)
    clean = rng.integers(30, 220, (2, 3, 32, 32, 3), dtype=np.uint8)  # 2 images x 3 blocks
    noisy = np.clip(clean + rng.normal(0, 10, clean.shape), 0, 255).astype(np.uint8)
    scipy_io.savemat(tmp_path / "ValidationNoisyBlocksSrgb.mat", {"ValidationNoisyBlocksSrgb": noisy})
    scipy_io.savemat(tmp_path / "ValidationGtBlocksSrgb.mat", {"ValidationGtBlocksSrgb": clean})
    reports = tmp_path / "reports"
    argv = ["evaluate", "--model", str(identity_model_path), "--data", str(tmp_path), "--layout", "sidd"]
    assert main([*argv, "-o", str(reports)]) == 0

    report = json.loads((reports / "metrics.json").read_text())
    assert report["uint8"] is False and report["sets"]["sidd_validation"]["count"] == 6
    blocks = zip(noisy.reshape(6, 32, 32, 3) / 255, clean.reshape(6, 32, 32, 3) / 255)
    expected = [psnr(degraded, target, quantize=False) for degraded, target in blocks]
    assert report["mean"]["psnr"] == pytest.approx(np.mean(expected), abs=1e-4)


def test_test_images_are_checked_before_the_model_is_loaded(tmp_path, capsys):
    for folder in ("input", "target"):
        (tmp_path / "data" / folder).mkdir(parents=True)
        PIL.Image.new("RGB", (16, 16)).save(tmp_path / "data" / folder / "a.png")
    (tmp_path / "data" / "input" / "b.png").write_text("not an image")
    (tmp_path / "data" / "target" / "b.png").write_bytes((tmp_path / "data" / "target" / "a.png").read_bytes())
    argv = ["evaluate", "--model", str(tmp_path / "missing.keras"), "--data", str(tmp_path / "data")]
    assert main([*argv, "--layout", "pairs", "-o", str(tmp_path / "reports")]) == 2
    damaged = tmp_path / "data" / "input" / "b.png"
    assert capsys.readouterr().err.splitlines() == [f"hinet: error: {damaged}: not a PNG file"]
    assert not (tmp_path / "reports").exists()
