"""Which backend `Restorer(backend="auto")` runs: the fastest on this CPU, measured once and cached.

Which runtime is fastest depends on the CPU (TensorFlow's oneDNN, onnxruntime's MLAS and
LiteRT's XNNPACK each have their own kernels per instruction set), so the first time a
model runs at a tile shape on a machine, every installed backend restores a tile of that
shape `RUNS` times after `WARMUP` untimed runs, the backends taking turns (a passing load
then slows each alike), and the lowest median wins. The choice and the times behind it are
kept beside the conversions, in `$HINET_CACHE/backend_choices/<key>.json` (see
`conversion_cache`), the key a fingerprint of the models and their options, the tile shape,
the threads, the runtimes' versions and the CPU (`utils.machine.cpu_description`): later
runs read it; another CPU, model or runtime measures again.
"""

import dataclasses
import json
import statistics
import time
import warnings
from pathlib import Path

from hinet_tf.inference.conversion_cache import cache_dir
from hinet_tf.inference.conversion_cache import fingerprint
from hinet_tf.utils.atomic import atomic_write_text
from hinet_tf.utils.machine import cpu_description
from hinet_tf.utils.machine import library_versions
from hinet_tf.utils.messages import first_line
from hinet_tf.utils.quiet import native_stderr_silenced
from hinet_tf.utils.timing import wall_times

FOLDER = "backend_choices"
RUNTIMES = ("onnxruntime", "onnx", "tf2onnx", "ai-edge-litert")
RUNS = 3
WARMUP = 1
# In the key, so that older entries are measured again: 1 lacked the models' fingerprints that
# `hinet info` looks for, 2 timed the backends one after another.
ENTRY_FORMAT = 3


@dataclasses.dataclass(frozen=True)
class BackendChoice:
    """The backend chosen for a model and tile shape on this CPU, and why.

    Attributes:
        backend: the chosen backend's name.
        seconds: median seconds per tile of each backend timed.
        left_out: `{backend: reason}` of the backends that failed to convert or run.
        tile_shape: the shape of the tile timed, (batch, height, width, channels).
        models: what the models are (names and parameter counts).
        measured: whether this process measured it (else it was read from `path`).
        path: the cache file of the choice.
    """

    backend: str
    seconds: dict
    left_out: dict
    tile_shape: tuple
    models: str
    measured: bool
    path: Path

    def summary(self):
        """One line: the choice and the times behind it."""
        times = ", ".join(f"{name} {seconds:.3f} s" for name, seconds in self.seconds.items())
        shape = "x".join(map(str, self.tile_shape))
        origin = "measured now" if self.measured else f"measured before, cached in {self.path}"
        line = f"backend {self.backend}, the fastest for {self.models or 'the model'} per {shape} tile on this CPU ({times}; {origin})"
        return line + "".join(f"; {name} left out: {reason}" for name, reason in self.left_out.items())


def choice_path(model_keys, tile_shape, threads, **options):
    """The cache file of the choice for the models of `fingerprint`s `model_keys` (with `options`) at `tile_shape` and
    `threads` on this CPU."""
    key = fingerprint(
        [],
        model_keys=list(model_keys),
        **options,
        tile_shape=list(tile_shape),
        threads=threads,
        cpu=cpu_description(),
        runtimes=library_versions(RUNTIMES),
        entry_format=ENTRY_FORMAT,
    )
    return cache_dir(FOLDER) / f"{key}.json"


