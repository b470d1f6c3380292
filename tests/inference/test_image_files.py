"""Restoring image files (hinet_tf/inference/image_files.py) with a stand-in restorer: planning, checks, the loop."""

import numpy as np
import pytest
from PIL import Image
from PIL import ImageOps

from hinet_tf.inference import image_files
from hinet_tf.inference.errors import NonFiniteOutputError


def _photo(path, value=64, size=(20, 16)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((*size, 3), value, np.uint8)).save(path)
    return path


def test_plan_pairs_a_file_with_a_named_output_and_folders_with_their_layout(tmp_path):
    single = _photo(tmp_path / "in" / "a.png")
    assert image_files.plan_outputs([single], tmp_path / "out.png") == [(single, tmp_path / "out.png")]
    nested = _photo(tmp_path / "in" / "sub" / "b.png")
    (tmp_path / "in" / "notes.txt").write_text("not an image")
    with pytest.warns(UserWarning, match="skipped 1 file.* notes.txt"):
        jobs = image_files.plan_outputs([tmp_path / "in"], tmp_path / "out")
    assert jobs == [(single, tmp_path / "out" / "a.png"), (nested, tmp_path / "out" / "sub" / "b.png")]


def test_a_broken_link_in_an_input_folder_is_reported_not_skipped(tmp_path):
    photo = _photo(tmp_path / "in" / "a.png")
    (tmp_path / "in" / "b.png").symlink_to(tmp_path / "nowhere")
    jobs = image_files.plan_outputs([tmp_path / "in"], tmp_path / "out")
    assert [source for source, _ in jobs] == [photo, tmp_path / "in" / "b.png"]
    pending, failures = image_files.check_jobs(jobs)
    assert pending == jobs[:1]
    assert failures == [f"{tmp_path / 'in' / 'b.png'} is a broken link to {tmp_path / 'nowhere'}"]


def test_plan_leaves_out_an_output_folder_inside_the_input_folder(tmp_path):
    photo = _photo(tmp_path / "in" / "a.png")
    _photo(tmp_path / "in" / "out" / "a.png")  # the first run's output
    jobs = image_files.plan_outputs([tmp_path / "in"], tmp_path / "in" / "out")
    assert jobs == [(photo, tmp_path / "in" / "out" / "a.png")]
    same = image_files.plan_outputs([tmp_path / "in"], tmp_path / "in")  # each output is its input: refused later
    assert (photo, photo) in same


def test_plan_refuses_an_output_format_it_cannot_write_and_a_folder_named_as_an_image(tmp_path):
    with pytest.raises(ValueError, match=r"out.gif: cannot write '.gif' images"):
        image_files.plan_outputs([_photo(tmp_path / "a.png")], tmp_path / "out.gif")
    with pytest.raises(ValueError, match=r"out.heic: cannot write '.heic' images"):  # not made a folder
        image_files.plan_outputs([tmp_path / "a.png"], tmp_path / "out.heic")
    for inputs in ([tmp_path / "a.png", tmp_path / "b.png"], [tmp_path]):  # not a folder named two.png
        with pytest.raises(ValueError, match=r"two.png: with several inputs or a folder, -o names a folder; give one"):
            image_files.plan_outputs(inputs, tmp_path / "two.png")
    assert not (tmp_path / "two.png").exists()
    (tmp_path / "photos.jpg").mkdir()  # an existing folder is a folder, whatever its name
    assert image_files.plan_outputs([tmp_path / "a.png"], tmp_path / "photos.jpg") == [
        (tmp_path / "a.png", tmp_path / "photos.jpg" / "a.png")
    ]


def test_checks_keep_existing_outputs_inputs_and_shared_outputs_and_read_headers(tmp_path):
    good, kept, broken = (_photo(tmp_path / name) for name in ("good.png", "kept.png", "broken.png"))
    broken.write_bytes(b"\x89PNG truncated")
    existing = _photo(tmp_path / "out" / "kept.png", value=1)
    jobs = [
        (good, tmp_path / "out" / "good.png"),
        (kept, existing),
        (good, good),
        (broken, tmp_path / "out" / "broken.png"),
        (good, tmp_path / "out" / "twice.png"),
        (kept, tmp_path / "out" / "twice.png"),
    ]
    pending, failures = image_files.check_jobs(jobs)
    assert pending == jobs[:1]
    assert [message.split(":")[0] for message in failures] == [
        str(existing), str(good), str(broken), str(good), str(kept)
    ]
    assert "pass --overwrite" in failures[0] and "pass --overwrite" in failures[1]
    pending, failures = image_files.check_jobs(jobs[:3], overwrite=True)
    assert pending == jobs[:2] and failures == [f"{good}: the output would replace its input"]


class Inverter:
    """A stand-in restorer of colour images: each sample becomes its complement."""

    channels = 3

    def restore_in_place(self, samples):
        samples[...] = np.iinfo(samples.dtype).max - samples


class Broken:
    channels = 3

    def restore_in_place(self, samples):
        raise NonFiniteOutputError("the model returned NaN")


