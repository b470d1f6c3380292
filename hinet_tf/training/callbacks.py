"""Callbacks of the trainer beyond Keras' own: crash-safe checkpoints and history."""

import csv
import io
from pathlib import Path

import keras

from hinet_tf.utils.atomic import atomic_write
from hinet_tf.utils.atomic import atomic_write_text


class AtomicModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """`ModelCheckpoint` that saves to a temporary file beside the checkpoint, then renames it.

    A kill while saving leaves the previous checkpoint whole (Keras writes in place).
    """

    def _save_model(self, epoch, batch, logs):
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, batch, logs, filepath):
            return
        with atomic_write(filepath) as temporary:
            if self.save_weights_only:
                self.model.save_weights(temporary, overwrite=True)
            else:
                self.model.save(temporary, overwrite=True)


def read_history(path):
    """`(columns, rows)` of a history CSV file; `([], [])` if there is none."""
    path = Path(path)
    if not path.is_file():
        return [], []
    with open(path, newline="") as file:
        reader = csv.DictReader(file)
        return list(reader.fieldnames or []), list(reader)


class HistoryLogger(keras.callbacks.Callback):
    """Logs each epoch's metrics as a row of a CSV file, which a kill at any instant leaves valid.

    Each epoch rewrites the (small) file atomically. A resumed run keeps the columns of the
    file and replaces rows of epochs it repeats (those after the backup it resumed from).

    Args:
        path: the CSV file.
    """

    def __init__(self, path):
        super().__init__()
        self.path = Path(path)

    def on_epoch_end(self, epoch, logs=None):
        columns, rows = read_history(self.path)
        columns = columns or ["epoch", *sorted(logs or {})]
        rows = [row for row in rows if int(row["epoch"]) < epoch]
        rows.append({"epoch": epoch, **{key: float(value) for key, value in (logs or {}).items()}})
        text = io.StringIO()
        writer = csv.DictWriter(text, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.path, text.getvalue())
