"""`hinet benchmark` runs its cases and reports them (timings are measured, never asserted)."""

import importlib.util
import json
import subprocess
import sys

import numpy as np

import pytest

from hinet_tf import benchmark
from hinet_tf.cli.main import main

HAS_TORCH = importlib.util.find_spec("torch") is not None


def test_a_child_process_reports_its_own_peak_memory_not_its_parents():
    ballast = np.ones(512 * 2**20 // 8)  # this process's peak passes 512 MiB; getrusage would hand it to the child
    code = "from hinet_tf.benchmark import peak_resident_mib; print(peak_resident_mib())"
    child = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert benchmark.peak_resident_mib() > ballast.nbytes / 2**20 > 4 * child


def test_failures_are_reported_per_case():
    result = benchmark.run_in_subprocess({"task": "train", "path": "litert", "width": 4}, 1, 1, 0, 300)
    assert "The train task has no path 'litert'" in result["error"]


@pytest.mark.slow
def test_the_litert_case_finds_its_conversion_in_the_cache(tmp_path):
    case = {"task": "latency", "path": "litert", "width": 4}
    assert benchmark.run_in_subprocess(case, 1, 1, 0, 600, prepare=True, cache=tmp_path) == {**case, "prepared": True}
    assert len(list((tmp_path / "litert").glob("*_1x256x256x3.tflite"))) == 1
    result = benchmark.run_in_subprocess(case, 1, 1, 0, 600, cache=tmp_path)
    assert "error" not in result, result
    assert result["converted_here"] == 0  # the timed process converted nothing


def test_the_machine_description_names_the_cpu_its_flags_and_the_library_versions(monkeypatch):
    import tensorflow as tf

    from hinet_tf.utils import machine

    monkeypatch.setattr(machine, "cpu_description", lambda: {"cpu": "AMD EPYC 7B13", "isa_flags": ["avx2", "fma"], "cores": 2})
    description = benchmark.machine_description()
    assert {key: description[key] for key in ("cpu", "isa_flags", "cores")} == machine.cpu_description()
    assert description["libraries"]["tensorflow"] == tf.__version__ and "load_average_1m" in description


def test_the_summary_takes_medians_over_processes_and_ratios_to_the_official_paths():
    results = [
        {"task": "latency", "width": 4, "path": path, "median_s": seconds, "peak_rss_mib": 100.0}
        for path, seconds in [("keras", 1.0), ("keras", 3.0), ("keras", 2.0), ("torch", 4.0), ("torch_onnx", 1.0)]
    ]
    summary = {row["path"]: row for row in benchmark.summarize([*results, {"task": "latency", "path": "onnx", "error": "x"}])}
    assert set(summary) == {"keras", "torch", "torch_onnx"}
    assert summary["keras"]["median_s"] == 2.0 and summary["keras"]["processes"] == 3
    assert summary["keras"]["ratio_to_torch"] == 0.5 and summary["keras"]["ratio_to_torch_onnx"] == 2.0
    assert "gflop_per_s" not in summary["keras"]  # no MAC counts given
    # 10 G MACs in 2 s: 10 GFLOP/s; a training step of 8 x 128 x 128 does 6 times a 256 x 256 forward's work.
    train = [{**result, "task": "train"} for result in results]
    rates = {(row["task"], row["path"]): row["gflop_per_s"] for row in benchmark.summarize([*results, *train], {4: 10e9})}
    assert rates["latency", "keras"] == pytest.approx(10.0) and rates["train", "keras"] == pytest.approx(60.0)


def test_photo_rows_are_told_apart_by_size_and_tile_and_give_seconds_per_megapixel_and_memory_growth():
    photos = [
        {"task": "photo", "width": 4, "path": path, "megapixels": megapixels, "tile": tile, "median_s": seconds, "peak_rss_mib": mib}
        for path, megapixels, tile, seconds, mib in [
            ("keras", 1, 256, 1.0, 500.0),
            ("keras", 24, 256, 24.0, 550.0),
            ("keras", 24, 512, 20.0, 600.0),
            ("torch", 24, 256, 30.0, 700.0),
        ]
    ]
    rows = {(row["path"], row["megapixels"], row["tile"]): row for row in benchmark.summarize(photos)}
    assert len(rows) == 4 and all(row["processes"] == 1 for row in rows.values())
    height, width = benchmark.PHOTO_SIZES[24]
    assert rows["keras", 24, 256]["s_per_megapixel"] == pytest.approx(24.0 / (height * width / 1e6))
    assert rows["keras", 24, 256]["peak_rss_ratio_to_1mp"] == pytest.approx(1.1)
    assert "peak_rss_ratio_to_1mp" not in rows["keras", 24, 512]  # no 1-megapixel photo in 512-pixel tiles
    assert rows["keras", 24, 256]["ratio_to_torch"] == pytest.approx(0.8)
    assert "ratio_to_torch" not in rows["keras", 24, 512] and "gflop_per_s" not in rows["keras", 1, 256]


@pytest.mark.slow
def test_the_photo_task_sweeps_tile_sizes_through_the_restorer(tmp_path):
    report_path = tmp_path / "benchmark.json"
    argv = ["benchmark", "--widths", "4", "--tasks", "photo", "--paths", "keras", "--megapixels", "1"]
    argv += ["--tiles", "256", "384", "--rounds", "1", "--runs", "1", "--warmup", "0", "--threads", "1"]
    assert main([*argv, "-o", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    assert [(result["tile"], result["megapixels"]) for result in report["results"]] == [(256, 1), (384, 1)]
    height, width = benchmark.PHOTO_SIZES[1]
    assert all(result["image_mib"] == pytest.approx(height * width * 3 / 2**20) for result in report["results"])
    assert [row["tile"] for row in report["summary"]] == [256, 384]
    assert all(row["s_per_megapixel"] > 0 and row["peak_rss_ratio_to_1mp"] == 1.0 for row in report["summary"])


def test_tiles_off_the_model_s_size_multiple_are_refused_before_any_timing(tmp_path, capsys):
    assert main(["benchmark", "--tasks", "photo", "--tiles", "256", "100", "-o", str(tmp_path / "b.json")]) == 2
    assert "--tiles: The tile size must be a positive multiple of 16, got 100." in capsys.readouterr().err
    assert not (tmp_path / "b.json").exists()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--widths", "5"], "--widths 5: config section 'model': width must be even"),
        (["--widths", "0"], "--widths 0: config key 'model.width' must be >= 1, got 0"),
        (["--config", "absent.yaml"], "cannot read config absent.yaml"),
    ],
)
def test_widths_and_the_recipe_are_checked_before_any_timing(tmp_path, capsys, arguments, message):
    assert main(["benchmark", *arguments, "-o", str(tmp_path / "b.json")]) == 2
    assert f"hinet: error: {message}" in capsys.readouterr().err
    assert not (tmp_path / "b.json").exists()


@pytest.mark.skipif(not HAS_TORCH, reason="needs torch")
def test_the_report_times_both_sides_and_records_their_ratio(tmp_path, capsys):
    report_path = tmp_path / "benchmark.json"
    argv = ["benchmark", "--widths", "4", "--tasks", "latency", "--paths", "keras", "torch"]
    assert main([*argv, "--rounds", "2", "--runs", "1", "--warmup", "0", "--threads", "1", "-o", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    rounds = [(result["task"], result["path"], result["round"]) for result in report["results"]]
    assert rounds == [("latency", "keras", 0), ("latency", "torch", 0), ("latency", "keras", 1), ("latency", "torch", 1)]
    for result in report["results"]:  # each from a process of its own, with its timings and memory
        assert result["runs"] == 1 and result["threads"] == 1 and result["converted_here"] == 0, result
        assert 0 < result["min_s"] <= result["median_s"] <= result["max_s"] and result["peak_rss_mib"] > 50
    summary = {(row["task"], row["path"]): row for row in report["summary"]}
    assert set(summary) == {("latency", "keras"), ("latency", "torch")}
    assert summary["latency", "keras"]["ratio_to_torch"] > 0 and summary["latency", "torch"]["ratio_to_torch"] == 1.0
    assert "x torch" in capsys.readouterr().out
    machine = report["machine"]  # where it was measured: the CPU and the libraries
    assert machine["cpu"] and machine["cores"] >= 1 and isinstance(machine["isa_flags"], list)
    assert {"python", "tensorflow", "keras", "torch"} <= set(machine["libraries"])


@pytest.mark.skipif(not HAS_TORCH, reason="needs torch")
def test_both_training_steps_update_the_weights():
    """The training cases' steps, run here (the report test covers the processes around them)."""
    from hinet_tf import official_benchmark

    config = benchmark.case_config({"width": 4}).replace(model={"depth": 3})  # 3 levels: tracing dominates
    official = official_benchmark.function("train", "torch", config, 1, None, None)
    ours = benchmark._keras_train_step(config)
    for step in (official, ours):
        first, second = (float(np.ravel(step())[0]) for _ in range(2))  # train_on_batch: [loss, metrics...]
        assert np.isfinite(first) and second != first  # the first step changed the weights the second saw


def test_failed_cases_are_reported_and_the_command_fails_after_writing_the_report(tmp_path, capsys, monkeypatch):
    failed = {"task": "latency", "path": "onnx", "width": 4, "round": 0, "error": "onnxruntime: no such kernel"}
    timed = {"task": "latency", "path": "keras", "width": 4, "round": 0, "median_s": 0.5, "peak_rss_mib": 300.0}
    report = {"results": [timed, failed], "summary": benchmark.summarize([timed, failed])}
    monkeypatch.setattr(benchmark, "run_benchmark", lambda *args: report)
    assert main(["benchmark", "--widths", "4", "--tasks", "latency", "-o", str(tmp_path / "b.json")]) == 2
    output = capsys.readouterr()
    assert "error: onnxruntime: no such kernel" in output.out
    assert output.err.splitlines() == ["hinet: error: 1 of 2 benchmark processes failed (their errors are above)"]
    assert json.loads((tmp_path / "b.json").read_text())["results"][1] == failed


def test_the_report_is_not_overwritten_without_asking(tmp_path, capsys):
    report = tmp_path / "benchmark.json"
    report.write_text(json.dumps({"keep": True}))
    assert main(["benchmark", "--widths", "4", "-o", str(report)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert json.loads(report.read_text()) == {"keep": True}
    assert main(["benchmark", "--widths", "4", "-o", str(tmp_path), "--overwrite"]) == 2  # before any timing
    assert f"{tmp_path} is a folder; a file is written there" in capsys.readouterr().err


@pytest.mark.parametrize("flag", [["--runs", "0"], ["--threads", "0"], ["--rounds", "0"]])
def test_bad_counts_are_refused(tmp_path, flag, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["benchmark", "-o", str(tmp_path / "b.json"), *flag])
    assert exit_info.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "b.json").exists()


def test_an_unwritable_report_folder_is_refused_before_any_timing(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert main(["benchmark", "--widths", "4", "-o", str(blocker / "b.json")]) == 2
    assert "a_file" in capsys.readouterr().err
