"""Official PyTorch checkpoints <-> Keras: parity with the official outputs, round trips, strictness."""

import collections
import functools
import pathlib
import re
import sys

import keras
import numpy as np
import pytest

from hinet_tf.models import HINetBackbone
from hinet_tf.cli.main import main
from hinet_tf.convert import CheckpointError
from hinet_tf.convert import convert_checkpoint
from hinet_tf.convert import from_pytorch
from hinet_tf.convert import infer_config
from hinet_tf.convert import read_state_dict
from hinet_tf.convert import save_pytorch_checkpoint
from hinet_tf.convert import to_pytorch_state_dict
from hinet_tf.convert.checkpoint_io import write_state_dict
from hinet_tf.convert.state_dict import check_state_dict

DATA = pathlib.Path(__file__).resolve().parents[1] / "data"
SHARED_FIXTURES = pathlib.Path(__file__).resolve().parents[3] / "shared" / "fixtures"
HIN_LEVELS = {"hin0-4": (0, 1, 2, 3, 4), "hin3-4": (3, 4)}
TOLERANCE = 1e-4


@functools.cache
def official(layout):
    """The fixture: PyTorch-layout params, NHWC input, and the official stage outputs in NHWC."""
    with np.load(DATA / f"hinet_wf8_{layout}.npz") as archive:
        params = {name.removeprefix("params/"): archive[name] for name in archive.files if name.startswith("params/")}
        nhwc = {name: archive[name].transpose(0, 2, 3, 1) for name in ("input_nchw", "stage1_nchw", "stage2_nchw")}
    return params, nhwc["input_nchw"], nhwc["stage1_nchw"], nhwc["stage2_nchw"]


def params_of(layout):
    return {key: value.copy() for key, value in official(layout)[0].items()}


def assert_matches_official(model, layout):
    _, images, stage1, stage2 = official(layout)
    outputs = model(images)
    assert np.abs(keras.ops.convert_to_numpy(outputs[0]) - stage1).max() < TOLERANCE
    assert np.abs(keras.ops.convert_to_numpy(outputs[1]) - stage2).max() < TOLERANCE


def shared_pth(layout):
    path = SHARED_FIXTURES / f"hinet_wf8_{layout}.pth"
    if not path.is_file():
        pytest.skip(f"{path} is absent: the .pth fixtures live in ../shared/fixtures next to the repository")
    pytest.importorskip("torch", reason="reading .pth checkpoints needs torch (pip install '.[torch]')")
    return path


@pytest.mark.parametrize("layout", HIN_LEVELS)
def test_npz_checkpoint_matches_the_official_outputs(layout):
    model = from_pytorch(DATA / f"hinet_wf8_{layout}.npz")
    assert (model.width, model.depth, model.hin_levels, model.in_channels) == (8, 5, HIN_LEVELS[layout], 3)
    assert_matches_official(model, layout)


@pytest.mark.parametrize("layout", HIN_LEVELS)
def test_pth_checkpoint_matches_the_official_outputs(layout):
    model = from_pytorch(shared_pth(layout), width=8, depth=5, hin_levels=HIN_LEVELS[layout][::-1])
    assert model.hin_levels == HIN_LEVELS[layout]
    assert_matches_official(model, layout)


@pytest.mark.parametrize("layout", HIN_LEVELS)
def test_round_trip_gives_identical_arrays_in_the_official_order(layout):
    params = params_of(layout)
    state_dict = to_pytorch_state_dict(from_pytorch(params))
    assert list(state_dict) == list(params)
    for key, array in params.items():
        assert state_dict[key].dtype == np.float32
        np.testing.assert_array_equal(state_dict[key], array, err_msg=key)


def test_official_wrapper_module_prefix_and_torch_tensors_are_accepted():
    torch = pytest.importorskip("torch", reason="the mapping holds torch tensors")
    params = params_of("hin3-4")
    wrapped = {"params": {f"module.{key}": torch.from_numpy(value) for key, value in params.items()}}
    assert_matches_official(from_pytorch(wrapped), "hin3-4")


