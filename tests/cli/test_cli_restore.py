"""`hinet restore` end to end: folders, formats, alpha, 16-bit, bad files, no overwriting."""

import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import PIL.Image
import pytest
import tensorflow as tf

import hinet_tf
from hinet_tf.cli.main import main
from hinet_tf.inference import load_model
from hinet_tf.inference import read_image
from hinet_tf.models import loading
from hinet_tf.models import preset_utils

from helpers.images import png_header_only
from helpers.readme import quick_start


@pytest.fixture(autouse=True)
def _auto_without_litert(monkeypatch):
    """`auto` measures TensorFlow and onnxruntime only here: timing LiteRT converts per tile (test_backend_choice times it)."""
    from hinet_tf.inference import litert_backend

    monkeypatch.setattr(litert_backend, "is_available", lambda: False)


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



def test_tiff_bmp_and_webp_inputs_are_restored_with_their_colours_and_profile(tmp_path, identity_model_path, capsys):
    import PIL.ImageCms
    import tifffile

    profile = PIL.ImageCms.ImageCmsProfile(PIL.ImageCms.createProfile("sRGB")).tobytes()
    inks = pixels(0, (20, 24, 4))
    inputs = tmp_path / "in"
    inputs.mkdir()
    tifffile.imwrite(inputs / "print.tif", inks, photometric="separated")
    PIL.Image.fromarray(pixels(1, (20, 24, 3))).save(inputs / "scan.bmp")
    PIL.Image.fromarray(pixels(2, (20, 24, 3))).save(inputs / "web.webp", lossless=True, icc_profile=profile)
    (inputs / "notes.txt").write_text("not an image")
    model = ["--model", str(identity_model_path), "--backend", "keras"]

    assert main(["restore", str(inputs), "-o", str(tmp_path / "out"), *model]) == 0
    captured = capsys.readouterr()
    assert "restored 3 image(s)" in captured.out
    assert captured.err.splitlines() == [
        f"hinet: warning: skipped 1 file(s) of {inputs} that are not PNG, JPEG, TIFF, BMP or WebP images: notes.txt"
    ]
    restored = read_image(tmp_path / "out" / "print.tif")
    assert restored.alpha is None  # K is not an alpha
    expected = np.asarray(PIL.Image.fromarray(inks, "CMYK").convert("RGB"))
    np.testing.assert_allclose(restored.pixels * 255, expected, atol=1.01)
    np.testing.assert_allclose(read_image(tmp_path / "out" / "scan.bmp").pixels * 255, pixels(1, (20, 24, 3)), atol=0.51)
    with PIL.Image.open(tmp_path / "out" / "web.webp") as written:
        assert written.info.get("icc_profile") == profile

    assert main(["restore", str(inputs / "scan.bmp"), "-o", str(tmp_path / "single.bmp"), *model]) == 0
    assert (tmp_path / "single.bmp").is_file()  # a file, not a folder of that name
    assert main(["restore", str(inputs / "scan.bmp"), "-o", str(tmp_path / "single.gif"), *model]) == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith(f"hinet: error: {tmp_path / 'single.gif'}: cannot write '.gif'")
    assert not (tmp_path / "single.gif").exists()

