"""`hinet benchmark` runs its cases and reports them (timings are measured, never asserted)."""

import json

import pytest

from hinet_tf import benchmark
from hinet_tf.cli.main import main


def test_a_case_runs_in_its_own_process_and_reports_timings_and_memory():
    case = {"task": "latency", "backend": "keras", "width": 4}
    result = benchmark.run_in_subprocess(case, threads=1, runs=2, warmup=0, timeout=300)
    assert "error" not in result, result
    assert result["runs"] == 2 and result["threads"] == 1
    assert 0 < result["min_s"] <= result["median_s"] <= result["max_s"]
    assert result["peak_rss_mib"] > 50


def test_failures_are_reported_per_case():
    result = benchmark.run_in_subprocess({"task": "train", "backend": "litert", "width": 4}, 1, 1, 0, 300)
    assert "LiteRT runs inference only" in result["error"]


def test_the_report_is_not_overwritten_without_asking(tmp_path, capsys):
    report = tmp_path / "benchmark.json"
    report.write_text(json.dumps({"keep": True}))
    assert main(["benchmark", "--widths", "4", "-o", str(report)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert json.loads(report.read_text()) == {"keep": True}


@pytest.mark.parametrize("flag", [["--runs", "0"], ["--threads", "0"]])
def test_bad_counts_are_refused(tmp_path, flag, capsys):
    assert main(["benchmark", "-o", str(tmp_path / "b.json"), *flag]) == 2
    assert not (tmp_path / "b.json").exists()