@pytest.mark.parametrize("layout", HIN_LEVELS)
def test_full_size_official_key_layout(layout):
    listed = {}
    for line in (DATA / "official_state_dict_wf64.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            key, shape = line.split("\t")
            listed[key] = tuple(int(size) for size in shape.strip("()").split(",") if size.strip())
    if layout == "hin3-4":  # the GoPro / REDS checkpoints: no norm in encoder levels 0-2
        listed = {key: shape for key, shape in listed.items() if not re.match(r"down_path_[12]\.[012]\.norm\.", key)}
    # Broadcast zeros have the shapes without the memory of the 88M-parameter model.
    state_dict = {key: np.broadcast_to(np.float32(0), shape) for key, shape in listed.items()}
    config = infer_config(state_dict)
    assert config == {"width": 64, "depth": 5, "hin_levels": HIN_LEVELS[layout], "in_channels": 3}
    check_state_dict(HINetBackbone(**config), state_dict)


def test_written_npz_reads_back_identically(tmp_path):
    model = from_pytorch(params_of("hin0-4"))
    path = tmp_path / "weights.npz"
    save_pytorch_checkpoint(model, path)
    written = read_state_dict(path)
    assert list(written) == list(official("hin0-4")[0])
    for key, array in official("hin0-4")[0].items():
        np.testing.assert_array_equal(written[key], array, err_msg=key)


def test_written_pth_has_the_official_format(tmp_path):
    torch = pytest.importorskip("torch", reason="writing .pth needs torch")
    path = tmp_path / "weights.pth"
    save_pytorch_checkpoint(from_pytorch(params_of("hin3-4")), path)
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    assert list(checkpoint) == ["params"]
    assert list(checkpoint["params"]) == list(official("hin3-4")[0])
    for key, array in official("hin3-4")[0].items():
        np.testing.assert_array_equal(checkpoint["params"][key].numpy(), array, err_msg=key)
    assert_matches_official(from_pytorch(path), "hin3-4")


def test_missing_unexpected_and_misshaped_tensors_are_all_listed():
    params = params_of("hin0-4")
    del params["down_path_2.3.norm.bias"]
    del params["last.bias"]
    params["down_path_1.0.extra.weight"] = np.zeros((8,), "float32")
    params["sam12.conv2.weight"] = np.zeros((4, 8, 3, 3), "float32")
    with pytest.raises(CheckpointError) as error:
        from_pytorch(params)
    message = str(error.value)
    assert "2 missing: down_path_2.3.norm.bias; last.bias | 1 unexpected: down_path_1.0.extra.weight | " in message
    assert "1 with a wrong shape: sam12.conv2.weight: (4, 8, 3, 3), expected (3, 8, 3, 3)" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda params: params.pop("up_path_1.2.conv_block.conv_2.weight"), "1 missing"),
        (lambda params: params.update({"head.weight": np.zeros(3, "float32")}), "1 unexpected"),
        (lambda params: params.update({"cat12.bias": np.zeros(9, "float32")}), r"cat12.bias: \(9,\), expected \(8,\)"),
        (lambda params: params.update({"cat12.bias": np.zeros(8, "int64")}), "cat12.bias: int64, expected floating"),
    ],
)
def test_each_mismatch_fails_naming_the_file(tmp_path, change, expected):
    params = params_of("hin3-4")
    change(params)
    source = tmp_path / "broken.npz"
    np.savez(source, **params)
    with pytest.raises(CheckpointError, match=f"(?s)broken.npz does not fit HINet\\(width=8.*{expected}"):
        from_pytorch(source)


def test_a_non_hinet_file_is_named_in_the_error(tmp_path):
    path = tmp_path / "resnet.npz"
    np.savez(path, **{"fc.weight": np.zeros((10, 4), "float32"), "fc.bias": np.zeros(10, "float32")})
    with pytest.raises(CheckpointError, match=r"resnet.npz is not a HINet checkpoint.*fc.bias, fc.weight"):
        from_pytorch(path)
    text = tmp_path / "notes.pth"
    text.write_text("not a checkpoint")
    pytest.importorskip("torch", reason="reading .pth needs torch")
    with pytest.raises(CheckpointError, match="notes.pth is not a readable PyTorch checkpoint"):
        from_pytorch(text)
    pickled = tmp_path / "object.pth"  # a pickle that weights-only loading refuses
    torch = pytest.importorskip("torch")
    torch.save({"a": torch.zeros(1), "b": pathlib.PurePosixPath("code")}, pickled)
    with pytest.raises(CheckpointError) as error:
        from_pytorch(pickled)
    assert str(error.value).endswith("object.pth is not a readable PyTorch checkpoint (truncated, corrupt, or not a "
                                     "plain state dict): safe (weights-only) loading refused it")
    assert "weights_only" not in str(error.value)


def test_a_pth_holding_something_else_than_a_state_dict_fails(tmp_path):
    torch = pytest.importorskip("torch", reason="writing .pth needs torch")
    path = tmp_path / "list.pth"
    torch.save([torch.zeros(3)], path)
    with pytest.raises(CheckpointError, match="list.pth holds a list, not a state dict"):
        from_pytorch(path)


