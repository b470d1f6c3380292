"""Atomic file writes, and the rule of what an output may replace.

Everything hinet-tf writes goes through `atomic_write` (files: images, checkpoints, reports,
configs, shards) or `atomic_directory` (folders: a SavedModel, a preset, swapped in whole). A
kill at any instant leaves the previous output or the new one, never a part of one; at worst a
hidden temporary (`.NAME.*`) stays behind. Without `overwrite`, the replace rule
(`check_replaceable`) holds at the rename itself, not only at a check before it. After
`request_stop` (the command line's Ctrl-C and SIGTERM) no write lands. Processes that swap or
recover the same folder at once take turns (`_swaps_locked`).
"""

import contextlib
import dataclasses
import errno
import os
import shutil
import tempfile
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: swaps of one folder by several processes at once are not locked
    fcntl = None

from hinet_tf.utils.messages import describe_names

# The errors of a rename onto a name that is taken (a folder that is not empty, or a file).
_TAKEN = (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR)
# The errors of a hard link on a file system without them.
_NO_LINKS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV)


@dataclasses.dataclass(frozen=True)
class FolderLayout:
    """What a folder the project writes holds, to recognise one that `--overwrite` may replace.

    Attributes:
        name: what such a folder is, for messages ("a SavedModel").
        marker: the entry every such folder holds ("saved_model.pb").
        entries: every entry such a folder may hold, the marker included.
    """

    name: str
    marker: str
    entries: tuple


_stop = {"requested": False, "deferring": 0}


def request_stop(requested=True):
    """From now on every write of this process raises KeyboardInterrupt instead of landing (False: writes again)."""
    _stop["requested"] = requested


def may_interrupt():
    """Whether a signal handler may raise KeyboardInterrupt now: not between the renames of a folder swap."""
    return not _stop["deferring"]


def check_not_stopped():
    """Raises KeyboardInterrupt after `request_stop` (at the end of a deferred block if in one)."""
    if _stop["requested"] and not _stop["deferring"]:
        raise KeyboardInterrupt


@contextlib.contextmanager
def _interrupts_deferred():
    """A block that a stop request does not cut: it raises KeyboardInterrupt when the block is done."""
    _stop["deferring"] += 1
    try:
        yield
    finally:
        _stop["deferring"] -= 1
    check_not_stopped()


def temporary_prefix(path):
    """The name prefix of `path`'s temporary files, to find those a killed process left behind."""
    return f".{Path(path).name}."


def _temporary_start(path):
    """How the names of `path`'s temporaries start, as `tempfile` spells them (for `_errors_naming`)."""
    return os.path.join(path.parent, temporary_prefix(path))


def previous_path(path):
    """Where `atomic_directory` keeps the folder it replaces until the new one is in place."""
    return Path(path).parent / f"{temporary_prefix(path)}old"


@contextlib.contextmanager
def atomic_write(path, overwrite=True):
    """Yields a temporary path beside `path` (same suffixes: Keras requires `.keras`) to write to.

    When the block ends without an error, the temporary file is synced to disk, given the
    usual permissions and renamed to `path`. On an error (or KeyboardInterrupt) it is
    removed and `path` is left as it was. An `OSError` of the writing (a full disk) names
    `path`.

    Raises:
        FileExistsError: `path` exists and `overwrite` is false (checked first, and again
            at the rename), or `path` is a folder.
    """
    path = Path(path)
    check_replaceable(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _errors_naming(path, _temporary_start(path)):
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=temporary_prefix(path), suffix="".join(path.suffixes))
    os.close(handle)
    temporary = Path(temporary)
    try:
        with _errors_naming(path, temporary):
            yield temporary
            with open(temporary, "rb+") as file:
                os.fsync(file.fileno())
            os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes files private
            check_not_stopped()
            if overwrite:
                os.replace(temporary, path)
            else:
                _rename_to_free_name(temporary, path)
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


def atomic_write_texts(texts, overwrite=True):
    """Writes each `{path: text}` atomically, as files that belong together (one report in two formats).

    All are written before the first is renamed into place, and an interrupt waits for the
    last rename, so a Ctrl-C or SIGTERM leaves every old file or every new one.
    """
    with contextlib.ExitStack() as stack:
        for path, text in texts.items():
            stack.enter_context(atomic_write(path, overwrite)).write_bytes(text.encode())
        check_not_stopped()
        with _interrupts_deferred():
            stack.close()  # each file's sync and rename


