"""`Restorer(backend="auto")` times the installed backends once per model, tile, threads and CPU, and keeps the fastest."""

import json
import os
import sys
import warnings

import keras
import numpy as np
import PIL.Image
import pytest
import tensorflow as tf

from hinet_tf.cli.main import main
from hinet_tf.inference import Restorer
from hinet_tf.inference import backend_choice
from hinet_tf.inference import litert_backend
from hinet_tf.inference import onnx_backend
from hinet_tf.inference.errors import ConversionError
from hinet_tf.models import HINetBackbone
from hinet_tf.models import HINetImageRestorer

NO_GPU = pytest.mark.skipif(bool(tf.config.list_physical_devices("GPU")), reason="auto takes TensorFlow on a GPU")
TILE = np.zeros((1, 16, 16, 3), np.float32)


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HINET_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(7)
    return HINetBackbone(width=4, depth=3)


class FakeClock:
    """Seconds that advance only when a runner says how long it took."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class FakeRunner:
    """A backend whose every call takes `seconds` on `clock` and is counted."""

    def __init__(self, clock, seconds):
        self.clock, self.seconds, self.calls = clock, seconds, 0

    def __call__(self, tiles):
        self.calls += 1
        self.clock.now += self.seconds
        return tiles


def fake_runners(clock, fail=(), **seconds):
    """`({name: build}, {name: runner})`; building a name in `fail` raises a ConversionError."""
    runners = {name: FakeRunner(clock, value) for name, value in seconds.items()}

    def builder(name):
        def build():
            if name in fail:
                raise ConversionError(f"{name} conversion failed: no converter\nsecond line of the cause")
            return runners[name]

        return build

    return {name: builder(name) for name in seconds}, runners


def _choose(path, builds, clock, messages):
    return backend_choice.choose(path, builds, TILE, log=messages.append, clock=clock, describe_models="a test model")


def test_the_fastest_backend_is_measured_once_then_reused_from_the_cache(tmp_path):
    clock, messages = FakeClock(), []
    path = tmp_path / "choice.json"
    builds, runners = fake_runners(clock, keras=0.5, onnx=0.3, litert=0.4)
    choice, runner = _choose(path, builds, clock, messages)
    assert (choice.backend, runner, choice.measured) == ("onnx", runners["onnx"], True)
    assert choice.seconds == pytest.approx({"keras": 0.5, "onnx": 0.3, "litert": 0.4})
    assert [runner.calls for runner in runners.values()] == [backend_choice.WARMUP + backend_choice.RUNS] * 3
    assert len(messages) == 1 and messages[0].startswith("Choosing the fastest backend for this CPU (once)")
    assert json.loads(path.read_text())["backend"] == "onnx"

    builds, runners = fake_runners(clock, keras=0.1, onnx=0.3, litert=0.4)  # keras would win a new measurement
    again, runner = _choose(path, builds, clock, messages)
    assert (again.backend, again.measured, runner) == ("onnx", False, runners["onnx"])
    assert again.seconds == choice.seconds and len(messages) == 1
    assert all(runner.calls == 0 for runner in runners.values())  # nothing timed
    assert "onnx 0.300 s" in again.summary() and "measured before" in again.summary()


def test_info_lists_only_the_choices_in_use_for_its_model(tmp_path, monkeypatch):
    monkeypatch.setenv("HINET_CACHE", str(tmp_path))
    clock = FakeClock()
    for key, seconds in (("mine", 0.1), ("other", 0.2)):
        builds, _ = fake_runners(clock, keras=seconds, onnx=0.3)
        path = backend_choice.choice_path([key], (1, 16, 16, 3), 2)
        backend_choice.choose(path, builds, TILE, clock=clock, model_keys=[key])
    assert [choice.seconds["keras"] for choice in backend_choice.cached_choices("mine")] == [pytest.approx(0.1)]
    entry = json.loads(path.read_text())
    path.write_text(json.dumps({**entry, "model_keys": ["mine"], "entry_format": 2}))  # one restore no longer reads
    assert len(backend_choice.cached_choices("mine")) == 1


def test_the_backends_take_turns_so_that_a_passing_load_does_not_decide(tmp_path):
    class BusyAtFirst(FakeRunner):  # the machine is busy during the first four calls of any backend
        def __call__(self, tiles):
            self.clock.now += 1.0 if self.clock.calls < 4 else 0.0
            self.clock.calls += 1
            return super().__call__(tiles)

    clock = FakeClock()
    clock.calls = 0
    times = {"keras": 0.2, "onnx": 0.3}
    builds = {name: lambda seconds=seconds: BusyAtFirst(clock, seconds) for name, seconds in times.items()}
    choice, _ = _choose(tmp_path / "choice.json", builds, clock, [])
    assert choice.backend == "keras"  # timed one after the other, its four calls would all have been slowed
    assert choice.seconds == pytest.approx({"keras": 0.2, "onnx": 0.3})


class NoisyTeardown(FakeRunner):
    """Writes to the native stderr when freed, as LiteRT's runtime notes each accelerator it destroys."""

    def __del__(self):
        os.write(2, b"INFO: DestroyAccelerator\n")