def test_truncated_files_fail_with_their_name(tmp_path):
    data = (DATA / "hinet_wf8_hin3-4.npz").read_bytes()
    npz = tmp_path / "cut.npz"
    npz.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cut.npz is not a .npz archive"):
        from_pytorch(npz)
    torch = pytest.importorskip("torch", reason="writing .pth needs torch")
    full = tmp_path / "full.pth"
    torch.save({"params": {key: torch.from_numpy(value) for key, value in params_of("hin3-4").items()}}, full)
    pth = tmp_path / "cut.pth"
    pth.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="cut.pth is not a readable PyTorch checkpoint"):
        from_pytorch(pth)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(CheckpointError, match="absent.pth: no such file"):
        from_pytorch(tmp_path / "absent.pth")
    with pytest.raises(CheckpointError, match=f"^{re.escape(str(tmp_path))} is a folder, not a file$"):
        from_pytorch(tmp_path)


def test_without_torch_pth_files_fail_with_the_install_hint(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    checkpoint = tmp_path / "model.pth"
    checkpoint.write_bytes(b"anything")
    hint = r'pip install "hinet-tf\[torch\]".*\.npz'
    with pytest.raises(CheckpointError, match=hint):
        from_pytorch(checkpoint)
    output = tmp_path / "out.pth"
    with pytest.raises(CheckpointError, match=hint):
        save_pytorch_checkpoint(from_pytorch(params_of("hin3-4")), output)
    assert not output.exists()


def test_a_file_of_another_type_is_refused_naming_the_accepted_suffixes(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # not the install hint: the file is no checkpoint at all
    notes = tmp_path / "README.md"
    notes.write_text("# notes")
    with pytest.raises(CheckpointError, match=r"README.md is no checkpoint: expected a .pth, .pt or .npz file$"):
        from_pytorch(notes)
    assert main(["convert", str(notes), "-o", str(tmp_path / "r.keras")]) == 2
    err = capsys.readouterr().err
    assert "README.md is no checkpoint: expected a .pth, .pt or .npz file" in err and err.count("\n") == 1, err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["README.md"]


def test_cli_without_torch_refuses_a_pth_output_before_loading_the_model(tmp_path, capsys, monkeypatch):
    keras_path = tmp_path / "w.keras"
    HINetBackbone(width=4, depth=3).save(keras_path)
    monkeypatch.setitem(sys.modules, "torch", None)
    assert main(["convert", str(keras_path), "--to-pytorch", "-o", str(tmp_path / "w.pth")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and 'pip install "hinet-tf[torch]"' in err and err.count("\n") == 1, (out, err)
    assert main(["convert", str(keras_path), "--to-pytorch", "-o", str(tmp_path / "w.npz")]) == 0  # needs no torch


def test_explicit_arguments_are_checked_against_the_checkpoint():
    params = params_of("hin3-4")
    with pytest.raises(CheckpointError, match="width=64 was asked for, the checkpoint has 8"):
        from_pytorch(params, width=64)
    with pytest.raises(CheckpointError, match=r"hin_levels=\(0, 1, 2, 3, 4\) was asked for, the checkpoint has \(3, 4\)"):
        from_pytorch(params, hin_levels=None)
    with pytest.raises(CheckpointError, match="num_stages=1"):
        from_pytorch(params, num_stages=1)
    with pytest.raises(TypeError, match="unknown HINet arguments"):
        from_pytorch(params, wf=8)


@pytest.mark.parametrize(
    "kwargs", [{"num_stages": 1, "skip_connections": False}, {"num_extra_blocks": 1}, {"norm": "instance"}]
)
def test_layouts_without_an_official_counterpart_are_refused(kwargs):
    with pytest.raises(ValueError, match="map to the official checkpoints"):
        to_pytorch_state_dict(HINetBackbone(width=4, depth=3, **kwargs))


def test_writing_refuses_to_overwrite_and_unknown_suffixes(tmp_path):
    model = HINetBackbone(width=4, depth=3)
    existing = tmp_path / "weights.npz"
    existing.write_bytes(b"user data")
    with pytest.raises(FileExistsError, match="weights.npz already exists"):
        save_pytorch_checkpoint(model, existing)
    assert existing.read_bytes() == b"user data"
    save_pytorch_checkpoint(model, existing, overwrite=True)
    assert infer_config(read_state_dict(existing))["width"] == 4
    with pytest.raises(ValueError, match="use .pth or .npz"):
        save_pytorch_checkpoint(model, tmp_path / "weights.h5")


def test_a_failed_checkpoint_write_leaves_nothing(tmp_path):
    class Unwritable:
        def __array__(self, *args, **kwargs):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):  # after the first array is in the archive
        write_state_dict({"conv_01.weight": np.zeros((2, 2)), "conv_01.bias": Unwritable()}, tmp_path / "out.npz")
    assert list(tmp_path.iterdir()) == []


def test_cli_converts_both_ways(tmp_path, capsys):
    source = DATA / "hinet_wf8_hin3-4.npz"
    keras_path = tmp_path / "gopro_like.keras"
    assert main(["convert", str(source), "-o", str(keras_path)]) == 0
    printed = capsys.readouterr().out
    expected_params = f"{HINetBackbone(width=8, hin_levels=(3, 4)).count_params():,}"
    assert "hin_levels   [3, 4]" in printed and f"parameters   {expected_params}" in printed
    assert_matches_official(keras.saving.load_model(keras_path), "hin3-4")

    back = tmp_path / "back.npz"
    assert main(["convert", str(keras_path), "--to-pytorch", "-o", str(back)]) == 0
    written = read_state_dict(back)
    assert list(written) == list(official("hin3-4")[0])
    for key, array in official("hin3-4")[0].items():
        np.testing.assert_array_equal(written[key], array, err_msg=key)


def test_cli_creates_missing_folders_as_every_command_does(tmp_path, capsys):
    keras_path, preset, back = tmp_path / "a" / "b" / "x.keras", tmp_path / "c" / "d" / "p", tmp_path / "e" / "f" / "x.npz"
    assert main(["convert", str(DATA / "hinet_wf8_hin3-4.npz"), "-o", str(keras_path), "--preset-dir", str(preset)]) == 0
    assert main(["convert", str(keras_path), "--to-pytorch", "-o", str(back)]) == 0
    assert keras_path.is_file() and (preset / "config.json").is_file() and back.is_file()


def test_outputs_that_cannot_be_written_are_refused_before_converting(tmp_path, capsys):
    source, keras_path = DATA / "hinet_wf8_hin3-4.npz", tmp_path / "x.keras"
    assert main(["convert", str(source), "-o", str(keras_path)]) == 0
    (tmp_path / "a_file").write_text("where a folder should be")
    blocked = [tmp_path / "a_file" / "sub"] + ([pathlib.Path("/proc")] if sys.platform == "linux" else [])
    for folder in blocked:
        with pytest.raises(ValueError, match=f"^cannot write into {re.escape(str(folder))}: "):
            convert_checkpoint(source, preset_dir=folder / "p")
        for argv in (
            [str(source), "-o", str(folder / "x.keras")],
            [str(source), "--preset-dir", str(folder / "p")],
            [str(keras_path), "--to-pytorch", "-o", str(folder / "x.npz")],
        ):
            capsys.readouterr()
            assert main(["convert", *argv]) == 2, argv
            out, err = capsys.readouterr()
            assert "HINet" not in out, argv  # refused before converting: nothing loaded
            assert err.startswith(f"hinet: error: cannot write into {folder}: ") and err.count("\n") == 1, err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a_file", "x.keras"]


def test_cli_refuses_to_overwrite_and_checks_presets(tmp_path, capsys):
    source = DATA / "hinet_wf8_hin0-4.npz"
    output = tmp_path / "out.keras"
    output.write_bytes(b"keep me")
    assert main(["convert", str(source), "-o", str(output)]) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert output.read_bytes() == b"keep me"
    assert main(["convert", str(source), "-o", str(tmp_path / "x.keras"), "--preset", "hinet_sidd_1x"]) == 2
    assert "width=64 was asked for, the checkpoint has 8" in capsys.readouterr().err
    assert main(["convert", str(source), "-o", str(tmp_path / "x.h5")]) == 2
    assert "must end in .keras" in capsys.readouterr().err
    params = params_of("hin0-4")
    del params["conv_02.bias"]
    broken = tmp_path / "broken.npz"
    np.savez(broken, **params)
    assert main(["convert", str(broken), "-o", str(tmp_path / "x.keras")]) == 2
    assert "broken.npz does not fit" in capsys.readouterr().err
    broken.unlink()
    output.write_bytes(b"not a zip")
    assert main(["convert", str(output), "--to-pytorch", "-o", str(tmp_path / "x.npz")]) == 2
    assert "out.keras is not a valid .keras file" in capsys.readouterr().err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.keras"]
