"""The one atomic-write helper: the target is the old file or the complete new one, never a part."""

import os
import signal
import sys
import threading
import time

import keras
import pytest

from hinet_tf.cli.main import interrupts_stop_writes
from hinet_tf.utils import atomic
from hinet_tf.utils.atomic import FolderLayout
from hinet_tf.utils.atomic import atomic_directory
from hinet_tf.utils.atomic import atomic_write
from hinet_tf.utils.atomic import atomic_write_text
from hinet_tf.utils.atomic import atomic_write_texts
from hinet_tf.utils.atomic import check_writable
from hinet_tf.utils.atomic import current_umask
from hinet_tf.utils.atomic import temporary_directory

LAYOUT = FolderLayout("a SavedModel", "saved_model.pb", ("saved_model.pb", "variables"))


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


def test_after_a_stop_request_no_write_lands(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    atomic.request_stop()
    try:
        with pytest.raises(KeyboardInterrupt):
            atomic_write_text(target, "new")
        with pytest.raises(KeyboardInterrupt), atomic_directory(tmp_path / "model", LAYOUT) as folder:
            (folder / "saved_model.pb").write_text("new")
    finally:
        atomic.request_stop(False)
    assert [path.name for path in tmp_path.iterdir()] == ["report.json"] and target.read_text() == "old"
    atomic_write_text(target, "new")
    assert target.read_text() == "new"


def test_an_interrupt_waits_for_both_renames_of_a_folder_swap(tmp_path, monkeypatch):
    target = tmp_path / "model"
    with atomic_directory(target, LAYOUT) as folder:
        (folder / "saved_model.pb").write_text("old")
    rename = atomic.os.rename

    def interrupted_after_the_first_rename(source, destination):
        rename(source, destination)
        if destination == atomic.previous_path(target):
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(atomic.os, "rename", interrupted_after_the_first_rename)
    with interrupts_stop_writes():  # the command line's handler
        with pytest.raises(KeyboardInterrupt), atomic_directory(target, LAYOUT) as folder:
            (folder / "saved_model.pb").write_text("new")
    assert (target / "saved_model.pb").read_text() == "new"  # the swap finished; the interrupt came after
    assert [path.name for path in tmp_path.iterdir()] == ["model"]


def test_files_written_together_are_all_old_or_all_new_after_an_interrupt(tmp_path, monkeypatch):
    reports = {tmp_path / "metrics.csv": "csv", tmp_path / "metrics.json": "json"}
    atomic_write_texts({path: "old " + text for path, text in reports.items()})
    replace = atomic.os.replace
    renamed = []

    def interrupted_after_the_first_rename(source, destination):
        replace(source, destination)
        renamed.append(destination)
        if len(renamed) == 1:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(atomic.os, "replace", interrupted_after_the_first_rename)
    with interrupts_stop_writes(), pytest.raises(KeyboardInterrupt):
        atomic_write_texts({path: "new " + text for path, text in reports.items()})
    assert [path.read_text() for path in reports] == ["new csv", "new json"]  # the interrupt came after both

    mkstemp = atomic.tempfile.mkstemp
    created = []

    def interrupted_after_the_first_file(**kwargs):
        if created:
            os.kill(os.getpid(), signal.SIGTERM)
        created.append(mkstemp(**kwargs))
        return created[-1]

    monkeypatch.setattr(atomic.tempfile, "mkstemp", interrupted_after_the_first_file)
    with interrupts_stop_writes(), pytest.raises(KeyboardInterrupt):
        atomic_write_texts({path: "third" for path in reports})
    assert [path.read_text() for path in reports] == ["new csv", "new json"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["metrics.csv", "metrics.json"]


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
    with pytest.raises(FileExistsError), atomic_directory(target, LAYOUT, overwrite=False):
        pass
    assert target.read_text() == "user data"
    assert [path.name for path in tmp_path.iterdir()] == ["report.json"]


def test_a_folder_appears_whole_and_replaces_the_old_one_only_on_success(tmp_path):
    target = tmp_path / "saved_model"
    with atomic_directory(target, LAYOUT) as temporary:
        assert temporary.parent == tmp_path and temporary.name.startswith(".saved_model.")
        (temporary / "variables").mkdir()
        (temporary / "saved_model.pb").write_text("first")
        assert not target.exists()
    assert (target / "saved_model.pb").read_text() == "first" and (target / "variables").is_dir()
    assert oct(target.stat().st_mode & 0o777) == oct(0o777 & ~current_umask())  # not mkdtemp's 0o700

    with pytest.raises(RuntimeError), atomic_directory(target, LAYOUT) as temporary:
        (temporary / "saved_model.pb").write_text("half")
        raise RuntimeError("killed")
    assert (target / "saved_model.pb").read_text() == "first"
    assert [path.name for path in tmp_path.iterdir()] == ["saved_model"]

    with atomic_directory(target, LAYOUT) as temporary:
        (temporary / "saved_model.pb").write_text("second")
    assert sorted(path.name for path in target.iterdir()) == ["saved_model.pb"]  # nothing of the old folder
    assert (target / "saved_model.pb").read_text() == "second"
    assert [path.name for path in tmp_path.iterdir()] == ["saved_model"]


def test_the_no_overwrite_rule_holds_at_the_rename(tmp_path):
    """Another process writes the target after the check, while this one writes: its file is kept."""
    target = tmp_path / "restored.png"
    with pytest.raises(FileExistsError, match="restored.png already exists"):
        with atomic_write(target, overwrite=False) as temporary:
            temporary.write_text("mine")
            target.write_text("the other process's")  # after the check, before the rename
    assert target.read_text() == "the other process's"
    assert [path.name for path in tmp_path.iterdir()] == ["restored.png"]
    atomic_write_text(tmp_path / "new.png", "mine", overwrite=False)  # a free name is written
    assert (tmp_path / "new.png").read_text() == "mine"


def test_overwrite_replaces_only_a_file_or_a_folder_of_the_layout(tmp_path):
    project = tmp_path / "proj"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.py").write_text("code")
    with pytest.raises(FileExistsError, match=r"proj holds src, which writing a SavedModel there would delete"):
        with atomic_directory(project, LAYOUT, overwrite=True) as temporary:
            (temporary / "saved_model.pb").write_text("export")
    assert (project / "src" / "main.py").read_text() == "code"

    for name in (".", ".."):  # rename(2) cannot put a folder there
        with pytest.raises(FileExistsError, match=f"{name} is not a name a SavedModel can be written to"):
            atomic.check_replaceable(name, True, LAYOUT)

    unmarked = tmp_path / "unmarked"
    (unmarked / "variables").mkdir(parents=True)  # known names, but no saved_model.pb
    with pytest.raises(FileExistsError, match="unmarked is not a SavedModel .no saved_model.pb."):
        atomic.check_replaceable(unmarked, True, LAYOUT)
    (tmp_path / "notes.txt").write_text("user")
    with pytest.raises(FileExistsError, match="notes.txt is a file, not a SavedModel"):
        atomic.check_replaceable(tmp_path / "notes.txt", True, LAYOUT)
    (tmp_path / "model.tflite").mkdir()
    with pytest.raises(FileExistsError, match="model.tflite is a folder; a file is written there"):
        atomic_write_text(tmp_path / "model.tflite", "export", overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "user" and (tmp_path / "model.tflite").is_dir()

    ours = tmp_path / "ours"
    (ours / "variables").mkdir(parents=True)
    (ours / "saved_model.pb").write_text("export")
    (ours / ".saved_model.pb.x1y2z3").write_text("a temporary file of a killed write")
    atomic.check_replaceable(ours, True, LAYOUT)  # replaceable: nothing in it is foreign

    empty = tmp_path / "empty"
    empty.mkdir()
    with atomic_directory(empty, LAYOUT, overwrite=False) as temporary:  # an empty folder holds nothing to lose
        (temporary / "saved_model.pb").write_text("export")
    assert (empty / "saved_model.pb").read_text() == "export"


class Killed(BaseException):
    """A kill: nothing after it runs, not even `except Exception`."""


def test_a_folder_swap_killed_at_any_rename_leaves_the_old_folder_or_the_new_one(tmp_path, monkeypatch):
    target = tmp_path / "preset"
    with atomic_directory(target, LAYOUT) as temporary:
        (temporary / "saved_model.pb").write_text("old")
        (temporary / "variables").write_text("old")
    real = {name: getattr(atomic.os, name) for name in ("rename", "replace")}
    renamed = []

    def killing(name):
        def rename(source, destination):
            real[name](source, destination)
            renamed.append(destination)
            if len(renamed) == kill:
                raise Killed

        return rename

    completed = None
    for kill in range(1, 10):  # killed just after the rename of this number
        renamed.clear()
        for name in real:
            monkeypatch.setattr(atomic.os, name, killing(name))
        try:
            with atomic_directory(target, LAYOUT) as temporary:
                (temporary / "saved_model.pb").write_text("new")
                (temporary / "variables").write_text("new")
            completed = kill
        except Killed:
            pass
        finally:
            monkeypatch.undo()
        atomic.recover_directory(target)  # what the next write or load does first
        contents = {path.name: path.read_text() for path in target.iterdir()}
        assert contents in ({"saved_model.pb": "old", "variables": "old"}, {"saved_model.pb": "new", "variables": "new"})
        assert [path.name for path in tmp_path.iterdir()] == ["preset"]
        if completed:
            break
    assert completed == 3  # the old folder aside, the new one in: each rename killed once, then the whole swap
    assert (target / "saved_model.pb").read_text() == "new"


def test_folders_swapped_in_at_once_take_turns_and_the_last_stays_whole(tmp_path, monkeypatch):
    target = tmp_path / "preset"
    with atomic_directory(target, LAYOUT) as temporary:
        (temporary / "saved_model.pb").write_text("old")
    rename = atomic.os.rename

    def slow_rename(source, destination):  # a wide window after each rename, where another swap used to cut in
        rename(source, destination)
        time.sleep(0.05)

    monkeypatch.setattr(atomic.os, "rename", slow_rename)
    filled, errors = threading.Barrier(3), []

    def write(name):  # threads lock apart as processes do: each opens the folder itself
        try:
            with atomic_directory(target, LAYOUT) as temporary:
                (temporary / "saved_model.pb").write_text(name)
                (temporary / "variables").write_text(name)
                filled.wait()
        except Exception as error:
            errors.append(error)

    writers = [threading.Thread(target=write, args=(name,)) for name in "abc"]
    for writer in writers:
        writer.start()
    while any(writer.is_alive() for writer in writers):  # a reader, which recovers a killed swap first
        atomic.recover_directory(target)
    for writer in writers:
        writer.join()
    assert errors == []
    contents = {path.name: path.read_text() for path in target.iterdir()}
    assert contents in [{"saved_model.pb": name, "variables": name} for name in "abc"]
    assert [path.name for path in tmp_path.iterdir()] == ["preset"]


def test_a_full_disk_names_the_file_being_written(tmp_path):
    target = tmp_path / "report.json"
    with pytest.raises(OSError) as error, atomic_write(target) as temporary:
        temporary.write_text("{")
        raise OSError(28, "No space left on device")  # what a write to a full disk raises: no file name
    assert str(error.value) == f"[Errno 28] No space left on device: {str(target)!r}"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(sys.platform != "linux", reason="/proc is a folder no file can be created in on Linux")
@pytest.mark.parametrize("write", [atomic_write, lambda path: atomic_directory(path, LAYOUT), temporary_directory])
def test_a_temporary_that_cannot_be_created_is_not_named(write):
    with pytest.raises(OSError) as error, write("/proc/output"):
        pass
    assert str(error.value) == "[Errno 2] No such file or directory: '/proc/output'"  # not '/proc/.output.1x2y3z'
