"""The one atomic-write helper: the target is the old file or the complete new one, never a part."""

import keras
import pytest

from hinet_tf.utils.atomic import atomic_write
from hinet_tf.utils.atomic import atomic_write_text
from hinet_tf.utils.atomic import check_writable


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
