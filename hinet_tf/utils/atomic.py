"""Atomic file writes: a file is either its old self or complete, whenever the process dies.

Everything hinet-tf writes (images, checkpoints, reports, configs, shards) goes through
`atomic_write`: the data goes to a temporary file in the target's folder, which is flushed
to disk and renamed over the target. A kill at any instant leaves the previous file or the
new one, never a part of one; at worst a hidden temporary file (`.NAME.*`) stays behind.
Folders (a SavedModel) go through `atomic_directory` in the same way.

With `overwrite=False`, an existing target is a `FileExistsError` before anything is written.
"""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


def temporary_prefix(path):
    """The name prefix of `path`'s temporary files, to find those a killed process left behind."""
    return f".{Path(path).name}."


@contextlib.contextmanager
def atomic_write(path, overwrite=True):
    """Yields a temporary path beside `path` (same suffixes: Keras requires `.keras`) to write to.

    When the block ends without an error, the temporary file is synced to disk, given the
    usual permissions and renamed to `path`, replacing any existing file. On an error
    (or KeyboardInterrupt) it is removed and `path` is left as it was.

    Raises:
        FileExistsError: `path` exists and `overwrite` is false.
    """
    path = Path(path)
    check_absent(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=temporary_prefix(path), suffix="".join(path.suffixes))
    os.close(handle)
    temporary = Path(temporary)
    try:
        yield temporary
        with open(temporary, "rb+") as file:
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes files private
        os.replace(temporary, path)
        _sync_folder(path.parent)
    finally:
        temporary.unlink(missing_ok=True)


def atomic_write_bytes(path, data, overwrite=True):
    """Writes `data` to `path` atomically."""
    with atomic_write(path, overwrite) as temporary:
        temporary.write_bytes(data)


def atomic_write_text(path, text, overwrite=True):
    """Writes `text` (UTF-8) to `path` atomically."""
    atomic_write_bytes(path, text.encode(), overwrite)


@contextlib.contextmanager
def atomic_directory(path, overwrite=True):
    """Yields an empty temporary folder beside `path` to fill; it becomes `path` if the block succeeds.

    Its files are synced to disk, then an existing `path` is renamed aside, the new folder
    renamed into place and the old one deleted. A kill leaves the old folder or the new
    one at `path`; only between the two renames is `path` missing, with the old folder whole
    under a hidden name (`.NAME.*`). On an error the temporary folder is removed.

    Raises:
        FileExistsError: `path` exists and `overwrite` is false.
    """
    path = Path(path)
    check_absent(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=path.parent, prefix=temporary_prefix(path)))
    previous = None
    try:
        os.chmod(temporary, 0o777 & ~_UMASK)  # mkdtemp makes folders private
        yield temporary
        _sync_tree(temporary)
        if path.exists():
            previous = Path(tempfile.mkdtemp(dir=path.parent, prefix=temporary_prefix(path)))
            os.replace(path, previous / path.name)
        os.replace(temporary, path)
        _sync_folder(path.parent)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)


def check_writable(folder):
    """Raises ValueError unless files can be created in `folder` (existing, or to be created).

    Creates and removes a file in the nearest existing folder: unlike permission bits,
    this also catches read-only mounts and holds for root.
    """
    folder = Path(folder).absolute()
    existing = next(path for path in (folder, *folder.parents) if path.exists())
    if not existing.is_dir():
        raise ValueError(f"cannot write into {folder}: {existing} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise ValueError(f"cannot write into {folder}: {existing} is not writable ({error.strerror})") from None


def current_umask():
    """The process's file-creation mask (read once at import: reading it means setting it, process-wide)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = current_umask()


def check_absent(path, overwrite):
    """Raises FileExistsError if `path` exists and `overwrite` is false (before slow work that would write it)."""
    if not overwrite and Path(path).exists():
        raise FileExistsError(f"{path} already exists; pass overwrite=True (`--overwrite`) to replace it")


def _sync_tree(folder):
    """Flushes every file under `folder`, and the folders themselves, to disk."""
    for root, _, files in os.walk(folder):
        for name in files:
            with open(os.path.join(root, name), "rb") as file:
                os.fsync(file.fileno())
        _sync_folder(root)


def _sync_folder(folder):
    """Makes a rename in `folder` durable (a no-op where folders cannot be opened)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
