"""Recipes: the shipped configs hold the paper's values; bad keys and values are named; overrides work."""

import pathlib

import keras
import numpy as np
import pytest

from hinet_tf.cli.main import main
from hinet_tf.training import config as config_lib
from hinet_tf.training.schedules import CosineWithWarmup

RECIPES = ("sidd_1x", "sidd_0.5x", "gopro", "reds", "rain13k")


def _write(tmp_path, text):
    path = tmp_path / "recipe.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", RECIPES)
def test_official_recipes_hold_the_common_settings(name):
    config = config_lib.load_config(f"configs/{name}.yaml")
    assert config.optimizer.learning_rate == 2e-4 and config.optimizer.clip_norm == 0.01
    assert config.train.steps == 400000 and config.train.batch_size == 64
    assert config.train.crop_size == 256 and config.data.augment


def test_official_recipes_hold_the_table_per_task():
    sidd, half, gopro, reds, rain = (config_lib.load_config(f"configs/{name}.yaml") for name in RECIPES)
    assert (sidd.model.width, half.model.width, gopro.model.width) == (64, 32, 64)
    assert sidd.loss.to_dict() == {"name": "l1", "weight": 1.0} and gopro.loss.to_dict() == {"name": "psnr", "weight": 0.5}
    assert gopro.model.hin_levels == reds.model.hin_levels == [3, 4]
    assert rain.model.hin_levels == [0, 1, 2, 3, 4]
    assert sidd.optimizer.beta_2 == 0.999 and gopro.optimizer.beta_2 == 0.99
    assert sidd.optimizer.min_learning_rate == 1e-6 and reds.optimizer.min_learning_rate == 1e-7
    assert rain.optimizer.warmup_steps == 10000 and gopro.optimizer.warmup_steps == 0
    assert (sidd.data.layout, sidd.data.val_split) == ("sidd", "sidd_blocks")
    assert (reds.data.layout, reds.data.val_split) == ("reds", "val")
    # Validation as the official ymls: whole images on the 256 grid, 8-bit PSNR (Y for Rain13k); SIDD blocks in float.
    for recipe in (gopro, reds, rain):
        assert (recipe.data.val_crop, recipe.data.val_tile) == (None, 256)
    assert sidd.data.val_tile is None


@pytest.mark.parametrize("path", sorted(pathlib.Path("configs").glob("*.yaml")), ids=lambda path: path.stem)
def test_every_recipe_trains_with_the_pytorch_adam(path):
    """No config reaches Keras' Adam: build_model always makes a TorchAdam with PyTorch's epsilon."""
    from hinet_tf.optimizers import TorchAdam
    from hinet_tf.training.trainer import build_model

    config = config_lib.load_config(path, ["model.width=2", "model.hin_levels=null", "train.init_weights=null"])
    assert config.optimizer.epsilon == 1e-8
    optimizer = build_model(config).optimizer
    assert type(optimizer) is TorchAdam and optimizer.epsilon == 1e-8


@pytest.mark.parametrize("key", ["val_batch_size", "val_y_channel", "val_quantize"])
def test_retired_keys_still_load_with_a_warning(tmp_path, key):
    path = _write(tmp_path, f"data:\n  {key}: 8\n")
    with pytest.warns(UserWarning, match=f"'data.{key}' is no longer used"):
        assert key not in config_lib.load_config(path).data.to_dict()


def test_photo_recipe_is_small_blind_gaussian_denoising():
    config = config_lib.load_config("configs/photos_cpu.yaml")
    assert config.data.layout == "photos" and config.train.batch_size == 8
    assert 8 <= config.model.width <= 16 and 64 <= config.train.crop_size <= 128
    assert config.data.degradations == [{"type": "gaussian_noise", "sigma": [0, 50]}]


def test_overrides_are_read_as_yaml():
    config = config_lib.load_config(
        "configs/gopro.yaml",
        ["train.batch_size=8", "model.hin_levels=[0, 1]", "optimizer.learning_rate=1e-3", "data.val_split=null"],
    )
    assert config.train.batch_size == 8 and config.model.hin_levels == [0, 1]
    assert config.optimizer.learning_rate == 1e-3 and config.data.val_split is None


