"""`hinet train` end to end on tiny generated folders: loss falls, bad data stops it, fine-tuning starts
from given weights, runs killed at random instants resume, a finished run continues, a NaN loss fails
the run, and two MultiWorkerMirroredStrategy workers end with identical weights.

The subprocess tests wait on events (a line printed, a file changed, a process ended), never on a
fixed wall-clock deadline; their only deadlines are safety nets against a hung process, scaled by
the machine's measured slowness (`deadline`).
"""

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import yaml
from PIL import Image

from hinet_tf.cli.main import main
from hinet_tf.training import config as config_lib
from hinet_tf.training.datasets import build_datasets
from hinet_tf.training.validation import Validation

# A 2-level, width-4 HINet on 32x32 crops: a training step takes milliseconds, and tracing it (most
# of each run here) a few seconds.
TINY = [
    "model.width=4",
    "model.depth=2",
    "train.batch_size=4",
    "train.crop_size=32",
    "data.val_crop=32",
    "data.val_images=2",
    "optimizer.learning_rate=2e-3",
]


def _smooth_image(seed, height=48, width=56):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    phases = rng.uniform(0, 6, 3)
    image = np.stack([0.5 + 0.4 * np.sin(3 * x + 2 * y + phase) for phase in phases], axis=-1)
    return (image * 255).astype(np.uint8)


def _photo_folder(root, count=6):
    root.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        Image.fromarray(_smooth_image(index)).save(root / f"photo_{index}.png")
    return root