def test_restore_files_writes_each_output_and_reports_the_ones_that_fail(tmp_path):
    good = _photo(tmp_path / "good.png")
    broken = _photo(tmp_path / "broken.png")
    jobs = [(good, tmp_path / "out" / "good.png"), (broken, tmp_path / "out" / "broken.png")]
    broken.write_bytes(b"\x89PNG changed after the checks")
    done = []
    failures = image_files.restore_files(Inverter(), jobs, on_done=done.append)
    assert done == [1, 2]
    assert len(failures) == 1 and str(broken) in failures[0]
    restored = np.asarray(Image.open(tmp_path / "out" / "good.png"))
    assert restored.shape == (20, 16, 3) and (restored == 255 - 64).all()
    assert not (tmp_path / "out" / "broken.png").exists()


class MarksItsFirstRow:
    """A stand-in restorer that sees where its image starts, as a model that learnt a camera's JPEG grid does."""

    channels = 3

    def restore_in_place(self, samples):
        self.seen = samples.copy()
        samples[0] = 255


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_an_exif_turned_photo_is_restored_as_stored_and_written_upright(tmp_path, orientation):
    """Phone photos held sideways: the restorer gets the file's own samples, on its JPEG grid (PNG here: exact)."""
    stored = np.random.default_rng(orientation).integers(0, 200, (20, 16, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(stored).save(tmp_path / "phone.png", exif=exif)
    restorer = MarksItsFirstRow()
    assert image_files.restore_files(restorer, [(tmp_path / "phone.png", tmp_path / "out.png")]) == []
    np.testing.assert_array_equal(restorer.seen, stored)
    marked = stored.copy()
    marked[0] = 255  # what the restorer did, to the file's first row of samples
    Image.fromarray(marked).save(tmp_path / "marked.png", exif=exif)
    with Image.open(tmp_path / "marked.png") as file:
        expected = np.asarray(ImageOps.exif_transpose(file))
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out.png")), expected)


def test_grayscale_files_through_a_colour_model_get_one_warning_naming_them(tmp_path):
    gray = [tmp_path / f"gray{index}.png" for index in range(2)]
    for path in gray:
        Image.fromarray(np.full((20, 16), 64, np.uint8)).save(path)
    jobs = [(path, tmp_path / "out" / path.name) for path in (*gray, _photo(tmp_path / "colour.png"))]
    with pytest.warns(UserWarning, match=r"^2 grayscale image\(s\) .*\(gray0.png, gray1.png\)") as caught:
        assert image_files.restore_files(Inverter(), jobs) == []
    assert len(caught) == 1
    assert (np.asarray(Image.open(tmp_path / "out" / "gray0.png")) == 255 - 64).all()


def test_a_model_that_breaks_every_file_stops_the_run_naming_the_file(tmp_path):
    jobs = [(_photo(tmp_path / name), tmp_path / "out" / name) for name in ("a.png", "b.png")]
    with pytest.raises(NonFiniteOutputError, match=r"a.png: the model returned NaN"):
        image_files.restore_files(Broken(), jobs)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_restore_paths_checks_before_loading_restores_the_rest_and_reports(tmp_path, identity_model_path):
    _photo(tmp_path / "in" / "a.png", value=10)
    _photo(tmp_path / "in" / "b.png", value=20)
    kept = _photo(tmp_path / "out" / "b.png", value=99)  # an existing output is not overwritten
    with pytest.raises(ValueError, match="overlap"):
        image_files.restore_paths([tmp_path / "in"], tmp_path / "out", [identity_model_path], tile=32, overlap=32)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no .* images found"):
        image_files.restore_paths([tmp_path / "empty"], tmp_path / "out2", [identity_model_path])
    progress = []
    report = image_files.restore_paths(
        [tmp_path / "in"], tmp_path / "out", [identity_model_path], tile=32, overlap=8, backend="keras",
        on_done=lambda done, total: progress.append((done, total)),
    )
    assert report.count == 2 and progress == [(0, 1), (1, 1)]
    assert len(report.failures) == 1 and "--overwrite" in report.failures[0]
    assert (np.asarray(Image.open(tmp_path / "out" / "a.png")) == 10).all()  # the identity model
    assert (np.asarray(Image.open(kept)) == 99).all()


def test_hinet_restore_the_library_and_the_restorer_default_to_one_tile_and_overlap():
    import inspect

    from hinet_tf.cli.main import build_parser
    from hinet_tf.inference import Restorer
    from hinet_tf.utils.tiles import DEFAULT_OVERLAP
    from hinet_tf.utils.tiles import DEFAULT_TILE

    args = build_parser().parse_args(["restore", "in.png", "-o", "out"])
    for function in (Restorer, image_files.restore_paths):
        parameters = inspect.signature(function).parameters
        assert (parameters["tile"].default, parameters["overlap"].default) == (DEFAULT_TILE, DEFAULT_OVERLAP)
    assert (args.tile, args.overlap) == (DEFAULT_TILE, DEFAULT_OVERLAP) == (384, 32)
