"""Callbacks of the trainer beyond Keras' own: crash-safe checkpoints, backup and history, a stop on a
non-finite loss, and scalars at optimizer steps."""

import csv
import io
import json
import math
import warnings
from pathlib import Path

import keras
import tensorflow as tf

from hinet_tf.utils.atomic import atomic_write
from hinet_tf.utils.atomic import atomic_write_text
from hinet_tf.utils.atomic import check_not_stopped
from hinet_tf.utils.messages import first_line


class AtomicCheckpoint(keras.callbacks.Callback):
    """Saves the model after each epoch to a temporary file beside `path`, then renames it.

    A kill while saving leaves the previous checkpoint whole (Keras' `ModelCheckpoint`
    writes in place).

    Args:
        path: the `.keras` file.
        monitor: a metric of the epoch's logs; if given, the model is saved only when the
            metric is finite and higher than every earlier value, else after every epoch.
        best: the highest value of `monitor` so far, from a run this one resumes.
    """

    def __init__(self, path, monitor=None, best=None):
        super().__init__()
        self.path, self.monitor, self.best = str(path), monitor, best

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor is not None:
            value = (logs or {}).get(self.monitor)
            if value is None or not math.isfinite(value) or (self.best is not None and value <= self.best):
                return
            self.best = float(value)
        with atomic_write(self.path) as temporary:
            self.model.save(temporary, overwrite=True)


def read_history(path):
    """`(columns, rows)` of a history CSV file; `([], [])` if there is none.

    Raises:
        ValueError: the file is no history (not UTF-8 CSV, no `epoch` column, or a row
            without an epoch number: edited by hand, say).
    """
    path = Path(path)
    if not path.is_file():
        return [], []
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:  # a spreadsheet's save adds a BOM
            reader = csv.DictReader(file)
            columns, rows = list(reader.fieldnames or []), list(reader)
    except (UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"{path} is not a CSV file ({first_line(error)})") from None
    if "epoch" not in columns:
        raise ValueError(f"{path} has no epoch column")
    if not all(str(row["epoch"]).isdigit() for row in rows):
        raise ValueError(f"{path} has a row without an epoch number")
    return columns, rows


