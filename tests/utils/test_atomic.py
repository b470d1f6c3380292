"""The one atomic-write helper: the target is the old file or the complete new one, never a part."""

import keras
import pytest

from hinet_tf.utils.atomic import atomic_directory
from hinet_tf.utils.atomic import atomic_write
from hinet_tf.utils.atomic import atomic_write_text
from hinet_tf.utils.atomic import check_writable
from hinet_tf.utils.atomic import current_umask


def test_the_target_appears_only_when_the_block_succeeds(tmp_path):
    target = tmp_path / "best.keras"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target) as temporary:
        temporary.write_text("half")
        assert target.read_text() == "old"  # untouched while the new file is written
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [path.name for path in tmp_path.iterdir()] == ["best.keras"]  # no temporary left
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert [path.name for path in tmp_path.iterdir()] == ["best.keras"]


def test_the_temporary_file_keeps_the_suffixes_keras_needs(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    for name in ("model.keras", "model.weights.h5"):
        with atomic_write(tmp_path / name) as temporary:
            assert temporary.parent == tmp_path and temporary.name.startswith(f".{name}.")
            (model.save if name.endswith(".keras") else model.save_weights)(temporary)
    assert keras.saving.load_model(tmp_path / "model.keras").count_params() == 3
    model.load_weights(tmp_path / "model.weights.h5")


def test_check_writable_names_the_blocking_file(tmp_path):
    check_writable(tmp_path / "new" / "deeper")  # folders to be created are fine
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError) as error:
        check_writable(tmp_path / "file" / "out")
    blocked = tmp_path / "file"
    assert str(error.value) == f"cannot write into {blocked / 'out'}: {blocked} is a file, not a folder"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["file"]  # the probe left nothing


def test_nothing_is_replaced_without_overwrite(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("user data")
    with pytest.raises(FileExistsError, match="report.json already exists"):
        atomic_write_text(target, "new", overwrite=False)
    with pytest.raises(FileExistsError), atomic_directory(target, overwrite=False):
        pass
    assert target.read_text() == "user data"
    assert [path.name for path in tmp_path.iterdir()] == ["report.json"]


def test_a_folder_appears_whole_and_replaces_the_old_one_only_on_success(tmp_path):
    target = tmp_path / "saved_model"
    with atomic_directory(target) as temporary:
        assert temporary.parent == tmp_path and temporary.name.startswith(".saved_model.")
        (temporary / "variables").mkdir()
        (temporary / "saved_model.pb").write_text("first")
        assert not target.exists()
    assert (target / "saved_model.pb").read_text() == "first" and (target / "variables").is_dir()
    assert oct(target.stat().st_mode & 0o777) == oct(0o777 & ~current_umask())  # not mkdtemp's 0o700

    with pytest.raises(RuntimeError), atomic_directory(target) as temporary:
        (temporary / "saved_model.pb").write_text("half")
        raise RuntimeError("killed")
    assert (target / "saved_model.pb").read_text() == "first"
    assert [path.name for path in tmp_path.iterdir()] == ["saved_model"]

    with atomic_directory(target) as temporary:
        (temporary / "saved_model.pb").write_text("second")
    assert sorted(path.name for path in target.iterdir()) == ["saved_model.pb"]  # nothing of the old folder
    assert (target / "saved_model.pb").read_text() == "second"
    assert [path.name for path in tmp_path.iterdir()] == ["saved_model"]