def test_missing_default_model_says_to_pass_model(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(preset_utils, "shipped_preset_candidates", lambda name: (tmp_path / "absent",))
    write_png(tmp_path / "a.png", pixels(0, (16, 16, 3)))
    assert main(["restore", str(tmp_path / "a.png"), "-o", str(tmp_path / "out")]) == 2
    assert "--model" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_default_model_path_takes_the_first_existing_candidate(tmp_path, monkeypatch):
    candidate = tmp_path / loading.DEFAULT_PRESET
    candidate.mkdir()
    (candidate / "config.json").write_text("{}")
    monkeypatch.setattr(preset_utils, "shipped_preset_candidates", lambda name: (tmp_path / "absent", candidate))
    assert loading.default_model_path() == candidate


def test_shipped_presets_are_looked_for_in_the_checkout_and_the_installed_share():
    name = loading.DEFAULT_PRESET
    checkout, installed = preset_utils.shipped_preset_candidates(name)
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


def test_bombs_animations_and_gifs_are_refused_and_the_good_image_restored(tmp_path, identity_model_path, capsys):
    inputs = tmp_path / "in"
    write_png(inputs / "good.png", pixels(0, (20, 20, 3)))
    (inputs / "bomb.png").write_bytes(png_header_only(20000, 20000))
    frames = [PIL.Image.fromarray(pixels(seed, (16, 16, 3))) for seed in range(3)]
    frames[0].save(inputs / "anim.png", save_all=True, append_images=frames[1:])
    frames[0].save(inputs / "anim.gif", save_all=True, append_images=frames[1:])
    out = tmp_path / "out"

    assert main(["restore", str(inputs), "-o", str(out), "--model", str(identity_model_path)]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert f"hinet: error: {inputs / 'bomb.png'}: 20000 x 20000 pixels is above the limit of 120,000,000 " \
           "(--max-pixels raises it)" in errors
    assert f"hinet: error: {inputs / 'anim.png'}: an animated PNG of 3 frames; only single images are restored " \
           "(split it first)" in errors
    assert any(line.startswith(f"hinet: error: {inputs / 'anim.gif'}: GIF is not supported") for line in errors)
    assert errors[-1] == "hinet: error: 3 of 4 images failed; the others were written"
    assert sorted(path.name for path in out.iterdir()) == ["good.png"]


def test_running_out_of_memory_on_one_image_fails_that_image_only(tmp_path, identity_model_path, monkeypatch, capsys):
    from hinet_tf.inference import Restorer

    restore = Restorer.restore_in_place

    def restore_small_only(self, samples):
        if samples.shape[0] > 20:
            raise MemoryError
        restore(self, samples)

    monkeypatch.setattr(Restorer, "restore_in_place", restore_small_only)
    write_png(tmp_path / "in" / "large.png", pixels(0, (40, 20, 3)))
    write_png(tmp_path / "in" / "small.png", pixels(1, (20, 20, 3)))
    out = tmp_path / "out"
    assert main(["restore", str(tmp_path / "in"), "-o", str(out), "--model", str(identity_model_path)]) == 2
    large = tmp_path / "in" / "large.png"
    assert f"{large}: not enough memory to restore an image of this size" in capsys.readouterr().err
    assert sorted(path.name for path in out.iterdir()) == ["small.png"]


def test_an_interrupt_swallowed_while_loading_still_stops_the_run_before_it_writes(
    tmp_path, identity_model_path, monkeypatch, capsys
):
    from hinet_tf.inference import Restorer

    build = Restorer.__init__

    def interrupted_and_swallowed(self, *args, **kwargs):  # as Python drops one raised in a gc callback
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # the handler runs between these bytecodes
                pass
        except KeyboardInterrupt:
            pass
        build(self, *args, **kwargs)

    monkeypatch.setattr(Restorer, "__init__", interrupted_and_swallowed)
    write_png(tmp_path / "in.png", pixels(0, (20, 20, 3)))
    (tmp_path / "out.png").write_bytes(b"the user's file")
    argv = ["restore", str(tmp_path / "in.png"), "-o", str(tmp_path / "out.png"), "--overwrite"]
    assert main([*argv, "--model", str(identity_model_path), "--backend", "keras"]) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == "hinet: interrupted"
    assert (tmp_path / "out.png").read_bytes() == b"the user's file"  # it asked to stop: nothing replaced
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.png", "out.png"]
    monkeypatch.undo()
    assert main([*argv, "--model", str(identity_model_path), "--backend", "keras"]) == 0  # the next run writes


@pytest.fixture(scope="module")
def not_image_models(tmp_path_factory):
    """A classifier (images to 10 scores), a model of fixed 28 x 28 inputs and one that halves the size."""
    folder = tmp_path_factory.mktemp("foreign")
    classifier = keras.Sequential(
        [keras.Input((None, None, 3)), keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10)]
    )
    classifier.save(folder / "classifier.keras")
    fixed = keras.Sequential([keras.Input((28, 28, 3)), keras.layers.Conv2D(3, 3, padding="same")])
    fixed.save(folder / "fixed.keras")
    strided = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(3, 3, strides=2, padding="same")])
    strided.save(folder / "strided.keras")
    return folder


@pytest.mark.parametrize("command", ["restore", "export", "evaluate"])
def test_a_model_that_does_not_map_images_to_images_is_named_in_one_line(tmp_path, not_image_models, command, capsys):
    write_png(tmp_path / "data" / "input" / "a.png", pixels(0, (16, 16, 3)))
    write_png(tmp_path / "data" / "target" / "a.png", pixels(0, (16, 16, 3)))
    for name, problem in (
        ("classifier.keras", "returns (None, 10) for images (None, None, None, 3)"),
        ("fixed.keras", "takes only 28 x 28 images; it must take any size"),
        ("strided.keras", "returns (1, 8, 8, 3) for images (1, 16, 16, 3)"),
    ):
        model = str(not_image_models / name)
        argv = {
            "restore": ["restore", str(tmp_path / "data" / "input" / "a.png"), "-o", str(tmp_path / "out.png"),
                        "--model", model],
            "export": ["export", model, "--format", "tflite", "-o", str(tmp_path / "m.tflite")],
            "evaluate": ["evaluate", "--model", model, "--data", str(tmp_path / "data"), "--layout", "pairs",
                         "-o", str(tmp_path / "reports")],
        }[command]
        assert main(argv) == 2
        (error,) = capsys.readouterr().err.splitlines()
        assert error.startswith(f"hinet: error: Model {model} ") and problem in error
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data"]