def test_the_slower_runtimes_are_freed_without_their_native_log_lines(tmp_path, capfd):
    clock = FakeClock()
    times = {"a": 0.3, "b": 0.1, "c": 0.2}
    builds = {name: lambda seconds=seconds: NoisyTeardown(clock, seconds) for name, seconds in times.items()}
    choice, runner = _choose(tmp_path / "choice.json", builds, clock, [])
    assert choice.backend == "b" and capfd.readouterr().err == ""
    del runner  # the chosen one is freed by its user
    assert capfd.readouterr().err == "INFO: DestroyAccelerator\n"


def test_a_backend_that_fails_to_convert_is_left_out_with_one_warning(tmp_path):
    clock = FakeClock()
    builds, _ = fake_runners(clock, fail=("litert",), keras=0.5, onnx=0.6, litert=0.1)
    with pytest.warns(UserWarning) as caught:
        choice, _ = _choose(tmp_path / "choice.json", builds, clock, [])
    assert [str(warning.message) for warning in caught] == [
        "Backend litert left out of the choice: litert conversion failed: no converter"
    ]
    assert choice.backend == "keras" and set(choice.seconds) == {"keras", "onnx"}
    assert choice.left_out == {"litert": "litert conversion failed: no converter"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the cached choice, failure included, is read without warnings
        assert _choose(tmp_path / "choice.json", builds, clock, [])[0].left_out == choice.left_out


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"\xff\xfe", b"[1, 2]", b'{"backend": "cuda", "seconds": {"cuda": 1}, "tile_shape": [1]}', b""],
)
def test_an_unreadable_choice_is_measured_again_with_one_warning(tmp_path, content):
    path = tmp_path / "choice.json"
    path.write_bytes(content)
    clock, messages = FakeClock(), []
    builds, _ = fake_runners(clock, keras=0.2, onnx=0.3)
    with pytest.warns(UserWarning, match="Ignoring the unreadable backend choice") as caught:
        choice, _ = _choose(path, builds, clock, messages)
    assert len(caught) == 1 and str(path) in str(caught[0].message)
    assert (choice.backend, choice.measured, len(messages)) == ("keras", True, 1)
    assert json.loads(path.read_text())["backend"] == "keras"  # replaced by a whole file


def test_an_unwritable_cache_costs_a_warning_not_the_choice(tmp_path):
    (tmp_path / "a_file").write_text("")
    clock = FakeClock()
    builds, runners = fake_runners(clock, keras=0.2, onnx=0.1)
    with pytest.warns(UserWarning, match="Could not cache the backend choice") as caught:
        choice, runner = _choose(tmp_path / "a_file" / "choice.json", builds, clock, [])
    assert len(caught) == 1 and (choice.backend, runner) == ("onnx", runners["onnx"])


