"""`hinet train` end to end on tiny generated folders: loss falls, bad data stops it, fine-tuning starts
from given weights, a killed run resumes, and two MultiWorkerMirroredStrategy workers end with identical weights."""

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import yaml
from PIL import Image

from hinet_tf.cli.main import main
from hinet_tf.training import config as config_lib
from hinet_tf.training.datasets import build_datasets
from hinet_tf.training.validation import Validation

# A 3-level, width-4 HINet on 32x32 crops: a training step takes milliseconds.
TINY = [
    "model.width=4",
    "model.depth=3",
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
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", **extra}


def test_train_on_photos_loss_falls_and_writes_the_run(tmp_path):
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

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = {}
    for folder in ("train", "validation", "images"):
        events = EventAccumulator(str(run_dir / "logs" / folder), size_guidance={"tensors": 0})
        tags[folder] = set(events.Reload().Tags()["tensors"])
    assert {"epoch_loss", "epoch_psnr_stage1", "epoch_psnr_stage2", "epoch_learning_rate"} <= tags["train"]
    assert "epoch_psnr" in tags["validation"]
    assert any(tag.startswith("degraded | restored | target") for tag in tags["images"])


    # The same command on a finished run refuses to start over.
    assert main(["train", "configs/photos_cpu.yaml", "--data", str(photos), "--out", str(run_dir), *overrides]) == 2


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
    assert (config.data.val_tile, config.data.val_quantize) == (256, True)
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
        (tmp_path / "missing.keras", f"train.init_weights: Model {tmp_path / 'missing.keras'} does not exist"),
        (tmp_path / "photos" / "photo_0.png", f"{tmp_path / 'photos' / 'photo_0.png'} is not a .keras file"),
    ):
        assert train(weights, "refused") == 2
        assert message in capsys.readouterr().err
        assert not (tmp_path / "refused").exists()


@pytest.mark.slow
def test_killed_run_resumes_from_its_backup(tmp_path):
    photos = _photo_folder(tmp_path / "photos")
    run_dir = tmp_path / "run"
    command = _train_command(photos, run_dir, "train.steps=16", "train.steps_per_epoch=4")
    metadata = run_dir / "backup" / "training_metadata.json"
    process = subprocess.Popen(command, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while not (metadata.is_file() and json.loads(metadata.read_text() or "{}").get("epoch", 0) >= 1):
            assert process.poll() is None, process.stdout.read().decode()[-3000:]
            assert time.monotonic() < deadline, "no backup within 180 s"
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stdout.close()
    assert not (run_dir / "model.keras").exists()
    backed_up = json.loads(metadata.read_text())["epoch"]
    history = _history(run_dir) if (run_dir / "history.csv").exists() else []
    rows_before = len([row for row in history if int(row["epoch"]) < backed_up])  # later rows are repeated
    assert 1 <= backed_up < 4

    result = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    resumed = f"Resuming from the backup in {run_dir / 'backup'}: epoch {backed_up}, step {4 * backed_up}."
    assert resumed in result.stdout
    resumed_epochs = [int(row["epoch"]) for row in _history(run_dir)[rows_before:]]
    assert resumed_epochs == list(range(backed_up, 4))  # not from 0
    model = keras.saving.load_model(run_dir / "model.keras")
    assert int(model.optimizer.iterations.numpy()) == 16  # the step counter came back with the weights


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
def test_kills_at_random_instants_leave_loadable_files_and_the_rerun_resumes(tmp_path):
    photos = _photo_folder(tmp_path / "photos")
    run_dir = tmp_path / "run"
    # One step per epoch: most of the time goes into writing checkpoints, where a kill does harm.
    command = _train_command(photos, run_dir, "train.steps=30", "train.steps_per_epoch=1")
    backup = run_dir / "backup" / "training_metadata.json"  # written last at the end of an epoch
    rng = np.random.default_rng(15)
    for kill in (signal.SIGKILL, signal.SIGTERM):
        previous_backup = backup.stat().st_mtime_ns if backup.exists() else None
        process = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 180
            # This process finished an epoch, so the kill lands in a later epoch's step or saves,
            # however slowly the machine runs.
            while not backup.exists() or backup.stat().st_mtime_ns == previous_backup:
                assert process.poll() is None, process.stderr.read().decode()[-3000:]
                assert time.monotonic() < deadline, "no epoch within 180 s"
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 1.5))
        finally:
            process.send_signal(kill)
            process.wait(timeout=30)
            process.stderr.close()
        assert not (run_dir / "model.keras").exists(), "the run ended before the kill"
        _check_run_files(run_dir)

    result = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Resuming from the backup" in result.stdout
    _check_run_files(run_dir)
    assert len(_history(run_dir)) == 30
    assert int(keras.saving.load_model(run_dir / "model.keras").optimizer.iterations.numpy()) == 30
    assert not list(run_dir.glob(".*")), "a temporary file was left behind"


def test_a_missing_data_folder_is_refused_at_once(tmp_path, capsys):
    command = ["train", "configs/photos_cpu.yaml", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "run")]
    assert main(command) == 2
    assert f"the training data folder {tmp_path / 'none'} does not exist" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_xla_over_several_replicas_is_refused_in_one_line():
    from hinet_tf.training import trainer

    config = config_lib.validate({"train": {"jit_compile": True, "batch_size": 4}})
    trainer.check_replicas(config.train, 1)
    with pytest.raises(ValueError, match="train.jit_compile: XLA cannot compile the step over 2 replicas"):
        trainer.check_replicas(config.train, 2)
    with pytest.raises(ValueError, match="must be a multiple of the 3 replicas"):
        trainer.check_replicas(config.train, 3)