def test_bad_model_files_and_settings_are_named_plainly(tmp_path, identity_model_path, capsys):
    image = tmp_path / "a.png"
    write_png(image, pixels(0, (16, 16, 3)))
    (tmp_path / "text.keras").write_text("not a model")
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(identity_model_path.read_bytes()[:1480])
    (tmp_path / "folder.keras").mkdir()

    def error(*arguments):
        assert main(["restore", str(image), "-o", str(tmp_path / "out.png"), *arguments]) == 2
        (line,) = capsys.readouterr().err.splitlines()
        return line

    for name in ("text.keras", "truncated.keras"):
        assert f"Model {tmp_path / name} is not a valid .keras file" in error("--model", str(tmp_path / name))
    assert f"Model {tmp_path / 'folder.keras'} is a directory" in error("--model", str(tmp_path / "folder.keras"))
    # Random weights would also be converted and timed again on every run, each time under a new cache key.
    assert "preset hinet_1x is an architecture only, with random weights" in error("--model", "hinet_1x")
    with pytest.raises(SystemExit):
        main(["restore", str(image), "-o", str(tmp_path / "out.png"), "--tile", "0"])
    assert "argument --tile: must be at least 1, got 0" in capsys.readouterr().err
    model = ["--model", str(identity_model_path)]
    assert "The overlap (64) must be at most 60, the tile (64) minus the size multiple (4)." in error(
        "--tile", "64", "--overlap", "64", *model
    )
    assert not (tmp_path / "out.png").exists()


def test_cheap_checks_come_before_the_model_is_loaded(tmp_path, capsys):
    """With a model that does not exist, every error shown is one found before loading it."""
    write_png(tmp_path / "in" / "good.png", pixels(0, (16, 16, 3)))
    (tmp_path / "in" / "text.jpg").write_text("hello")
    (tmp_path / "blocker").write_text("a file where the output folder should go")
    missing_model = ["--model", str(tmp_path / "missing.keras")]

    assert main(["restore", str(tmp_path / "in"), "-o", str(tmp_path / "blocker" / "out"), *missing_model]) == 2
    blocked = f"cannot write into {tmp_path / 'blocker' / 'out'}: {tmp_path / 'blocker'} is a file, not a folder"
    assert capsys.readouterr().err.splitlines() == [f"hinet: error: {blocked}"]
    assert main(["restore", str(tmp_path / "in" / "text.jpg"), "-o", str(tmp_path / "out"), *missing_model]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"hinet: error: {tmp_path / 'in' / 'text.jpg'}: not a JPEG file",
        "hinet: error: 1 of 1 images failed",
    ]
    output = tmp_path / "blocker" / "m.tflite"
    argv = ["export", str(tmp_path / "missing.keras"), "--format", "tflite", "-o", str(output)]
    assert main(argv) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


REPO_ROOT = Path(__file__).resolve().parents[2]


def _python(code, *arguments, **environment):
    """Runs `python -c code arguments` from the checkout, as a fresh install would, without TF's log level set."""
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run(
        [sys.executable, "-c", code, *arguments],
        env={**env, **environment},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("onnx_extra", [True, False])
def test_the_readme_s_first_command_shows_only_hinet_s_own_messages_and_runs_twice(tmp_path, onnx_extra):
    # With the onnx extra only, as the README installs (auto converts for onnxruntime and times it), and without it.
    install, restore = quick_start()
    assert install == 'pip install -e ".[onnx]"'
    program, *arguments = shlex.split(restore)
    assert program == "hinet"
    output = tmp_path / arguments[arguments.index("-o") + 1]
    arguments[arguments.index("-o") + 1] = str(output)
    blocked = "dict(ai_edge_litert=None)" if onnx_extra else "dict(ai_edge_litert=None, onnxruntime=None)"
    code = (
        f"import sys; sys.modules.update({blocked})\n"
        "from hinet_tf.cli.main import main; sys.exit(main(sys.argv[1:]))"
    )
    for run in ("first", "second") if onnx_extra else ("first",):
        result = _python(code, *arguments, HINET_CACHE=str(tmp_path / "cache"))
        assert result.returncode == 0, f"{run} run: {result.stderr[-3000:]}"
        assert result.stderr == ""
        converted = "Converting the model for onnxruntime once" in result.stdout
        assert converted == (onnx_extra and run == "first")  # the second run reuses the conversion
        measured = "Choosing the fastest backend for this CPU (once)" in result.stdout
        assert measured == (onnx_extra and run == "first")  # and the choice
        assert result.stdout.splitlines()[-1] == f"restored 1 image(s) into {output}"
        assert "\x1b" not in result.stdout  # no progress bar drawn into a pipe


@pytest.mark.slow
def test_a_litert_run_shows_only_hinet_s_own_messages(tmp_path):
    # LiteRT's runtime logs its accelerators when it starts and again at exit, on the native stderr.
    pytest.importorskip("ai_edge_litert")
    code = "import sys; from hinet_tf.cli.main import main; sys.exit(main(sys.argv[1:]))"
    sample = REPO_ROOT / "saved_models" / "samples" / "noisy_sample.png"
    arguments = ("restore", str(sample), "-o", str(tmp_path / "restored.png"), "--backend", "litert")
    result = _python(code, *arguments, HINET_CACHE=str(tmp_path / "cache"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == ""
    assert "Converting the model for LiteRT" in result.stdout
