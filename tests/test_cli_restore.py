"""`hinet restore` end to end: folders, formats, alpha, 16-bit, bad files, no overwriting."""

import sys
from pathlib import Path

import keras
import numpy as np
import PIL.Image
import pytest
import tensorflow as tf

import hinet_tf
from hinet_tf.cli.main import main
from hinet_tf.inference import default_model
from hinet_tf.inference import load_model
from hinet_tf.inference import read_image


def write_png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(array).numpy())


def pixels(seed, shape, dtype=np.uint8):
    return np.random.default_rng(seed).integers(0, np.iinfo(dtype).max + 1, shape, dtype=dtype)


def test_restores_a_folder_keeping_alpha_bit_depth_and_size(tmp_path, identity_model_path, capsys):
    rgba = pixels(0, (37, 50, 4))
    gray16 = pixels(1, (97, 131, 1), np.uint16)
    rgb16 = pixels(2, (40, 24, 3), np.uint16)
    write_png(tmp_path / "in" / "rgba.png", rgba)
    write_png(tmp_path / "in" / "sub" / "gray16.png", gray16)
    write_png(tmp_path / "in" / "rgb16.png", rgb16)
    PIL.Image.fromarray(pixels(3, (33, 47, 3))).save(tmp_path / "in" / "photo.jpg")
    (tmp_path / "in" / "notes.txt").write_text("not an image, skipped in folders")

    code = main(
        ["restore", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--model", str(identity_model_path)]
        + ["--tile", "32", "--overlap", "8", "--tta"]
    )

    assert code == 0
    assert "restored 4 image(s)" in capsys.readouterr().out
    out = read_image(tmp_path / "out" / "rgba.png")
    assert out.bit_depth == 8 and out.pixels.shape == (37, 50, 3)
    np.testing.assert_array_equal(np.round(out.alpha[..., 0] * 255), rgba[..., 3])
    np.testing.assert_allclose(out.pixels * 255, rgba[..., :3], atol=0.51)
    out = read_image(tmp_path / "out" / "sub" / "gray16.png")
    assert out.bit_depth == 16 and out.pixels.shape == (97, 131, 1)
    np.testing.assert_allclose(out.pixels * 65535, gray16, atol=1.01)
    out = read_image(tmp_path / "out" / "rgb16.png")
    assert out.bit_depth == 16
    np.testing.assert_allclose(out.pixels * 65535, rgb16, atol=1.01)
    assert read_image(tmp_path / "out" / "photo.jpg").pixels.shape == (33, 47, 3)
    assert not (tmp_path / "out" / "notes.txt").exists()


def test_bad_files_are_reported_and_the_others_processed(tmp_path, identity_model_path, capsys):
    inputs = tmp_path / "in"
    write_png(inputs / "good.png", pixels(0, (20, 20, 3)))
    write_png(inputs / "taken.png", pixels(1, (20, 20, 3)))
    (inputs / "empty.png").write_bytes(b"")
    (inputs / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    (inputs / "notes.txt").write_text("hello")
    out = tmp_path / "out"
    out.mkdir()
    (out / "taken.png").write_bytes(b"the user's file")
    names = ["good.png", "taken.png", "empty.png", "corrupt.jpg", "notes.txt"]

    model = ["--model", str(identity_model_path)]
    code = main(["restore", *(str(inputs / name) for name in names), "-o", str(out), *model])

    errors = capsys.readouterr().err
    assert code == 2
    for name in ("taken.png", "empty.png", "corrupt.jpg", "notes.txt"):
        assert name in errors
    assert "--overwrite" in errors and "empty" in errors and "unsupported format" in errors
    assert "4 of 5 images failed" in errors
    assert (out / "taken.png").read_bytes() == b"the user's file"
    assert sorted(path.name for path in out.iterdir()) == ["good.png", "taken.png"]  # no partial or temporary file

    code = main(["restore", str(inputs / "taken.png"), "-o", str(out / "taken.png"), "--overwrite", *model])
    assert code == 0
    assert read_image(out / "taken.png").pixels.shape == (20, 20, 3)


def test_missing_default_model_says_to_pass_model(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(default_model, "default_model_candidates", lambda: (tmp_path / "absent.keras",))
    write_png(tmp_path / "a.png", pixels(0, (16, 16, 3)))
    assert main(["restore", str(tmp_path / "a.png"), "-o", str(tmp_path / "out")]) == 2
    assert "--model" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_default_model_path_takes_the_first_existing_candidate(tmp_path, monkeypatch):
    candidate = tmp_path / default_model.DEFAULT_MODEL_FILE
    candidate.write_bytes(b"a model")
    monkeypatch.setattr(default_model, "default_model_candidates", lambda: (tmp_path / "absent.keras", candidate))
    assert default_model.default_model_path() == candidate


def test_default_model_candidates_are_the_checkout_and_the_installed_share():
    name = default_model.DEFAULT_MODEL_FILE
    checkout, installed = default_model.default_model_candidates()
    assert checkout == Path(hinet_tf.__file__).resolve().parent.parent / "saved_models" / name
    assert installed == Path(sys.prefix) / "share" / "hinet-tf" / "saved_models" / name


def test_a_preset_warns_that_it_is_untrained():
    with pytest.warns(UserWarning, match="untrained"):
        model = load_model("hinet_simple")
    assert isinstance(model, keras.Model)


def test_unknown_model_is_a_clear_error(tmp_path, capsys):
    write_png(tmp_path / "a.png", pixels(0, (16, 16, 3)))
    assert main(["restore", str(tmp_path / "a.png"), "-o", str(tmp_path / "b.png"), "--model", "nope.keras"]) == 2
    assert "nope.keras does not exist" in capsys.readouterr().err