@contextlib.contextmanager
def temporary_directory(path):
    """Yields a hidden temporary folder beside `path` (`.NAME.*`) for intermediate files; removed at the end."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _errors_naming(path, _temporary_start(path)):
        folder = Path(tempfile.mkdtemp(dir=path.parent, prefix=temporary_prefix(path)))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def atomic_directory(path, layout, overwrite=True):
    """Yields an empty temporary folder beside `path` to fill; it becomes `path`, as a whole, if the block succeeds.

    Its files are synced to disk, then it is renamed to `path`. An existing folder of
    `layout` (a `FolderLayout`) is replaced by a swap: it is renamed to `previous_path(path)`,
    the new folder renamed into place, and the old one deleted. `path` always holds the
    old folder or the new one, whole, except between the two renames of a swap (the command
    line's Ctrl-C and SIGTERM wait for both), when a kill leaves it missing and the old folder whole under
    `previous_path`: the next `atomic_directory` or `recover_directory` of `path` renames it
    back (or, once the new folder is in place, deletes it). On an error the temporary folder
    is removed. Processes writing `path` at once each put their folder in place in turn: the
    last one stays.

    Raises:
        FileExistsError: `path` is not replaceable (`check_replaceable`).
    """
    path = Path(path)
    recover_directory(path)
    check_replaceable(path, overwrite, layout)
    with temporary_directory(path) as temporary, _errors_naming(path, temporary):
        os.chmod(temporary, 0o777 & ~_UMASK)  # mkdtemp makes folders private
        yield temporary
        _sync_tree(temporary)
        with _swaps_locked(path):
            check_not_stopped()
            _recover(path)  # a swap killed since the start
            try:
                os.rename(temporary, path)  # succeeds only onto a free name or an empty folder
            except OSError as error:
                if error.errno not in _TAKEN:
                    raise
                check_replaceable(path, overwrite, layout)  # again: the folder may have changed meanwhile
                _swap(temporary, path)
        _sync_folder(path.parent)


def _swap(new, path):
    """Puts the folder `new` in the place of the folder `path`, which is then deleted."""
    previous = previous_path(path)
    with _interrupts_deferred():  # an interrupt between the renames would leave `path` missing
        os.rename(path, previous)
        os.rename(new, path)
        _sync_folder(path.parent)
        shutil.rmtree(previous, ignore_errors=True)  # if a kill leaves it, `recover_directory` deletes it


def recover_directory(path):
    """Finishes a swap of `atomic_directory` that a kill interrupted: `path` is then the old folder or the new one."""
    path = Path(path)
    if os.path.lexists(previous_path(path)):  # else nothing to finish, without waiting for a lock
        with _swaps_locked(path):
            _recover(path)


@contextlib.contextmanager
def _swaps_locked(path):
    """Holds an advisory lock on `path`'s parent folder, so that processes swapping folders there take turns.

    Without it, a swap could rename `path` or the old folder from under another's, or put back
    as a killed swap's the old folder of a swap under way. Where folders cannot be locked (not
    POSIX, some network file systems) swaps do not wait.
    """
    if fcntl is None:
        yield
        return
    descriptor = os.open(path.parent, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(descriptor, fcntl.LOCK_EX)  # released when the descriptor closes, or the process ends
        yield
    finally:
        os.close(descriptor)


def _recover(path):
    """`recover_directory` once the lock is held."""
    previous = previous_path(path)
    if previous.is_symlink() or not previous.is_dir():
        return
    if os.path.lexists(path):
        shutil.rmtree(previous, ignore_errors=True)  # killed after the swap, while deleting the old folder
    else:
        os.rename(previous, path)  # killed between the renames: the old folder goes back


def check_replaceable(path, overwrite, layout=None):
    """Raises FileExistsError unless writing `path` loses nothing the user did not ask to replace.

    `path` may be written if it does not exist; or, with `overwrite`, if it is a file and a
    file is written (`layout` None), or a folder of `layout` (a `FolderLayout`: its marker
    and none but its entries) and such a folder is written. An empty folder may take a
    folder even without `overwrite`. Call it before slow work that would write `path`.
    """
    path = Path(path)
    if layout is not None and path.name in ("", ".."):  # `.` or `..`: a folder cannot be renamed onto it
        raise FileExistsError(f"{path} is not a name {layout.name} can be written to: name a folder, e.g. {path / 'out'}")
    if not os.path.lexists(path):
        return
    if layout is None:
        if path.is_dir():
            raise FileExistsError(f"{path} is a folder; a file is written there: choose another name")
    elif path.is_symlink() or not path.is_dir():
        kind = "link" if path.is_symlink() else "file"
        raise FileExistsError(f"{path} is a {kind}, not {layout.name}: choose another name")
    else:
        names = sorted(entry.name for entry in path.iterdir())
        if not names:
            return
        scratch = tuple(temporary_prefix(entry) for entry in layout.entries)  # left by a killed write
        foreign = [name for name in names if name not in layout.entries and not name.startswith(scratch)]
        if foreign:
            raise FileExistsError(
                f"{path} holds {describe_names(foreign)}, which writing {layout.name} there would delete; "
                "it is not replaced: choose another name, or move them first"
            )
        if layout.marker not in names:
            raise FileExistsError(
                f"{path} is not {layout.name} (no {layout.marker}); it is not replaced: choose another name"
            )
    if not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True (`--overwrite`) to replace it")


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


def _rename_to_free_name(temporary, path):
    """Renames `temporary` to `path` only if no file is there, decided at the rename.

    A hard link fails if `path` exists, however recently it appeared. On a file system
    without hard links, the check comes just before the rename (a window of microseconds).
    """
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise FileExistsError(f"{path} already exists; pass overwrite=True (`--overwrite`) to replace it") from None
    except OSError as error:
        if error.errno not in _NO_LINKS:
            raise
        check_replaceable(path, overwrite=False)
        os.replace(temporary, path)
    else:
        os.unlink(temporary)


@contextlib.contextmanager
def _errors_naming(path, temporary):
    """Re-raises an `OSError` of writing `temporary` or a file in it (a full disk) as one naming `path`."""
    try:
        yield
    except OSError as error:
        if error.errno is None or not str(error.filename or temporary).startswith(str(temporary)):
            raise
        raise OSError(error.errno, error.strerror, str(path)) from error


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
