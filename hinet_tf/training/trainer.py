"""Trains HINet from a validated config with `model.fit`, on every visible GPU or several machines.

The run folder, and how a rerun resumes or continues it, is described in docs/training.md
("Validation and the run folder"). Under `MultiWorkerMirroredStrategy` the chief writes the
run folder; every other worker keeps its backup and final model in `workers/worker_<index>/`.
"""

import contextlib
import dataclasses
import os
import re
import shutil
import sys
from pathlib import Path

import keras
import tensorflow as tf
import yaml

from hinet_tf.data import layouts
from hinet_tf.models import HINetBackbone
from hinet_tf.models import HINetImageRestorer
from hinet_tf.models import preset_utils
from hinet_tf.models.loading import load_model
from hinet_tf.optimizers import TorchAdam
from hinet_tf.training import config as config_lib
from hinet_tf.training import validation
from hinet_tf.training.callbacks import AtomicBackup
from hinet_tf.training.callbacks import AtomicCheckpoint
from hinet_tf.training.callbacks import HistoryLogger
from hinet_tf.training.callbacks import NonFiniteLoss
from hinet_tf.training.callbacks import StepScalars
from hinet_tf.training.callbacks import StopOnNonFiniteLoss
from hinet_tf.training.callbacks import StopWhenRequested
from hinet_tf.training.datasets import build_datasets
from hinet_tf.training.schedules import CosineWithWarmup
from hinet_tf.training.xla_choice import choose_jit_compile
from hinet_tf.utils import keras_internals
from hinet_tf.utils.atomic import atomic_write
from hinet_tf.utils.atomic import atomic_write_text
from hinet_tf.utils.atomic import check_writable
from hinet_tf.utils.atomic import temporary_prefix
from hinet_tf.utils.backend import require_tensorflow
from hinet_tf.utils.messages import describe_names
from hinet_tf.utils.messages import first_line

MODEL_FILE = "model.keras"
CONFIG_FILE = "config.yaml"
HISTORY_FILE = "history.csv"
SCALARS_PER_EPOCH = 20  # TensorBoard points of the training metrics per epoch
BACKUP_DIR = "backup"
# The files a run writes atomically; their temporary files (`.NAME.*`) are the run's too.
ATOMIC_FILES = (CONFIG_FILE, "best.keras", "last.keras", MODEL_FILE, HISTORY_FILE)
LOCK_FILE = ".hinet-train.lock"  # held by the process training in the folder


def make_strategy():
    """`MultiWorkerMirroredStrategy` when `TF_CONFIG` is set, else `MirroredStrategy` over all GPUs.

    Without a GPU, `MirroredStrategy` has one CPU replica.
    """
    if os.environ.get("TF_CONFIG"):
        return keras_internals.MultiWorkerStrategy()
    return tf.distribute.MirroredStrategy()