def _pair_folder(root, count=4):
    for index in range(count):
        clean = _smooth_image(index)
        for folder, image in (("input", clean // 2), ("target", clean)):
            (root / folder).mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(root / folder / f"{index}.png")
    return root


def _history(run_dir):
    with open(run_dir / "history.csv", newline="") as file:
        return list(csv.DictReader(file))


def _options(*overrides):
    return [argument for override in (*TINY, *overrides) for argument in ("--set", override)]


def _hinet(*arguments):
    return [sys.executable, "-m", "hinet_tf.cli.main", *arguments]


def _train_command(photos, run_dir, *overrides):
    """`hinet train` on the photo recipe as a subprocess command, without validation or image logs."""
    options = _options(*overrides, "data.val_split=null", "train.log_images=0")
    return _hinet("train", "configs/photos_cpu.yaml", "--data", str(photos), "--out", str(run_dir), *options)


def _env(**extra):
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "PYTHONUNBUFFERED": "1", **extra}


# A pure-Python loop that takes about 0.1 s on an idle 2-core CI machine.
_REFERENCE_SECONDS = 0.1


def _reference_workload():
    return sum(index * index for index in range(1_000_000))


@pytest.fixture(scope="module")
def deadline():
    """`deadline(seconds)`: `(seconds scaled by the machine's slowness, a note for failure messages)`.

    The slowness is the time of a reference workload measured now, over its time on an idle machine
    (at least 1): a loaded machine gets proportionally longer before a process is deemed hung.
    """
    start = time.perf_counter()
    _reference_workload()
    slowness = max(1.0, (time.perf_counter() - start) / _REFERENCE_SECONDS)

    def scaled(seconds):
        return seconds * slowness, f"{seconds} s scaled by the measured slowness of this machine (x{slowness:.1f})"

    return scaled


def _tensorboard_scalars(folder):
    """`{tag: [(step, value), ...]}` of every event file in a TensorBoard folder."""
    import tensorflow as tf

    scalars = {}
    for path in sorted(folder.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                number = float(tf.make_ndarray(value.tensor)) if value.HasField("tensor") else value.simple_value
                scalars.setdefault(value.tag, []).append((event.step, number))
    return scalars


def test_train_on_photos_loss_falls_and_writes_the_run(tmp_path, capsys):
    photos = _photo_folder(tmp_path / "photos")
    run_dir = tmp_path / "run"
    overrides = _options(
        "train.steps=40",
        "train.steps_per_epoch=20",
        "optimizer.learning_rate=5e-3",
        "data.degradations=[{type: gaussian_noise, sigma: 50}]",
    )
    assert main(["train", "configs/photos_cpu.yaml", "--data", str(photos), "--out", str(run_dir), *overrides]) == 0

    history = _history(run_dir)
    assert len(history) == 2 and float(history[-1]["loss"]) < float(history[0]["loss"]) - 0.3, history
    assert {"psnr_stage1", "psnr_stage2", "val_psnr"} <= set(history[0])
    for name in ("model.keras", "best.keras", "last.keras", "config.yaml"):
        assert (run_dir / name).is_file(), name
    assert not (run_dir / "backup").exists()
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert saved["model"]["width"] == 4 and saved["data"]["root"] == str(photos.resolve())
    model = keras.saving.load_model(run_dir / "model.keras")
    assert int(model.optimizer.iterations.numpy()) == 40

    # Scalars against optimizer steps, like the images: training ones at every step here (20 steps per
    # epoch: one point per step), validation ones at each epoch's last step.
    train_scalars = _tensorboard_scalars(run_dir / "logs" / "train")
    assert {"loss", "psnr_stage1", "psnr_stage2", "learning_rate"} <= set(train_scalars)
    assert [step for step, _ in train_scalars["loss"]] == list(range(1, 41))
    assert [step for step, _ in _tensorboard_scalars(run_dir / "logs" / "validation")["psnr"]] == [20, 40]
    first_epoch_losses = [value for _, value in train_scalars["loss"][:20]]
    assert np.mean(first_epoch_losses) == pytest.approx(float(history[0]["loss"]), abs=1e-3)  # per step, not running
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    images = EventAccumulator(str(run_dir / "logs" / "images"), size_guidance={"tensors": 0}).Reload()
    (image_tag, *_) = [tag for tag in images.Tags()["tensors"] if tag.startswith("degraded | restored | target")]
    assert [event.step for event in images.Tensors(image_tag)] == [20, 40]

    # Output to a file or pipe (here captured) is plain lines: no progress bar redrawn with control codes.
    printed = capsys.readouterr().out
    assert "Epoch 2/2" in printed and "\x1b[" not in printed and "\r" not in printed


    # The same command on a finished run refuses to start over.
    assert main(["train", "configs/photos_cpu.yaml", "--data", str(photos), "--out", str(run_dir), *overrides]) == 2
    assert f"{run_dir} already holds a finished run of 40 steps" in capsys.readouterr().err


def test_best_checkpoint_has_the_best_official_validation_score(tmp_path):
    """Whole validation images on the 256-pixel grid, PSNR of 8-bit outputs: best.keras is the epoch that scored highest."""
    data = tmp_path / "gopro"
    for split in ("train", "test"):
        _pair_folder(data / split, count=3)
    run_dir = tmp_path / "run"
    overrides = _options("model.hin_levels=null", "train.steps=6", "train.steps_per_epoch=2", "data.val_crop=null")
    assert main(["train", "configs/gopro.yaml", "--data", str(data), "--out", str(run_dir), *overrides]) == 0
    history = _history(run_dir)
    assert len(history) == 3 and len({row["val_psnr"] for row in history}) == 3

    config = config_lib.validate(yaml.safe_load((run_dir / "config.yaml").read_text()))
    assert config.data.val_tile == 256
    _, val_images, _ = build_datasets(config)
    scores = Validation(val_images, tile=config.data.val_tile)
    scores.set_model(keras.saving.load_model(run_dir / "best.keras"))
    scores.on_train_begin()
    logs = {}
    scores.on_epoch_end(0, logs)
    assert logs["val_psnr"] == pytest.approx(max(float(row["val_psnr"]) for row in history), abs=1e-6)


def test_bad_data_stops_before_anything_is_written(tmp_path, capsys):
    data = _pair_folder(tmp_path / "data")
    broken = data / "target" / "2.png"
    broken.write_bytes(broken.read_bytes()[:100])
    Image.fromarray(_smooth_image(0, 40, 40)).save(data / "target" / "3.png")
    overrides = _options("data.layout=pairs", "model.hin_levels=null", "train.steps=4", "train.steps_per_epoch=2")
    assert main(["train", "configs/gopro.yaml", "--data", str(data), "--out", str(tmp_path / "run"), *overrides]) == 2
    error = capsys.readouterr().err
    assert f"Cannot read image {broken}" in error and "Size mismatch" in error and "3.png is 56x48 but" in error
    assert not (tmp_path / "run").exists()
    (data / "input" / "extra.png").write_bytes((data / "input" / "0.png").read_bytes())
    assert main(["train", "configs/gopro.yaml", "--data", str(data), "--out", str(tmp_path / "run"), *overrides]) == 2
    assert "extra.png" in capsys.readouterr().err


def test_an_image_that_only_a_header_check_let_through_is_one_line(tmp_path, capsys):
    photos = _photo_folder(tmp_path / "photos")
    (photos / "photo_1.png").write_bytes((photos / "photo_1.png").read_bytes()[:100])  # a valid header, cut short
    overrides = _options("data.check=header", "data.val_split=null", "train.steps=2", "train.steps_per_epoch=2")
    assert main(["train", "configs/photos_cpu.yaml", "--data", str(photos), "--out", str(tmp_path / "run"), *overrides]) == 2
    error = capsys.readouterr().err
    assert "hinet: error: a training image could not be decoded (" in error and "data.check: full" in error
    assert len(error.strip().splitlines()) == 1


def test_rerun_with_another_config_is_refused(tmp_path, capsys):
    from hinet_tf.training import config as config_lib
    from hinet_tf.training.trainer import prepare_run_dir

    config = config_lib.load_config("configs/photos_cpu.yaml")
    prepare_run_dir(config, tmp_path)
    prepare_run_dir(config, tmp_path)  # the same config: a resume
    config = config.replace(train={"batch_size": 16})
    with pytest.raises(ValueError, match=r"another config \(train.batch_size: 8 -> 16\)"):
        prepare_run_dir(config, tmp_path)


def test_fine_tuning_starts_from_the_given_weights(tmp_path, capsys):
    from hinet_tf.models import HINetBackbone
    from hinet_tf.training import config as config_lib
    from hinet_tf.training.trainer import build_model

    photos = _photo_folder(tmp_path / "photos")
    start = build_model(config_lib.load_config("configs/photos_cpu.yaml", TINY))  # the optimizer of a run
    noisy = np.random.default_rng(0).uniform(size=(2, 32, 32, 3)).astype("float32")
    start.fit(noisy, noisy, epochs=3, verbose=0)  # a saved optimizer state: 3 steps, Adam moments
    start.save(tmp_path / "start.keras")
    overrides = _options(
        "train.steps=2", "train.steps_per_epoch=2", "optimizer.learning_rate=1e-9", "optimizer.min_learning_rate=0"
    )

    def train(weights, run):
        arguments = ["--set", f"train.init_weights={weights}"]
        return main(["train", "configs/photos_cpu.yaml", "--data", str(photos), "--out", str(tmp_path / run),
                     *overrides, *arguments])

    assert train(tmp_path / "start.keras", "tuned") == 0
    assert f"Starting from the weights of {tmp_path / 'start.keras'}." in capsys.readouterr().out
    tuned = keras.saving.load_model(tmp_path / "tuned" / "model.keras")
    for before, after in zip(start.get_weights(), tuned.get_weights()):
        np.testing.assert_allclose(after, before, atol=1e-6)  # two steps at a learning rate of 1e-9
    assert int(tuned.optimizer.iterations.numpy()) == 2  # the optimizer started afresh, not at step 3

    HINetBackbone(width=8, depth=3).save(tmp_path / "wider.keras")
    for weights, message in (
        (tmp_path / "wider.keras", f"train.init_weights: {tmp_path / 'wider.keras'} does not fit this model"),
        (tmp_path / "missing.keras", f"train.init_weights: {tmp_path / 'missing.keras'} does not exist; give a path"),
        ("missing.keras", f"missing.keras does not exist (a relative path is read from the working folder, {Path.cwd()})"),
        ("hinet_photo_denoise", "train.init_weights: hinet_photo_denoise does not fit this model"),  # a preset name
        ("hinet_sidd_1x", "train.init_weights: hinet_sidd_1x is an architecture without weights; leave"),
        (tmp_path / "photos" / "photo_0.png", f"{tmp_path / 'photos' / 'photo_0.png'} is not a .keras file"),
    ):
        assert train(weights, "refused") == 2
        assert message in capsys.readouterr().err
        assert not (tmp_path / "refused").exists()


def _wait_for_line(process, text):
    """Reads `process`'s output until a line holds `text`; fails with the output if it ends first."""
    lines = []
    for line in process.stdout:
        lines.append(line)
        if text in line:
            return
    pytest.fail(f"the process ended (exit {process.wait()}) without printing {text!r}:\n{''.join(lines)[-3000:]}")


def _run(command, deadline, seconds):
    """Runs `command` to its end; the deadline only catches a hung process."""
    timeout, note = deadline(seconds)
    try:
        return subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{command[3]} did not end within {timeout:.0f} s ({note}); it seems hung")


def _config(photos, *overrides):
    """The config `hinet train configs/photos_cpu.yaml --data PHOTOS --set ...` runs (see `_options`)."""
    config = config_lib.load_config("configs/photos_cpu.yaml", [*TINY, *overrides])
    return config.replace(data={"root": str(photos.resolve())})


def _warnings(text):
    return [line for line in text.splitlines() if line.startswith("hinet: warning:")]


# Without validation or image logs: 2 epochs of 2 steps.
QUICK = ("train.steps=4", "train.steps_per_epoch=2", "data.val_split=null", "train.log_images=0")


def _train_in_process(photos, run_dir, *overrides):
    arguments = ["--data", str(photos), "--out", str(run_dir), *_options(*overrides)]
    return main(["train", "configs/photos_cpu.yaml", *arguments])


def test_a_backup_that_does_not_load_gets_one_warning_and_the_run_starts_afresh(tmp_path, capsys):
    from hinet_tf.training.trainer import prepare_run_dir

    photos = _photo_folder(tmp_path / "photos")
    run_dir = tmp_path / "run"
    # What a kill inside the first backup write used to leave: a partial weights file the record points at.
    prepare_run_dir(_config(photos, *QUICK), run_dir)
    backup = run_dir / "backup"
    backup.mkdir()
    (backup / "latest.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(88))  # 96 B of an HDF5 file
    (backup / "training_metadata.json").write_text('{"epoch": 1, "batch": 0}')
    assert _train_in_process(photos, run_dir, *QUICK) == 0
    captured = capsys.readouterr()
    (warning,) = _warnings(captured.err)
    assert warning.startswith(f"hinet: warning: the backup {backup / 'latest.weights.h5'} does not load (")
    assert warning.endswith("; starting afresh")
    assert "Resuming" not in captured.out
    assert [int(row["epoch"]) for row in _history(run_dir)] == [0, 1]
    assert int(keras.saving.load_model(run_dir / "model.keras").optimizer.iterations.numpy()) == 4


class _StopAtEpoch(keras.callbacks.Callback):
    """Interrupts `fit` as the epoch `epoch` begins, as a Ctrl-C there would."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def _run_stopped_after_one_epoch(tmp_path):
    """`(photos, run_dir)` of a QUICK run interrupted as its second epoch began."""
    from hinet_tf.training import trainer

    photos = _photo_folder(tmp_path / "photos")
    run = trainer.setup(_config(photos, *QUICK), tmp_path / "run")
    run.fit_arguments["callbacks"].append(_StopAtEpoch(1))
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(run)
    return photos, tmp_path / "run"


@pytest.mark.parametrize(
    "damaged, problem",
    [
        ("garbage\n", "has no epoch column"),
        ("epoch,loss,psnr\n0,-9.0,9.0\nxx,2,\n", "has a row without an epoch number"),
        (b"\xff\xfe\x00e", "is not a CSV file"),
    ],
)
def test_a_damaged_history_is_kept_aside_with_one_warning_and_the_run_resumes(tmp_path, capsys, damaged, problem):
    photos, run_dir = _run_stopped_after_one_epoch(tmp_path)
    damaged = damaged if isinstance(damaged, bytes) else damaged.encode()
    (run_dir / "history.csv").write_bytes(damaged)
    capsys.readouterr()
    assert _train_in_process(photos, run_dir, *QUICK) == 0
    (line,) = _warnings(capsys.readouterr().err)
    assert line.startswith(f"hinet: warning: {run_dir / 'history.csv'} {problem}")
    assert line.endswith("; it is kept as history.csv.damaged and a new history starts")
    assert (run_dir / "history.csv.damaged").read_bytes() == damaged
    assert [int(row["epoch"]) for row in _history(run_dir)] == [1]


def test_a_history_saved_by_a_spreadsheet_resumes(tmp_path, capsys):
    photos, run_dir = _run_stopped_after_one_epoch(tmp_path)
    history = run_dir / "history.csv"
    history.write_bytes(b"\xef\xbb\xbf" + history.read_bytes())  # the byte-order mark Excel writes
    assert _train_in_process(photos, run_dir, *QUICK) == 0
    assert _warnings(capsys.readouterr().err) == []
    assert [int(row["epoch"]) for row in _history(run_dir)] == [0, 1]


def test_a_broken_newest_backup_falls_back_to_the_previous_one(tmp_path, capsys):
    from hinet_tf.training import trainer

    photos = _photo_folder(tmp_path / "photos")
    run_dir = tmp_path / "run"
    overrides = ("train.steps=6", *QUICK[1:])
    run = trainer.setup(_config(photos, *overrides), run_dir)

    class StopBeforeTheThirdEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt

    run.fit_arguments["callbacks"].append(StopBeforeTheThirdEpoch())
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(run)
    record = json.loads((run_dir / "backup" / "training_metadata.json").read_text())
    assert (record["epoch"], record["previous"]["epoch"]) == (2, 1)
    newest = run_dir / "backup" / record["weights"]
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])
    capsys.readouterr()

    assert _train_in_process(photos, run_dir, *overrides) == 0
    captured = capsys.readouterr()
    (warning,) = _warnings(captured.err)
    assert warning.startswith(f"hinet: warning: the backup {newest} does not load (")
    assert warning.endswith("; falling back to the previous backup")
    assert f"Resuming from the backup in {run_dir / 'backup'}: epoch 1, step 2." in captured.out
    assert [int(row["epoch"]) for row in _history(run_dir)] == [0, 1, 2]
    assert int(keras.saving.load_model(run_dir / "model.keras").optimizer.iterations.numpy()) == 6


# `hinet train` whose first write of a backup's weights stops halfway and hangs, to be killed there.
_HANG_INSIDE_THE_FIRST_BACKUP_WRITE = """
import sys
import time
from pathlib import Path

import keras

from hinet_tf.cli.main import main

save_weights = keras.Model.save_weights


def save_half_then_hang(self, filepath, *args, **kwargs):
    save_weights(self, filepath, *args, **kwargs)
    path = Path(filepath)
    if path.parent.name == "backup":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        print("inside the backup write", flush=True)
        time.sleep(3600)


keras.Model.save_weights = save_half_then_hang
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_a_kill_inside_the_first_backup_write_leaves_a_run_that_reruns(tmp_path, deadline):
    photos = _photo_folder(tmp_path / "photos")
    run_dir = tmp_path / "run"
    command = _train_command(photos, run_dir, "train.steps=4", "train.steps_per_epoch=2")
    hanging = [sys.executable, "-c", _HANG_INSIDE_THE_FIRST_BACKUP_WRITE, *command[3:]]
    process = subprocess.Popen(hanging, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for_line(process, "inside the backup write")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
    assert list((run_dir / "backup").iterdir())  # the half-written file

    result = _run(command, deadline, 600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert [int(row["epoch"]) for row in _history(run_dir)] == [0, 1]
    assert int(keras.saving.load_model(run_dir / "model.keras").optimizer.iterations.numpy()) == 4
    assert not (run_dir / "backup").exists()


def test_a_nan_loss_fails_the_run_in_one_line_and_saves_no_model(tmp_path, capsys):
    photos = _photo_folder(tmp_path / "photos")
    run_dir = tmp_path / "run"
    assert _train_in_process(photos, run_dir, *QUICK, "optimizer.learning_rate=1e6") == 2
    (error,) = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert error.startswith("hinet: error: the loss became ") and " at optimizer step " in error
    assert error.endswith("no model was saved: no epoch finished, so no checkpoint was saved")
    assert not [name for name in ("model.keras", "best.keras", "last.keras") if (run_dir / name).exists()]


def test_a_nan_loss_after_finite_epochs_keeps_the_last_finite_checkpoint(tmp_path):
    import re

    from hinet_tf.training import trainer

    photos = _photo_folder(tmp_path / "photos")
    run_dir = tmp_path / "run"
    run = trainer.setup(_config(photos, "train.steps=6", *QUICK[1:]), run_dir)

    class PoisonTheSecondEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                kernel = self.model.trainable_weights[0]
                kernel.assign(np.full(kernel.shape, np.nan, kernel.dtype))

    run.fit_arguments["callbacks"].append(PoisonTheSecondEpoch())
    message = f"the loss became nan at optimizer step 3; training stopped and no model was saved: " \
        f"the last finite checkpoint is {run_dir / 'last.keras'}, of step 2"
    with pytest.raises(trainer.NonFiniteLoss, match=re.escape(message)):
        trainer.fit(run)
    assert not (run_dir / "model.keras").exists()
    for name in ("last.keras", "best.keras"):
        checkpoint = keras.saving.load_model(run_dir / name)
        assert int(checkpoint.optimizer.iterations.numpy()) == 2
        assert all(np.isfinite(weight).all() for weight in checkpoint.get_weights()), name
    assert json.loads((run_dir / "backup" / "training_metadata.json").read_text())["epoch"] == 1
    assert [int(row["epoch"]) for row in _history(run_dir)] == [0]


def test_raising_the_steps_of_a_finished_run_continues_it_with_its_optimizer(tmp_path, capsys):
    photos = _photo_folder(tmp_path / "photos")
    run_dir = tmp_path / "run"
    assert _train_in_process(photos, run_dir, *QUICK) == 0
    finished = _history(run_dir)
    capsys.readouterr()
    assert _train_in_process(photos, run_dir, *QUICK) == 2
    error = capsys.readouterr().err
    assert f"{run_dir} already holds a finished run of 4 steps" in error and "--set train.steps=8" in error
    assert _train_in_process(photos, run_dir, *QUICK, "train.steps=2") == 2
    assert "train.steps can be raised to continue it, not lowered to 2" in capsys.readouterr().err

    assert _train_in_process(photos, run_dir, *QUICK, "train.steps=8") == 0
    printed = capsys.readouterr().out
    assert f"Continuing the finished run in {run_dir} from step 4 to 8" in printed
    assert f"Resuming from the backup in {run_dir / 'backup'}: epoch 2, step 4." in printed  # the optimizer's count
    history = _history(run_dir)
    assert history[:2] == finished and [int(row["epoch"]) for row in history] == [0, 1, 2, 3]
    assert int(keras.saving.load_model(run_dir / "model.keras").optimizer.iterations.numpy()) == 8
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["train"]["steps"] == 8
    assert _train_in_process(photos, run_dir, *QUICK, "train.steps=8") == 2  # finished again


def test_a_finished_mixed_precision_run_continues_from_its_last_epoch(tmp_path, capsys):
    # Loss scaling skips the first steps (their float16 gradients overflow): the optimizer counts fewer than were run.
    photos, run_dir, mixed = _photo_folder(tmp_path / "photos"), tmp_path / "run", "train.mixed_precision=true"
    assert _train_in_process(photos, run_dir, *QUICK, mixed) == 0
    assert int(keras.saving.load_model(run_dir / "model.keras").optimizer.iterations.numpy()) < 4
    assert _train_in_process(photos, run_dir, *QUICK, mixed, "train.steps=8") == 0
    assert f"Continuing the finished run in {run_dir} from step 4 to 8" in capsys.readouterr().out
    assert [int(row["epoch"]) for row in _history(run_dir)] == [0, 1, 2, 3]


def test_the_hold_out_takes_at_most_a_fifth_of_a_small_folder(tmp_path):
    config = config_lib.load_config("configs/photos_cpu.yaml", ["train.crop_size=32", "data.val_crop=32"])
    photos = _photo_folder(tmp_path / "photos", count=10)
    _, val_images, description = build_datasets(config.replace(data={"root": str(photos)}))
    assert description.startswith(f"8 training photos in {photos}, 2 held out for validation: ")
    assert description.endswith("data.val_images=8 capped at a fifth of the 10")
    assert len(list(val_images)) == 2
    few = _photo_folder(tmp_path / "few", count=4)
    with pytest.warns(UserWarning) as warned:
        _, val_images, description = build_datasets(config.replace(data={"root": str(few)}))
    assert val_images is None and description.startswith("4 training photos")
    (warning,) = [str(record.message) for record in warned]
    assert warning.startswith(f"{few} has only 4 images: too few to hold any out for validation")


def _free_ports(count):
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("localhost", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@pytest.mark.slow
def test_two_workers_end_with_identical_weights(tmp_path):
    try:
        ports = _free_ports(2)
    except OSError as error:
        pytest.skip(f"cannot bind localhost ports for the workers: {error}")
    photos = _photo_folder(tmp_path / "photos")
    run_dir = tmp_path / "run"
    cluster = {"worker": [f"localhost:{port}" for port in ports]}
    command = _train_command(photos, run_dir, "train.steps=3", "train.steps_per_epoch=3")
    workers = [
        subprocess.Popen(
            command,
            env=_env(TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for index in range(2)
    ]
    outputs = []
    try:
        for worker in workers:
            outputs.append(worker.communicate(timeout=300)[0])
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    for worker, output in zip(workers, outputs):
        assert worker.returncode == 0, output[-3000:]
    assert "over 2 replica(s)" in outputs[0]
    chief = keras.saving.load_model(run_dir / "model.keras")
    other = keras.saving.load_model(run_dir / "workers" / "worker_1" / "model.keras")
    assert int(chief.optimizer.iterations.numpy()) == int(other.optimizer.iterations.numpy()) == 3
    for chief_weight, other_weight in zip(chief.get_weights(), other.get_weights(), strict=True):
        np.testing.assert_array_equal(chief_weight, other_weight)
    assert not (run_dir / "workers" / "worker_1" / "history.csv").exists()  # only the chief logs
    # The logged loss is the full loss (0.5 x minus PSNR per stage), not divided by the replica count.
    (row,) = _history(run_dir)
    assert float(row["loss"]) == pytest.approx(-(float(row["psnr_stage1"]) + float(row["psnr_stage2"])) / 2, abs=1.0)


def test_a_folder_that_is_not_a_run_is_refused_and_left_untouched(tmp_path, capsys):
    photos = _photo_folder(tmp_path / "photos", count=2)
    folder = tmp_path / "mine"
    folder.mkdir()
    files = {"best.keras": b"my model", "last.keras": b"my other model", "history.csv": b"date,weight\n2024-01-02,70\n"}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    command = ["train", "configs/photos_cpu.yaml", "--data", str(photos), "--out", str(folder), *_options()]
    assert main(command) == 2
    error = capsys.readouterr().err
    assert f"{folder} is not empty and is not a run folder (no config.yaml)" in error
    assert "best.keras, history.csv, last.keras" in error
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == files


def test_set_takes_several_overrides_at_once():
    from hinet_tf.cli.main import build_parser

    args = build_parser().parse_args(["train", "c.yaml", "--out", "r", "--set", "a.b=1", "c.d=2", "--set", "e.f=3"])
    assert args.overrides == ["a.b=1", "c.d=2", "e.f=3"]


def _check_run_files(run_dir):
    """Every checkpoint loads and the history parses, with one row per epoch in order."""
    for path in run_dir.glob("[!.]*.keras"):
        keras.saving.load_model(path)  # raises on a partial file
    if (run_dir / "history.csv").exists():
        epochs = [int(row["epoch"]) for row in _history(run_dir)]
        assert epochs == list(range(len(epochs))), epochs
        assert all(None not in row.values() for row in _history(run_dir))  # no short (truncated) row


@pytest.mark.slow
def test_kills_at_random_instants_leave_loadable_files_and_the_rerun_resumes(tmp_path, deadline):
    photos = _photo_folder(tmp_path / "photos")
    run_dir = tmp_path / "run"
    # One step per epoch: most of the time goes into writing checkpoints, where a kill does harm. Enough
    # epochs that an idle machine is still training when the kill lands, 1.5 s at most after
    # a second epoch began.
    epochs = 40
    command = _train_command(photos, run_dir, f"train.steps={epochs}", "train.steps_per_epoch=1")
    rng = np.random.default_rng(15)
    for kill in (signal.SIGKILL, signal.SIGTERM):
        process = subprocess.Popen(command, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            # This process finished an epoch (and its backup), so the kill lands in a later epoch's
            # step or saves, however slowly the machine runs.
            _wait_for_line(process, "Epoch ")
            _wait_for_line(process, "Epoch ")
            time.sleep(rng.uniform(0.0, 1.5))
        finally:
            process.send_signal(kill)
            process.wait()
            process.stdout.close()
        assert not (run_dir / "model.keras").exists(), "the run ended before the kill"
        _check_run_files(run_dir)
    backed_up = json.loads((run_dir / "backup" / "training_metadata.json").read_text())["epoch"]

    result = _run(command, deadline, 600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"Resuming from the backup in {run_dir / 'backup'}: epoch {backed_up}, step {backed_up}." in result.stdout
    assert "\x1b[" not in result.stdout and "\r" not in result.stdout  # a pipe gets plain lines
    first_epoch = next(line for line in result.stdout.splitlines() if line.startswith("Epoch "))
    assert first_epoch == f"Epoch {backed_up + 1}/{epochs}"  # it went on from the backup, not from epoch 1
    _check_run_files(run_dir)
    assert len(_history(run_dir)) == epochs
    # The step counter came back with the weights.
    assert int(keras.saving.load_model(run_dir / "model.keras").optimizer.iterations.numpy()) == epochs
    assert [path.name for path in run_dir.glob(".*")] == [".hinet-train.lock"], "a temporary file was left behind"


def test_a_missing_data_folder_is_refused_at_once(tmp_path, capsys):
    command = ["train", "configs/photos_cpu.yaml", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "run")]
    assert main(command) == 2
    assert f"the training data folder {tmp_path / 'none'} does not exist" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
    (tmp_path / "photos.zip").write_bytes(b"an archive, not a folder")
    command = ["train", "configs/photos_cpu.yaml", "--data", str(tmp_path / "photos.zip"), "--out", str(tmp_path / "run")]
    assert main(command) == 2
    assert f"the training data folder {tmp_path / 'photos.zip'} is a file, not a folder" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_a_broken_link_in_the_data_folder_is_named_before_anything_is_written(tmp_path, capsys):
    photos = _photo_folder(tmp_path / "photos")
    (photos / "photo_9.png").symlink_to(tmp_path / "nowhere")  # a damaged file stops the run: so does this
    assert main(["train", "configs/photos_cpu.yaml", "--data", str(photos), "--out", str(tmp_path / "run"), *_options()]) == 2
    assert f"{photos / 'photo_9.png'} is a broken link to {tmp_path / 'nowhere'}" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_jit_compile_auto_gives_the_run_the_faster_setting_and_the_same_initial_weights(tmp_path, monkeypatch):
    from hinet_tf.training import trainer
    from hinet_tf.training import xla_choice

    monkeypatch.setattr(xla_choice, "seconds_per_step", lambda model, shape, steps: 1.0 if model.jit_compile else 2.0)
    photos = _photo_folder(tmp_path / "photos")
    lines = []
    auto = trainer.setup(_config(photos, *QUICK, "train.jit_compile=auto"), tmp_path / "auto", log=lines.append)
    plain = trainer.setup(_config(photos, *QUICK), tmp_path / "plain", log=lines.append)
    assert auto.model.jit_compile is True and plain.model.jit_compile is False
    assert any(line.endswith("training with XLA.") for line in lines)
    for auto_weights, plain_weights in zip(auto.model.get_weights(), plain.model.get_weights(), strict=True):
        np.testing.assert_array_equal(auto_weights, plain_weights)  # the timed models did not shift the seed


def test_xla_over_several_replicas_is_refused_in_one_line():
    from hinet_tf.training import trainer

    config = config_lib.validate({"train": {"jit_compile": True, "batch_size": 4}})
    trainer.check_replicas(config.train, 1)
    with pytest.raises(ValueError, match="train.jit_compile: XLA cannot compile the step over 2 replicas"):
        trainer.check_replicas(config.train, 2)
    with pytest.raises(ValueError, match="must be a multiple of the 3 replicas"):
        trainer.check_replicas(config.train, 3)
    trainer.check_replicas(config.replace(train={"jit_compile": "auto"}).train, 2)  # auto chooses no XLA there


def test_running_out_of_memory_names_the_sizes_and_a_full_disk_is_a_system_error(tmp_path, capsys, monkeypatch):
    import tensorflow as tf

    from hinet_tf.training import trainer

    def out_of_memory(*args, **kwargs):  # what TensorFlow raises for model.width=1e9
        message = "{{node X}} OOM when allocating tensor with shape[3,3,3,1000000000] and type float"
        raise tf.errors.ResourceExhaustedError(None, None, message)

    monkeypatch.setattr(trainer, "build_model", out_of_memory)
    photos = _photo_folder(tmp_path / "photos")
    assert _train_in_process(photos, tmp_path / "run", *QUICK) == 2
    error = capsys.readouterr().err.strip()
    assert error == (
        "hinet: error: out of memory (OOM when allocating tensor with shape[3,3,3,1000000000]): "
        "lower model.width, train.batch_size, train.crop_size or data.val_tile"
    )

    def full_disk(*args, **kwargs):  # what a summary writer raises on a full disk
        message = "{{node W}} /runs/logs/events.out.tfevents.1; No space left on device"
        raise tf.errors.ResourceExhaustedError(None, None, message)

    monkeypatch.setattr(trainer, "build_model", full_disk)
    assert _train_in_process(photos, tmp_path / "run", *QUICK) == 1
    assert capsys.readouterr().err.strip() == "hinet: error: /runs/logs/events.out.tfevents.1; No space left on device"


def test_a_stop_request_ends_training_after_the_step_under_way(tmp_path):
    from hinet_tf.training import trainer
    from hinet_tf.utils import atomic

    class InterruptSwallowedByAFinalizer(keras.callbacks.Callback):  # the handler only set the stop request
        def on_train_batch_begin(self, batch, logs=None):
            atomic.request_stop()

    run = trainer.setup(_config(_photo_folder(tmp_path / "photos"), *QUICK), tmp_path / "run")
    run.fit_arguments["callbacks"].insert(0, InterruptSwallowedByAFinalizer())
    try:
        with pytest.raises(KeyboardInterrupt):
            trainer.fit(run)
    finally:
        atomic.request_stop(False)
    assert int(run.model.optimizer.iterations.numpy()) == 1  # not the epoch's 2 steps
    assert not (tmp_path / "run" / "history.csv").exists()


def test_a_second_process_training_in_the_same_folder_is_refused(tmp_path):
    photos = _photo_folder(tmp_path / "photos")
    run_dir = tmp_path / "run"
    holder = subprocess.Popen(  # holds the run folder's lock as a training process would, then waits
        [sys.executable, "-c", "import sys, pathlib; from hinet_tf.training.trainer import _lock_folder; "
         "lock = _lock_folder(pathlib.Path(sys.argv[1])); print('locked', flush=True); sys.stdin.read()", str(run_dir)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=_env(),
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = subprocess.run(_train_command(photos, run_dir, *QUICK), env=_env(), capture_output=True, text=True,
                                timeout=600)
        assert result.returncode == 2
        assert f"hinet: error: {run_dir} is in use by another hinet train (process {holder.pid})" in result.stderr
        assert sorted(path.name for path in run_dir.iterdir()) == [".hinet-train.lock"]  # nothing of a run written
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert subprocess.run(_train_command(photos, run_dir, *QUICK), env=_env(), timeout=600).returncode == 0