class HistoryLogger(keras.callbacks.Callback):
    """Logs each epoch's metrics as a row of a CSV file, which a kill at any instant leaves valid.

    Each epoch rewrites the (small) file atomically. A resumed run keeps the columns and rows
    of the file (`columns`, `rows`, read once), replacing the rows of epochs it repeats (those
    after the backup it resumed from); a file that is no history is renamed `NAME.damaged`.

    Args:
        path: the CSV file.
    """

    def __init__(self, path):
        super().__init__()
        self.path = Path(path)
        try:
            self.columns, self.rows = read_history(self.path)
        except ValueError as error:  # kept aside, not overwritten: the rows are the user's record of the run
            kept = self.path.with_name(f"{self.path.name}.damaged")
            self.path.replace(kept)
            warnings.warn(f"{error}; it is kept as {kept.name} and a new history starts")
            self.columns, self.rows = [], []

    def on_epoch_end(self, epoch, logs=None):
        self.columns = self.columns or ["epoch", *sorted(logs or {})]
        self.rows = [row for row in self.rows if int(row["epoch"]) < epoch]
        self.rows.append({"epoch": epoch, **{key: float(value) for key, value in (logs or {}).items()}})
        text = io.StringIO()
        writer = csv.DictWriter(text, self.columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write_text(self.path, text.getvalue())


KERAS_BACKUP_WEIGHTS = "latest.weights.h5"  # the weights file of Keras' own backup (and of runs before this one)


class AtomicBackup(keras.callbacks.Callback):
    """Backs up the model with its optimizer after each epoch so that a kill at any instant leaves it loadable.

    Each backup's weights go to a file of their own, written atomically; then
    `training_metadata.json`, the commit record (also atomic), names that file and the
    previous backup's. `restore` loads the newest backup that loads before `fit`, which
    then starts at the epoch it returns (`initial_epoch`).

    Args:
        backup_dir: the backup's folder, which holds nothing else.
        log: prints the line saying where the run resumes.
    """

    RECORD = "training_metadata.json"

    def __init__(self, backup_dir, log=print):
        super().__init__()
        self.folder = Path(backup_dir)
        self.log = log
        self._saved = None  # the newest complete backup: where the run resumed, then each save

    @property
    def metadata_path(self):
        return self.folder / self.RECORD

    def backups(self):
        """The committed backups, newest first: dicts of `epoch` and `weights` (a file name)."""
        if not self.metadata_path.exists():
            return []
        try:
            newest = json.loads(self.metadata_path.read_text())
            states = [newest, newest.get("previous")]
            return [
                {"epoch": int(state["epoch"]), "weights": str(state.get("weights", KERAS_BACKUP_WEIGHTS))}
                for state in states
                if state
            ]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            warnings.warn(f"the backup record {self.metadata_path} does not load ({first_line(error)}); starting afresh")
            return []

    def restore(self, model):
        """Loads the newest backup that loads into `model` (a built, compiled model); returns its epoch, 0 if none.

        A backup that does not load gets one warning line; the run then falls back to the
        previous backup, or starts afresh from its initial weights and says so.
        """
        backups = self.backups()
        self._remove_others(backups)
        state_variables = [*model.weights, *model.optimizer.variables]
        fresh = [variable.numpy() for variable in state_variables] if backups else None
        for index, state in enumerate(backups):
            path = self.folder / state["weights"]
            try:
                model.load_weights(str(path))
            except Exception as error:  # whatever a file that does not load raises: h5py, Keras or OS errors
                for variable, value in zip(state_variables, fresh):
                    variable.assign(value)  # undo a partial load
                then = "falling back to the previous backup" if index + 1 < len(backups) else "starting afresh"
                warnings.warn(f"the backup {path} does not load ({first_line(error)}); {then}")
                continue
            self._saved = state
            step = int(model.optimizer.iterations.numpy())
            self.log(f"Resuming from the backup in {self.folder}: epoch {state['epoch']}, step {step}.")
            return state["epoch"]
        return 0

    def on_epoch_end(self, epoch, logs=None):
        self.save(self.model, epoch + 1)

    def save(self, model, epoch):
        """Backs up `model`'s state as that at the end of `epoch` epochs."""
        state = {"epoch": epoch, "weights": f"epoch_{epoch}.weights.h5"}
        with atomic_write(self.folder / state["weights"]) as temporary:
            model.save_weights(str(temporary), overwrite=True)
        atomic_write_text(self.metadata_path, json.dumps({**state, "previous": self._saved}))
        self._remove_others([state, self._saved])
        self._saved = state

    def _remove_others(self, backups):
        """Deletes the files in the folder but the record and the weights of `backups` (states or None)."""
        if not self.folder.is_dir():
            return
        kept = {self.metadata_path.name, *(state["weights"] for state in backups if state)}
        for path in self.folder.iterdir():
            if path.is_file() and path.name not in kept:
                path.unlink()


class NonFiniteLoss(RuntimeError):
    """Training stopped at a loss that is not finite (NaN or infinite)."""


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Raises `NonFiniteLoss` at the first batch whose loss is not finite.

    Unlike `TerminateOnNaN`, which lets the epoch end, no callback after it sees the
    epoch: no checkpoint, backup or model of non-finite weights is written. Put it first.
    """

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            step = int(self.model.optimizer.iterations.numpy())
            raise NonFiniteLoss(f"the loss became {float(loss)} at optimizer step {step}")


class StopWhenRequested(keras.callbacks.Callback):
    """Raises KeyboardInterrupt after the batch under way once a stop was requested (`atomic.request_stop`).

    The command line requests one on Ctrl-C or SIGTERM, whose KeyboardInterrupt Python drops
    when it lands in a finalizer: without this check, training went on to the epoch's end.
    """

    def on_train_batch_end(self, batch, logs=None):
        check_not_stopped()


class StepScalars(keras.callbacks.Callback):
    """TensorBoard scalars at optimizer steps: training metrics every `every` steps, validation ones per epoch.

    Keras' `TensorBoard` logs scalars against epochs (or batches counted afresh by each
    process), while the validation images are logged against optimizer steps. Each training
    point is the mean over the steps since the previous point, found from Keras' running
    means of the epoch.

    Args:
        log_dir: the TensorBoard folder; writes `train/` and `validation/` in it.
        every: steps between training points.
    """

    def __init__(self, log_dir, every):
        super().__init__()
        self.log_dir = Path(log_dir)
        self.every = every
        self._writers = {}

    def _write(self, folder, values):
        if folder not in self._writers:
            self._writers[folder] = tf.summary.create_file_writer(str(self.log_dir / folder))
        step = int(self.model.optimizer.iterations.numpy())
        with self._writers[folder].as_default():
            for name, value in values.items():
                tf.summary.scalar(name, value, step=step)

    def on_epoch_begin(self, epoch, logs=None):
        self._seen, self._means = 0, {}

    def on_train_batch_end(self, batch, logs=None):
        seen = batch + 1  # batches of this epoch so far; logs hold their running means
        if seen - self._seen < self.every:
            return
        means = {name: float(value) for name, value in (logs or {}).items()}
        values = {
            name: (seen * mean - self._seen * self._means.get(name, 0.0)) / (seen - self._seen)
            for name, mean in means.items()
        }
        values["learning_rate"] = float(self.model.optimizer.learning_rate)
        self._write("train", values)
        self._seen, self._means = seen, means

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        validation = {name.removeprefix("val_"): float(value) for name, value in logs.items() if name.startswith("val_")}
        if validation:
            self._write("validation", validation)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
