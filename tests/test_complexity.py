"""MAC counts and `hinet info`."""

import subprocess
import sys

import pytest

from hinet_tf.models import HINetBackbone
from hinet_tf.models import HINetImageRestorer
from hinet_tf.cli.main import main
from hinet_tf.complexity import count_macs


@pytest.mark.parametrize("width, true, paper", [(64, 157.60, 170.71), (32, 39.54, 42.88)])
def test_macs_match_the_official_figures(width, true, paper):
    macs = count_macs(HINetBackbone(width=width), 256, 256)  # traced only, never run
    assert macs.true / 1e9 == pytest.approx(true, abs=0.005)
    assert macs.paper / 1e9 == pytest.approx(paper, abs=0.005)


def test_macs_scale_with_the_input_area():
    model = HINetBackbone(width=4)
    small, large = count_macs(model, 64, 64), count_macs(model, 128, 128)
    assert large.true == 4 * small.true
    assert large.paper > large.true


def test_info_prints_parameters_and_both_mac_counts(capsys):
    assert main(["info", "hinet_0.5x"]) == 0
    output = capsys.readouterr().out
    assert "22,176,518" in output
    assert "39.54 G true, 42.88 G as the paper counts" in output


def test_info_describes_a_keras_file_as_restore_and_export_take_it(tmp_path, capsys):
    HINetImageRestorer(HINetBackbone(width=4, depth=3)).save(tmp_path / "m.keras")
    assert main(["info", str(tmp_path / "m.keras"), "--size", "32", "32"]) == 0
    output = capsys.readouterr().out
    assert output.startswith(f"{tmp_path / 'm.keras'}: a .keras model") and "width             4" in output


def test_info_rejects_unknown_presets_and_sizes(capsys):
    assert main(["info", "hinet_9x"]) == 2
    assert "Model hinet_9x does not exist; pass a .keras file, a preset directory or a preset" in capsys.readouterr().err
    assert main(["info", "hinet_0.5x", "--size", "100", "100"]) == 2
    assert "multiples of 16" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["info", "hinet_0.5x", "--size", "0", "16"])
    assert "argument --size: must be at least 1, got 0" in capsys.readouterr().err


def test_console_script_help_lists_the_commands():
    result = subprocess.run([sys.executable, "-m", "hinet_tf.cli.main", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "info" in result.stdout