@pytest.mark.parametrize(
    "text, message",
    [
        ("train:\n  batchsize: 8\n", r"unknown config key 'train.batchsize' \(did you mean 'train.batch_size'\?\)"),
        ("trian:\n  steps: 8\n", r"unknown config key 'trian' \(did you mean 'train'\?\)"),
        ("train:\n  batch_size: 0\n", r"'train.batch_size' must be >= 1, got 0"),
        ("train:\n  batch_size: 2.5\n", r"'train.batch_size' must be an integer"),
        ("loss:\n  name: ssim\n", r"'loss.name' must be one of psnr, psnr_y, l1; got 'ssim'"),
        ("train:\n  mixed_precision: yes please\n", r"'train.mixed_precision' must be true or false"),
        ("train:\n  steps: 100\n  steps_per_epoch: 30\n", r"'train.steps' \(100\) must be a multiple"),
        ("data:\n  layout: photos\n", r"'data.degradations' must not be empty"),
        ("data:\n  scales: [1, 8]\n", r"'data.scales' must be <= 4.0, got 8"),
        ("train:\n  steps: 1.0e+30\n", r"'train.steps' must be <= 2147483647, got 1e\+30"),
        ("train:\n  seed: 4294967296\n", r"'train.seed' must be <= 4294967295"),
        ("optimizer:\n  beta_2: 1\n", r"'optimizer.beta_2' must be < 1, got 1"),  # Adam would divide by zero
        ("data:\n  layout: gopro\n  scales: [2]\n", r"'data.scales' applies to layout 'photos' only, not 'gopro'"),
        ("data:\n  degradations: [{type: snow}]\n", r"'data.degradations'.*unknown type 'snow'"),
        ("model: [1, 2]\n", r"section 'model' must be a mapping"),
        ("model:\n  width: [\n", r"not valid YAML: expected the node content, but found '<stream end>' \(line 3, column 1\)$"),
    ],
)
def test_bad_configs_name_the_key(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        config_lib.load_config(_write(tmp_path, text))


def test_yaml_exponent_without_dot_is_a_number(tmp_path):
    text = "optimizer:\n  learning_rate: 2e-4\n  min_learning_rate: 1e-7\n"
    text += "data:\n  degradations:\n    - {type: camera, shot_noise: [3e-5, 1.2e-2], gaussian_sigma: [0, 1e1]}\n"
    config = config_lib.load_config(_write(tmp_path, text), ["optimizer.learning_rate=3E+4", "optimizer.epsilon=1e-9"])
    assert (config.optimizer.learning_rate, config.optimizer.min_learning_rate) == (3e4, 1e-7)
    assert type(config.optimizer.epsilon) is float and config.optimizer.epsilon == 1e-9
    camera = config.data.degradations[0]
    assert camera["shot_noise"] == [3e-5, 1.2e-2] and all(type(number) is float for number in camera["shot_noise"])
    assert camera["gaussian_sigma"] == [0, 10.0] and type(camera["gaussian_sigma"][1]) is float
    assert config_lib.parse_override("train.seed=1e3") == ("train", "seed", 1000.0)
    named = config_lib.validate({"data": {"root": "1e5"}})  # a folder named like a number stays a name
    assert config_lib.validate(config_lib.read_yaml(config_lib.dump_config(named))).data.root == "1e5"


def test_bad_override_and_missing_file():
    with pytest.raises(ValueError, match="section.key=value"):
        config_lib.load_config("configs/gopro.yaml", ["batch_size=8"])
    with pytest.raises(ValueError, match="cannot read config"):
        config_lib.load_config("configs/nope.yaml")


def test_validated_config_round_trips_through_yaml():
    import yaml

    config = config_lib.load_config("configs/photos_cpu.yaml")
    assert config_lib.validate(yaml.safe_load(config_lib.dump_config(config))) == config


def test_cli_reports_config_errors_without_traceback(tmp_path, capsys):
    assert main(["train", "configs/gopro.yaml", "--out", str(tmp_path / "run"), "--set", "train.crop=3"]) == 2
    assert "hinet: error: --set train.crop=3: unknown config key 'train.crop'" in capsys.readouterr().err  # not the file's
    assert not (tmp_path / "run").exists()
    (tmp_path / "typo.yaml").write_text("train:\n  crop: 3\n")
    assert main(["train", str(tmp_path / "typo.yaml"), "--out", str(tmp_path / "run"), "--set", "train.steps=10"]) == 2
    assert f"hinet: error: {tmp_path / 'typo.yaml'}: unknown config key 'train.crop'" in capsys.readouterr().err
    overrides = ["--set", "data.degradations=[]"]
    assert main(["train", "configs/photos_cpu.yaml", "--out", str(tmp_path / "run"), *overrides]) == 2
    error = capsys.readouterr().err
    assert error.startswith("hinet: error: --set data.degradations=[]: config key 'data.degradations' must not be empty")
    assert error.count("\n") == 1


def test_a_bad_override_is_blamed_on_the_override_not_the_file():
    with pytest.raises(ValueError, match=r"^--set train\.batchsize=8: unknown config key 'train\.batchsize' \(did you mean"):
        config_lib.load_config("configs/gopro.yaml", ["train.batchsize=8"])
    with pytest.raises(ValueError, match=r"^--set train\.batch_size=0: config key 'train\.batch_size' must be >= 1"):
        config_lib.load_config("configs/gopro.yaml", ["train.batch_size=0"])
    with pytest.raises(ValueError, match=r"^--set trian\.steps=8: unknown config key 'trian' \(did you mean 'train'"):
        config_lib.load_config("configs/gopro.yaml", ["trian.steps=8"])


def test_a_setting_that_breaks_another_key_is_blamed_on_the_override(tmp_path):
    # photos_cpu.yaml is valid; emptying its degradations breaks layout photos, a check across keys.
    overrides = ["train.seed=3", "data.degradations=[]", "train.log_images=1"]
    with pytest.raises(ValueError, match=r"^--set data\.degradations=\[\]: config key 'data\.degradations' must not be empty"):
        config_lib.load_config("configs/photos_cpu.yaml", overrides)
    path = _write(tmp_path, "data:\n  layout: photos\n")  # the file's own problem, which an override leaves
    with pytest.raises(ValueError, match=rf"^{path}: config key 'data\.degradations' must not be empty"):
        config_lib.load_config(path, ["train.seed=3"])
    valid = config_lib.load_config(path, ["data.degradations=[{type: jpeg}]"])  # and one can mend
    assert valid.data.degradations == [{"type": "jpeg"}]


def _basicsr_learning_rates(peak, total_steps, floor, warmup_steps, iterations):
    """The rates of BasicSR's iterations 1..N: torch's CosineAnnealingLR stepped per iteration, then warm-up."""
    torch = pytest.importorskip("torch")
    optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=peak)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps, eta_min=floor)
    rates = []
    for iteration in range(1, iterations + 1):  # BasicSR's update_learning_rate(current_iter, warmup_iter)
        if iteration > 1:
            optimizer.step()
            scheduler.step()
        if iteration < warmup_steps:
            optimizer.param_groups[0]["lr"] = peak / warmup_steps * iteration
        rates.append(optimizer.param_groups[0]["lr"])
    return np.array(rates)