def test_the_cache_key_changes_with_the_model_the_cpu_the_tile_and_the_threads(monkeypatch):
    model = ["the model's fingerprint"]
    path = backend_choice.choice_path(model, (1, 16, 16, 3), 2, tta=False)
    assert path != backend_choice.choice_path(["another model's"], (1, 16, 16, 3), 2, tta=False)
    assert path == backend_choice.choice_path(model, (1, 16, 16, 3), 2, tta=False)
    assert path != backend_choice.choice_path(model, (1, 32, 32, 3), 2, tta=False)
    assert path != backend_choice.choice_path(model, (1, 16, 16, 3), 1, tta=False)
    assert path != backend_choice.choice_path(model, (1, 16, 16, 3), 2, tta=True)
    other_cpu = {**backend_choice.cpu_description(), "isa_flags": ["avx2", "fma"], "cpu": "AMD EPYC"}
    monkeypatch.setattr(backend_choice, "cpu_description", lambda: other_cpu)
    assert path != backend_choice.choice_path(model, (1, 16, 16, 3), 2, tta=False)


@pytest.fixture
def fake_backends(monkeypatch):
    """onnx and litert "installed", as fakes: onnx runs the tile function in 0.1 s, litert fails to convert.

    Each backend's median is what its runner says (TensorFlow's 1 s), so the choice is known.
    """
    built = []

    class FakeONNX:
        seconds = 0.1

        def __init__(self, tile_function, models, options, threads=None, log=None):
            self.tile_function = tile_function
            built.append("onnx")

        def __call__(self, tiles):
            return self.tile_function(tf.constant(tiles))["restored"].numpy()

    class FailingLiteRT:
        def __init__(self, *args, **kwargs):
            built.append("litert")

        def __call__(self, tiles):
            raise ConversionError("LiteRT conversion failed: unsupported op")

    monkeypatch.setattr(onnx_backend, "is_available", lambda: True)
    monkeypatch.setattr(onnx_backend, "ONNXTileRunner", FakeONNX)
    monkeypatch.setattr(litert_backend, "is_available", lambda: True)
    monkeypatch.setattr(litert_backend, "LiteRTTileRunner", FailingLiteRT)
    monkeypatch.setattr(backend_choice, "_call_seconds", _run_once_and_say_seconds)
    return built


def _run_once_and_say_seconds(runner, tile, clock):
    runner(tile)
    return getattr(runner, "seconds", 1.0)


@NO_GPU
def test_the_restorer_runs_the_choice_and_a_changed_cpu_measures_again(model, fake_backends, monkeypatch):
    image = np.random.default_rng(0).random((20, 24, 3), np.float32)
    messages = []
    with pytest.warns(UserWarning, match="litert left out of the choice: LiteRT conversion failed: unsupported op"):
        restorer = Restorer(model, tile=16, overlap=4, backend="auto", log=messages.append)
    assert restorer.backend == restorer.backend_choice.backend == "onnx"
    assert restorer.backend_choice.seconds == {"keras": 1.0, "onnx": 0.1}
    assert restorer.backend_choice.tile_shape == (1, 16, 16, 3)
    np.testing.assert_allclose(restorer(image), Restorer(model, tile=16, overlap=4)(image), atol=1e-5)
    assert messages == ["Choosing the fastest backend for this CPU (once): timing keras, onnx, litert on 1x16x16x3 tiles."]

    fake_backends.clear()
    again = Restorer(model, tile=16, overlap=4, backend="auto", log=messages.append)
    assert (again.backend, again.backend_choice.measured, fake_backends) == ("onnx", False, ["onnx"])
    assert len(messages) == 1

    monkeypatch.setattr(backend_choice, "cpu_description", lambda: {"cpu": "AMD EPYC", "isa_flags": ["avx2"], "cores": 2})
    with pytest.warns(UserWarning, match="litert left out"):
        elsewhere = Restorer(model, tile=16, overlap=4, backend="auto", log=messages.append)
    assert elsewhere.backend_choice.measured and len(messages) == 2