def choose(path, runners, tile, log=None, clock=time.perf_counter, describe_models="", model_keys=()):
    """Returns `(BackendChoice, runner)`: the cached choice at `path`, or the fastest of `runners`, measured now.

    `path` is from `choice_path`; `runners` is `{backend: build}`, `build()` returning the
    backend's function from a batch of tiles to restored tiles (converting the model if
    needed); `tile` is the batch timed. `describe_models` and `model_keys` (each model's
    `fingerprint`) go into the cache file, where `hinet info MODEL` finds the model's choices.

    A backend that fails to convert or run is left out with one warning; if all fail, the
    first one's error is raised. An unreadable cache file is measured again, and an
    unwritable one left as it is, each with a warning.
    """
    cached = _read(path, runners)
    if cached is not None:
        try:
            return cached, runners[cached.backend]()
        except Exception as error:  # noqa: BLE001 (the cached backend broke since: measure again)
            warnings.warn(f"The cached backend {cached.backend} fails now ({first_line(error)}); measuring again.", stacklevel=2)
    shape = "x".join(map(str, tile.shape))
    if log is not None:
        log(f"Choosing the fastest backend for this CPU (once): timing {', '.join(runners)} on {shape} tiles.")
    built, times, left_out, errors = {}, {}, {}, []

    def leave_out(name, error):
        built.pop(name, None)
        left_out[name] = first_line(error)
        errors.append(error)
        warnings.warn(f"Backend {name} left out of the choice: {left_out[name]}", stacklevel=3)

    for name, build in runners.items():
        try:
            built[name] = build()
            for _ in range(WARMUP):
                built[name](tile)
        except Exception as error:  # noqa: BLE001 (any failure of one runtime leaves it out; the others still serve)
            leave_out(name, error)
    for _ in range(RUNS):  # the backends take turns, so that a passing load weighs on each alike
        for name in list(built):
            try:
                times.setdefault(name, []).append(_call_seconds(built[name], tile, clock))
            except Exception as error:  # noqa: BLE001
                leave_out(name, error)
    if not built:
        raise errors[0]
    seconds = {name: statistics.median(times[name]) for name in runners if name in built}
    best = min(seconds, key=seconds.get)
    run = built.pop(best)
    with native_stderr_silenced():  # the slower runtimes are freed; LiteRT logs its teardown
        built.clear()
    choice = BackendChoice(best, seconds, left_out, tuple(tile.shape), describe_models, True, path)
    entry = {
        "backend": choice.backend,
        "seconds": seconds,
        "left_out": left_out,
        "tile_shape": list(tile.shape),
        "runs": RUNS,
        "models": describe_models,
        "model_keys": list(model_keys),
        "entry_format": ENTRY_FORMAT,
        "cpu": cpu_description(),
        "runtimes": library_versions(RUNTIMES),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    try:
        atomic_write_text(path, json.dumps(entry, indent=2))
    except OSError as error:  # an unwritable cache costs a measurement per run, not the restoration
        warnings.warn(f"Could not cache the backend choice in {path} ({error}); the next run measures again.", stacklevel=2)
    return choice, run


def cached_choices(model_key):
    """The `BackendChoice`s in use on this CPU for the model whose `fingerprint` is `model_key`, newest first.

    Entries of other runtime versions or of an older format, which `choose` no longer reads,
    and unreadable files are left out.
    """
    current = {"cpu": cpu_description(), "runtimes": library_versions(RUNTIMES), "entry_format": ENTRY_FORMAT}
    found = []
    for path in cache_dir(FOLDER).glob("[!.]*.json"):  # not the temporaries of a killed write
        try:
            choice, entry = _load(path)
        except _UNREADABLE:
            continue
        in_use = all(entry.get(field) == value for field, value in current.items())  # as `choice_path` keys it
        if in_use and model_key in entry.get("model_keys", ()):
            found.append((str(entry.get("measured_at")), choice))
    return [choice for _, choice in sorted(found, key=lambda item: item[0], reverse=True)]


def _read(path, backends):
    """The choice cached at `path` if it names one of `backends`; None (with a warning if unreadable) otherwise."""
    if not path.is_file():
        return None
    try:
        choice, _ = _load(path)
        if choice.backend not in backends:
            raise ValueError(f"names backend {choice.backend!r}, not one installed")
    except _UNREADABLE as error:
        warnings.warn(f"Ignoring the unreadable backend choice {path} ({first_line(error)}); measuring again.", stacklevel=3)
        return None
    return choice


_UNREADABLE = (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError)


def _load(path):
    """`(BackendChoice, entry)` of the cache file `path`; raises one of `_UNREADABLE` if it is not one."""
    entry = json.loads(path.read_text())
    seconds = {str(name): float(value) for name, value in entry["seconds"].items()}
    left_out = {str(name): str(reason) for name, reason in entry.get("left_out", {}).items()}
    shape = tuple(int(size) for size in entry["tile_shape"])
    choice = BackendChoice(str(entry["backend"]), seconds, left_out, shape, str(entry.get("models", "")), False, path)
    if choice.backend not in seconds:
        raise ValueError(f"names backend {choice.backend!r}, not one it timed")
    return choice, entry


def _call_seconds(runner, tile, clock):
    """The seconds of one call of `runner(tile)`."""
    return wall_times(lambda: runner(tile), 1, 0, clock)[0]