@pytest.mark.parametrize("warmup_steps", [0, 1, 2, 30])
def test_cosine_schedule_is_basicsr_step_for_step(warmup_steps):
    total_steps, steps = 200, 260  # past the end of the cosine too
    schedule = CosineWithWarmup(peak=2e-4, total_steps=total_steps, floor=1e-7, warmup_steps=warmup_steps)
    ours = np.array([float(schedule(step)) for step in range(steps)])
    official = _basicsr_learning_rates(2e-4, total_steps, 1e-7, warmup_steps, steps)
    np.testing.assert_allclose(ours[:total_steps], official[:total_steps], rtol=2e-5, atol=1e-12)
    np.testing.assert_allclose(ours[total_steps:], 1e-7, rtol=1e-4)  # torch's cosine would rise again


def test_cosine_schedule_serialises_and_checks_its_arguments():
    warm = CosineWithWarmup(peak=2e-4, total_steps=1000, floor=1e-7, warmup_steps=100)
    restored = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(warm))
    assert isinstance(restored, CosineWithWarmup) and restored.get_config() == warm.get_config()
    with pytest.raises(ValueError, match="floor <= peak"):
        CosineWithWarmup(peak=1e-4, total_steps=10, floor=1e-3)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_numbers_must_be_finite(value):
    with pytest.raises(ValueError, match="train.steps' must be a finite number"):
        config_lib.validate({"train": {"steps": value}})


def test_text_is_not_a_number():  # the YAML loader reads `2e-4` as a float; the checks take no strings
    with pytest.raises(ValueError, match=r"'optimizer.learning_rate' must be a number, got '2e-4'"):
        config_lib.validate({"optimizer": {"learning_rate": "2e-4"}})