def test_an_explicit_backend_is_never_measured(model, fake_backends, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("measured")

    monkeypatch.setattr(backend_choice, "choose", refuse)
    for backend in ("keras", "onnx"):
        restorer = Restorer(model, tile=16, overlap=4, backend=backend)
        assert (restorer.backend, restorer.backend_choice) == (backend, None)
    assert fake_backends == ["onnx"]


def test_auto_takes_tensorflow_unmeasured_without_another_backend(model, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # an install without the onnx and litert extras
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        restorer = Restorer(model, tile=16, overlap=4, backend="auto")
    assert (restorer.backend, restorer.backend_choice) == ("keras", None)


@NO_GPU
def test_restore_verbose_and_info_show_the_choice_and_its_times(tmp_path, identity_model_path, fake_backends, capsys):
    PIL.Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "in.png")
    argv = ["restore", str(tmp_path / "in.png"), "-o", str(tmp_path / "out"), "--model", str(identity_model_path)]
    assert main([*argv, "--verbose"]) == 0
    captured = capsys.readouterr()
    assert "Choosing the fastest backend for this CPU (once)" in captured.out
    assert "backend onnx, the fastest" in captured.out and "keras 1.000 s, onnx 0.100 s; measured now" in captured.out
    assert captured.err.strip().splitlines() == [
        "hinet: warning: Backend litert left out of the choice: LiteRT conversion failed: unsupported op"
    ]
    assert main([*argv, "--overwrite"]) == 0  # the cached choice: no message, no warning
    captured = capsys.readouterr()
    assert "Choosing" not in captured.out and "backend onnx" not in captured.out and captured.err == ""

    assert main(["info", str(identity_model_path), "--size", "16", "16"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "the fastest" in line]
    assert len(lines) == 1 and lines[0].startswith("  backend onnx, the fastest") and "onnx 0.100 s" in lines[0]
    assert "litert left out: LiteRT conversion failed" in lines[0]
    named = tmp_path / "named.keras"  # a task saved under its own name: info loads it as restore does
    HINetImageRestorer(HINetBackbone(width=4, depth=3), name="denoiser").save(named)
    assert main(["restore", str(tmp_path / "in.png"), "-o", str(tmp_path / "named_out"), "--model", str(named)]) == 0
    assert main(["info", str(named), "--size", "16", "16"]) == 0
    assert "  backend onnx, the fastest for denoiser" in capsys.readouterr().out
    HINetBackbone(width=4, depth=3).save(tmp_path / "other.keras")  # another model: its own choices, here none
    assert main(["info", str(tmp_path / "other.keras"), "--size", "16", "16"]) == 0
    assert "backend choices: none measured for this model on this CPU yet" in capsys.readouterr().out
    assert main(["info", "hinet_0.5x"]) == 0
    assert "backend choices: none (an architecture without weights" in capsys.readouterr().out


@pytest.mark.slow
@NO_GPU
def test_auto_converts_times_and_caches_the_installed_backends(model):
    """The real backends, a width-4 model: the choice is the fastest measured and restores as TensorFlow does."""
    installed = {"keras", *(name for name, module in (("onnx", onnx_backend), ("litert", litert_backend)) if module.is_available())}
    if installed == {"keras"}:
        pytest.skip("needs the onnx or litert extra")
    messages = []
    restorer = Restorer(model, tile=16, overlap=4, backend="auto", log=messages.append)
    choice = restorer.backend_choice
    assert set(choice.seconds) == installed and choice.left_out == {}
    assert choice.backend == min(choice.seconds, key=choice.seconds.get)
    image = np.random.default_rng(0).random((16, 40, 3), np.float32)
    np.testing.assert_allclose(restorer(image), Restorer(model, tile=16, overlap=4)(image), atol=1e-4)
    again = Restorer(model, tile=16, overlap=4, backend="auto", log=messages.append)
    assert (again.backend, again.backend_choice.measured) == (choice.backend, False)
    assert sum("Choosing" in message for message in messages) == 1