def worker_role(strategy):
    """`(is_chief, worker_index)` of this process."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True, 0
    cluster = resolver.cluster_spec().as_dict()
    is_chief = resolver.task_type == "chief" or (
        resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in cluster
    )
    return is_chief, resolver.task_id


def build_model(config, jit_compile=None):
    """The compiled `HINetImageRestorer` of a config, from `train.init_weights` if given; call inside `strategy.scope()`.

    `jit_compile` overrides `train.jit_compile`; Keras takes "auto" as XLA on a GPU only.

    Raises:
        ValueError: the model section describes no valid HINet, or the initial weights do not fit it.
    """
    try:
        model = HINetImageRestorer(HINetBackbone(**config.model.to_dict()))
    except ValueError as error:
        raise ValueError(f"config section 'model': {error}") from error
    if config.train.init_weights:
        load_initial_weights(model.backbone, config.train.init_weights)  # before compile: a fresh optimizer
    optimizer_config = config.optimizer
    schedule = CosineWithWarmup(
        peak=optimizer_config.learning_rate,
        total_steps=config.train.steps,
        floor=optimizer_config.min_learning_rate,
        warmup_steps=optimizer_config.warmup_steps,
    )
    optimizer = TorchAdam(
        schedule,
        beta_1=optimizer_config.beta_1,
        beta_2=optimizer_config.beta_2,
        epsilon=optimizer_config.epsilon,
        global_clipnorm=optimizer_config.clip_norm,
    )
    model.compile(
        optimizer=optimizer,
        loss=config.loss.name,
        stage_weights=(config.loss.weight,) * model.num_stages,
        steps_per_execution=config.train.steps_per_execution,
        jit_compile=config.train.jit_compile if jit_compile is None else jit_compile,
    )
    model.optimizer.build(model.trainable_variables)
    return model


def load_initial_weights(backbone, path):
    """Loads a model's weights into `backbone`, a `HINetBackbone` of the same architecture.

    `path` is a `.keras` file (of a task or a backbone), a `.weights.h5` file of a
    backbone, or a preset directory. Only the
    network's weights are taken: a trained run's Adam moments and step counter would skip
    the warm-up and shift the learning-rate schedule.

    Raises:
        ValueError: the file is missing, damaged, of another kind, or holds another
            architecture; one line that names it.
    """
    fit = "this model (the config's model section must describe the model in the file)"
    try:
        if str(path).endswith(".weights.h5"):
            preset_utils.read_weights(backbone, path, fit)
            return
        source = load_model(path)
        try:
            backbone.set_weights(getattr(source, "backbone", source).get_weights())
        except ValueError:
            raise ValueError(f"{path} does not fit {fit}") from None
    except (FileNotFoundError, ValueError) as error:
        raise ValueError(f"train.init_weights: {error}") from None


def _best_so_far(rows, monitor):
    """The best `monitor` value in the history `rows` of an interrupted run, so a resumed run keeps its best checkpoint."""
    values = []
    for row in rows:
        try:
            values.append(float(row[monitor]))
        except (KeyError, TypeError, ValueError):  # not logged that epoch, or a damaged row
            pass
    return max(values) if values else None


def build_callbacks(config, run_dir, val_images, is_chief, backup_dir, log=print):
    """The stop on a non-finite loss and the backup on every worker; validation, checkpoints and logs on the chief.

    The stop comes first: no callback sees an epoch that ends on a non-finite loss.
    Validation comes next: the callbacks after it read its `val_psnr`. The backup comes
    last: a kill between the callbacks of an epoch makes the resumed run repeat that epoch,
    never skip its checkpoints and history row.
    """
    callbacks = [StopOnNonFiniteLoss(), StopWhenRequested()]
    if is_chief:
        log_dir = run_dir / "logs"
        monitor = "psnr"
        if val_images is not None:
            monitor = validation.MONITOR
            callbacks.append(
                validation.Validation(
                    val_images,
                    tile=config.data.val_tile,
                    **layouts.scoring(config.data.layout),
                    log_dir=log_dir / "images",
                    log_images=config.train.log_images,
                )
            )
        history = HistoryLogger(run_dir / HISTORY_FILE)
        callbacks += [
            AtomicCheckpoint(run_dir / "best.keras", monitor, best=_best_so_far(history.rows, monitor)),
            AtomicCheckpoint(run_dir / "last.keras"),
            StepScalars(log_dir, every=max(1, config.train.steps_per_epoch // SCALARS_PER_EPOCH)),
            history,
        ]
    callbacks.append(AtomicBackup(backup_dir, log=log))
    return callbacks


def check_run_dir(config, run_dir):
    """Checks, writing nothing, that `run_dir` can take this run: absent, empty, or this run, to resume or continue.

    A folder is a run's only if it holds the run's `config.yaml`, so files of anything else
    are never touched. A run is continued when `train.steps` is the only change, raised.
    Returns the steps of the run already there, or None.

    Raises:
        ValueError: the folder cannot be written, holds something other than a run, a
            finished run of as many steps, or a run with another config or more steps.
    """
    run_dir = Path(run_dir)
    check_writable(run_dir)
    if not run_dir.is_dir():
        return
    config_path = run_dir / CONFIG_FILE
    if not config_path.is_file():
        foreign = sorted(path.name for path in run_dir.iterdir() if not _is_run_scratch(path))
        if foreign:
            raise ValueError(
                f"{run_dir} is not empty and is not a run folder (no {CONFIG_FILE}); "
                f"it holds {describe_names(foreign)}. "
                "Choose a new or empty --out folder"
            )
        return
    try:
        saved = config_lib.validate(config_lib.read_yaml(config_path.read_text()))
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise ValueError(f"{config_path} is not the config of a hinet-tf run ({first_line(error)})") from None
    saved, wanted = saved.to_dict(), config.to_dict()
    changed = [
        f"{section}.{key}: {saved[section][key]!r} -> {value!r}"
        for section, values in wanted.items()
        for key, value in values.items()
        if saved[section][key] != value and (section, key) != ("train", "steps")
    ]
    if changed:
        raise ValueError(
            f"{run_dir} holds a run with another config ({'; '.join(changed)}); "
            "rerun with the same config to resume it, or choose another --out folder"
        )
    saved_steps, steps = saved["train"]["steps"], config.train.steps
    if steps < saved_steps:
        raise ValueError(
            f"{run_dir} holds a run of {saved_steps} steps: train.steps can be raised to continue it, "
            f"not lowered to {steps}; choose another --out folder"
        )
    if steps == saved_steps and is_finished(run_dir):
        raise ValueError(
            f"{run_dir} already holds a finished run of {steps} steps ({MODEL_FILE}); raise train.steps "
            f"(e.g. --set train.steps={2 * steps}) to continue it, or choose another --out folder"
        )
    return saved_steps


def is_finished(out_dir):
    """Whether `out_dir` holds a finished run: a model and no backup (`finish` writes the one, then deletes the other)."""
    return (out_dir / MODEL_FILE).exists() and not _has_backup(out_dir / BACKUP_DIR)


def _has_backup(backup_dir):
    return (backup_dir / AtomicBackup.RECORD).exists()


def _continue_finished_run(run, config, done, log):
    """Makes a finished run of `done` steps an interrupted one at its last step: its model, with the optimizer, becomes
    the backup. (The optimizer's count is not the steps done: loss scaling skips the steps whose gradients overflow.)"""
    model, backup = run.model, run.fit_arguments["callbacks"][-1]
    model.load_weights(str(run.out_dir / MODEL_FILE))
    backup.save(model, done // config.train.steps_per_epoch)
    log(
        f"Continuing the finished run in {run.out_dir} from step {done} to {config.train.steps} "
        f"(the learning-rate schedule now spans {config.train.steps} steps)."
    )


def prepare_run_dir(config, run_dir):
    """Checks the run folder (`check_run_dir`), creates it and writes `config.yaml`, or clears up after a kill.

    Raises:
        ValueError: as `check_run_dir`.
    """
    check_run_dir(config, run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    for path in run_dir.iterdir():
        if path.is_file() and _is_run_scratch(path) and path.name != LOCK_FILE:
            path.unlink()  # a temporary file of a killed run
    config_path = run_dir / CONFIG_FILE
    if not config_path.exists():
        atomic_write_text(config_path, config_lib.dump_config(config))


def _is_run_scratch(path):
    """Whether `path` in a run folder is the workers' folder or a temporary file of the run's own."""
    temporaries = tuple(temporary_prefix(name) for name in ATOMIC_FILES)
    return path.name in ("workers", LOCK_FILE) or path.name.startswith(temporaries)


def _lock_folder(folder):
    """Holds `folder` for this process with an advisory lock (released when the process ends) and returns its file.

    Raises:
        ValueError: another process holds it: a second `hinet train` with the same `--out`.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX: runs are not locked
        return None
    folder.mkdir(parents=True, exist_ok=True)
    file = open(folder / LOCK_FILE, "a+")
    try:
        fcntl.lockf(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        file.seek(0)
        holder = file.read().strip() or "unknown"
        file.close()
        raise ValueError(
            f"{folder} is in use by another hinet train (process {holder}); wait for it or choose another --out"
        )
    file.seek(0)
    file.truncate()
    file.write(str(os.getpid()))
    file.flush()
    return file


@dataclasses.dataclass
class TrainingRun:
    """Everything `model.fit` needs, set up by `setup`: call `fit(run)`, then `finish(run)`."""

    model: keras.Model
    fit_arguments: dict
    out_dir: Path
    backup_dir: Path
    lock: object = None  # the open lock file of `out_dir`, held while the run lives


def check_replicas(train_config, replicas):
    """Raises a one-line ValueError if the `train` section cannot run on `replicas` devices."""
    if train_config.batch_size % replicas:
        raise ValueError(f"train.batch_size ({train_config.batch_size}) must be a multiple of the {replicas} replicas")
    if train_config.jit_compile is True and replicas > 1:
        # XLA cannot reach the other replicas' variables ("located in device CPU:1 from device CPU:0").
        raise ValueError(f"train.jit_compile: XLA cannot compile the step over {replicas} replicas; set it to false")


def setup(config, run_dir, log=print):
    """Builds the strategy, model, datasets and callbacks of a validated config in `run_dir`.

    Nothing is written before the config, the model and every data file are checked.

    Raises:
        ValueError: bad data, an incompatible run folder, sizes the model cannot take, or a model
            too big for the memory.
    """
    require_tensorflow("hinet train (tf.data, tf.distribute)")
    run_dir = Path(run_dir)
    saved_steps = check_run_dir(config, run_dir)  # before the slow part: building the model and checking the data
    train_config = config.train
    keras.utils.set_random_seed(train_config.seed)
    keras.mixed_precision.set_global_policy("mixed_float16" if train_config.mixed_precision else "float32")
    strategy = make_strategy()
    replicas = strategy.num_replicas_in_sync
    check_replicas(train_config, replicas)
    with strategy.scope(), _memory_named():
        jit_compile = train_config.jit_compile
        if jit_compile == "auto":
            batch_shape = (train_config.batch_size, train_config.crop_size, train_config.crop_size, 3)
            jit_compile = choose_jit_compile(lambda setting: build_model(config, setting), batch_shape, replicas, log)
            keras.utils.set_random_seed(train_config.seed)  # the timed models drew from it
        model = build_model(config, jit_compile)
    for name, size in (("train.crop_size", train_config.crop_size), ("data.val_tile", config.data.val_tile)):
        if size and size % model.size_multiple:
            raise ValueError(
                f"{name} ({size}) must be a multiple of {model.size_multiple} "
                f"for a model of depth {config.model.depth}"
            )
    train_batches, val_images, description = build_datasets(config)

    is_chief, worker_index = worker_role(strategy)
    out_dir = run_dir if is_chief else run_dir / "workers" / f"worker_{worker_index}"
    lock = _lock_folder(out_dir)  # before anything in it is cleared up or written
    if is_chief:
        prepare_run_dir(config, run_dir)
    steps_per_epoch = train_config.steps_per_epoch
    epochs = train_config.steps // steps_per_epoch
    backup_dir = out_dir / BACKUP_DIR
    log(
        f"Training HINet ({model.count_params():,} parameters) on {description}: {train_config.steps} steps "
        f"of batch {train_config.batch_size} over {replicas} replica(s), {epochs} epochs of {steps_per_epoch} steps."
    )
    continuing = is_finished(out_dir)  # check_run_dir let it through: train.steps was raised
    if train_config.init_weights and not continuing and not _has_backup(backup_dir):
        log(f"Starting from the weights of {train_config.init_weights}.")
    fit_arguments = {
        "x": train_batches,
        "epochs": epochs,
        "steps_per_epoch": steps_per_epoch,
        "shuffle": False,  # the datasets shuffle themselves
        "callbacks": build_callbacks(config, run_dir, val_images, is_chief, backup_dir, log),
        # The progress bar redraws its line with control characters: a log file gets a line per epoch.
        "verbose": 1 if is_chief and sys.stdout.isatty() else 2,
    }
    run = TrainingRun(model, fit_arguments, out_dir, backup_dir, lock)
    with strategy.scope():
        if continuing:
            _continue_finished_run(run, config, saved_steps, log)
        fit_arguments["initial_epoch"] = fit_arguments["callbacks"][-1].restore(model)
    if is_chief and (run_dir / CONFIG_FILE).read_text() != config_lib.dump_config(config):
        atomic_write_text(run_dir / CONFIG_FILE, config_lib.dump_config(config))  # after the backup: steps raised
    return run


def finish(run, log=print):
    """Saves the trained model as `model.keras` and removes the crash backup."""
    path = run.out_dir / MODEL_FILE
    with atomic_write(path) as temporary:
        run.model.save(temporary)
    log(f"Saved {path} after {int(run.model.optimizer.iterations.numpy())} optimizer steps.")
    shutil.rmtree(run.backup_dir, ignore_errors=True)


def fit(run):
    """Runs `model.fit`.

    Raises:
        NonFiniteLoss: the loss became NaN or infinite; nothing of that epoch was saved. The
            message names the last finite checkpoint.
        ValueError: an image that a check of headers only let through does not decode, or the
            model and batch do not fit in memory.
    """
    try:
        with _memory_named():
            run.model.fit(**run.fit_arguments)
    except tf.errors.InvalidArgumentError as error:
        reason = _decoding_failure(error)
        if reason is None:
            raise
        raise ValueError(
            f"a training image could not be decoded ({reason}), which a check of headers only does not see: "
            "check the data with data.check: full (shards: hinet prepare --check full) to name the file"
        ) from None
    except NonFiniteLoss as error:
        steps_per_epoch = run.fit_arguments["steps_per_epoch"]
        finished_epochs = (int(run.model.optimizer.iterations.numpy()) - 1) // steps_per_epoch
        last = run.out_dir / "last.keras"
        if finished_epochs and last.exists():
            kept = f"the last finite checkpoint is {last}, of step {finished_epochs * steps_per_epoch}"
        else:
            kept = "no epoch finished, so no checkpoint was saved"
        raise NonFiniteLoss(f"{error}; training stopped and no model was saved: {kept}") from None


@contextlib.contextmanager
def _memory_named():
    """Turns TensorFlow's out-of-memory error (a traceback) into one line saying which settings set the size.

    TensorFlow raises the same error for a full disk (a summary writer's): that becomes an `OSError`.
    """
    try:
        yield
    except tf.errors.ResourceExhaustedError as error:
        found = re.search(r"OOM when allocating tensor with shape\[[^\]]*\]", error.message)
        if not found:
            raise OSError(re.sub(r"\{\{[^}]*\}\}\s*", "", first_line(error.message))) from None
        what = found.group(0)
        raise ValueError(
            f"out of memory ({what}): lower model.width, train.batch_size, train.crop_size or data.val_tile"
        ) from None


def _decoding_failure(error):
    """The reason TensorFlow gives when an image decoder failed in the input pipeline, else None."""
    lines = error.message.splitlines()
    for before, line in zip(lines, lines[1:]):
        if re.search(r"\{\{node [^}]*Decode(Image|Png|Jpeg|Bmp|Gif)\}\}", line):
            return before.rsplit(": ", 1)[-1].strip()
    return None


def train(config, run_dir, log=print):
    """Trains (or resumes, or continues) the run of a validated config in `run_dir`; returns the trained model.

    Raises:
        ValueError: as `setup`.
        NonFiniteLoss: as `fit`.
    """
    run = setup(config, run_dir, log)
    fit(run)
    finish(run, log)
    return run.model
