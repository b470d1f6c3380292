"""`scripts/benchmark_quality.py --testset`: the protocol of the published colour denoising tables."""

import importlib.util
import json
import math
import pathlib
import re
import sys

import numpy as np
import pytest
from PIL import Image

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "benchmark_quality.py"


@pytest.fixture(scope="module")
def benchmark_quality():
    spec = importlib.util.spec_from_file_location("benchmark_quality", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[spec.name] = module  # where `--jobs` worker processes look its functions up
    yield module
    del sys.modules[spec.name]


def test_noise_is_seeded_once_per_sigma_and_drawn_image_after_image(benchmark_quality):
    images = [np.full((2, 3, 3), 7, np.uint8), np.full((4, 2, 3), 250, np.uint8)]
    noisy = list(benchmark_quality.published_noisy_images(images, 25))
    np.random.seed(0)
    first = np.random.normal(0, 25 / 255, (2, 3, 3))
    second = np.random.normal(0, 25 / 255, (4, 2, 3))
    np.testing.assert_array_equal(noisy[0], 7 / 255 + first)
    np.testing.assert_array_equal(noisy[1], 250 / 255 + second)
    assert noisy[1].max() > 1  # not clipped
    # Every sigma starts again from seed 0: the same draws, scaled.
    noisy_50 = list(benchmark_quality.published_noisy_images(images, 50))
    np.testing.assert_allclose(noisy_50[0] - 7 / 255, 2 * first)


def test_noise_can_start_again_from_seed_0_at_each_image(benchmark_quality):
    images = [np.zeros((2, 3, 3), np.uint8), np.zeros((2, 3, 3), np.uint8)]
    noisy = list(benchmark_quality.published_noisy_images(images, 25, seed_each_image=True))
    np.testing.assert_array_equal(noisy[0], noisy[1])
    np.random.seed(0)
    np.testing.assert_array_equal(noisy[1], np.random.normal(0, 25 / 255, (2, 3, 3)))


def test_outputs_are_clipped_and_rounded_to_8_bits_before_psnr(benchmark_quality):
    clean = np.zeros((4, 4, 3), np.uint8)
    clean[0, 0] = 255
    output = clean / 255.0 + 0.4 / 255  # rounds back to `clean`
    output[0, 0] = 1.3  # clipped back to 255
    assert benchmark_quality.published_scores(clean, output)["psnr"] == math.inf
    output[1, 1, 0] = 1.6 / 255  # rounds to 2: one error of 2 levels over 48 values
    scores = benchmark_quality.published_scores(clean, output)
    assert scores["psnr"] == pytest.approx(10 * math.log10(255**2 * 48 / 4))
    assert 0.9 < scores["ssim"] < 1


def test_a_test_set_run_reports_models_beside_the_published_table(
    benchmark_quality, identity_model_path, tmp_path
):
    folder = tmp_path / "datasets" / "CBSD68"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("b", "a"):
        Image.fromarray(rng.integers(0, 256, (32, 48, 3), dtype=np.uint8)).save(folder / f"{name}.png")
    benchmark_quality.main([
        "--testset", "cbsd68", "--datasets", str(tmp_path / "datasets"), "--methods", "--sigmas", "15",
        "--model", f"identity={identity_model_path}", "--backend", "keras", "--out", str(tmp_path / "out"),
        "--cache", str(tmp_path / "cache"),
    ])
    report = json.loads((tmp_path / "out" / "quality_cbsd68.json").read_text())
    assert report["photos"] == ["a", "b"]
    noisy, identity = report["per_photo"]["noisy"]["15"], report["per_photo"]["identity"]["15"]
    assert identity["a"]["psnr"] == pytest.approx(noisy["a"]["psnr"], abs=0.01)
    assert report["timed_images"] == {"identity": 2}
    assert report["median_seconds_per_image"]["identity"]["cpu"] > 0
    table = (tmp_path / "out" / "quality_cbsd68.md").read_text()
    assert "| CBM3D (published) | 33.52 | 30.71 | 27.38 |" in table
    assert f"| identity (measured here) | {report['mean']['identity']['15']['psnr']:.2f} | - | - |" in table


def test_a_missing_test_set_is_named(benchmark_quality, tmp_path):
    with pytest.raises(SystemExit, match="McMaster"):
        benchmark_quality.main(["--testset", "mcmaster", "--datasets", str(tmp_path), "--out", str(tmp_path)])


def test_cbm3d_in_parallel_sees_the_noise_of_the_sequential_protocol(benchmark_quality, tmp_path):
    folder = tmp_path / "datasets" / "McMaster"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (24, 32, 3), dtype=np.uint8) for _ in range(2)]
    for name, image in zip(("1", "2"), images):
        Image.fromarray(image).save(folder / f"{name}.tif")
    benchmark_quality.main([
        "--testset", "mcmaster", "--datasets", str(tmp_path / "datasets"), "--sigmas", "50", "--jobs", "2",
        "--timing-images", "0", "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache"),
    ])
    report = json.loads((tmp_path / "out" / "quality_mcmaster.json").read_text())
    assert report["timed_images"] == {"CBM3D": 2}
    second_noisy = list(benchmark_quality.published_noisy_images(images, 50))[1]
    expected = benchmark_quality.cbm3d(second_noisy, 50)
    cached = np.load(tmp_path / "cache" / f"{benchmark_quality.cbm3d_key('2', 'mcmaster_seed0', 50)}.npy")
    # The same noise gives the same output up to float rounding (1e-6 here; another noise draw: 0.1).
    np.testing.assert_allclose(cached, expected, atol=1e-4)


def _real_noise_folder(folder, crops, size=32):
    """Writes `NAME_real.png` / `NAME_mean.png` pairs; returns `{name: (noisy, mean)}` as uint8."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    written = {}
    for name, sigma in crops.items():
        mean = np.repeat(np.repeat(rng.integers(40, 216, (size // 8, size // 8, 3)), 8, 0), 8, 1).astype(np.uint8)
        noisy = np.clip(np.round(mean + rng.normal(0, sigma, mean.shape)), 0, 255).astype(np.uint8)
        Image.fromarray(mean).save(folder / f"{name}_mean.png")
        Image.fromarray(noisy).save(folder / f"{name}_real.png")
        written[name] = (noisy, mean)
    return written


def test_real_noise_pairs_are_scored_per_camera_and_overall(benchmark_quality, identity_model_path, tmp_path):
    from hinet_tf import metrics

    levels = {"CamA_8_800_x_1": 5, "CamA_8_800_y_2": 10, "CamB_4_3200_z_1": 20}
    crops = _real_noise_folder(tmp_path / "Real-Val", levels)
    benchmark_quality.main([
        "--real", str(tmp_path / "Real-Val"), "--methods", "--model", f"identity={identity_model_path}",
        "--backend", "keras", "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache"),
    ])
    report = json.loads((tmp_path / "out" / "quality_real_real_val.json").read_text())
    assert report["crops"] == sorted(crops) and report["cameras"] == ["CamA", "CamB"]
    noisy = report["per_crop"]["noisy"]
    for name, (noisy_image, mean_image) in crops.items():  # each crop scored against its own mean
        assert noisy[name]["psnr"] == pytest.approx(metrics.psnr(noisy_image, mean_image))
        true_sigma = np.std(noisy_image / 255.0 - mean_image / 255.0) * 255
        assert report["noise_sigma_255"][name]["true"] == pytest.approx(true_sigma)
    mean = report["mean"]["noisy"]
    assert (mean["CamA"]["count"], mean["CamB"]["count"], mean["all"]["count"]) == (2, 1, 3)
    camera_a = (noisy["CamA_8_800_x_1"]["psnr"] + noisy["CamA_8_800_y_2"]["psnr"]) / 2
    assert mean["CamA"]["psnr"] == pytest.approx(camera_a)
    assert mean["all"]["psnr"] == pytest.approx(np.mean([scores["psnr"] for scores in noisy.values()]))
    assert report["mean"]["identity"]["all"]["psnr"] == pytest.approx(mean["all"]["psnr"], abs=0.05)
    table = (tmp_path / "out" / "quality_real_real_val.md").read_text()
    assert "| method | CamA (2 crops) | CamB (1 crops) | all (3 crops) |" in table
    assert f"| noisy | {mean['CamA']['psnr']:.2f} dB" in table
    assert f"Timed on: {report['host']['cpu']}, {report['host']['cores']} cores" in table  # seconds name their CPU
    figure = Image.open(tmp_path / "out" / "quality_real_real_val.png")  # per camera: noisy | identity | mean
    tile = 2 * benchmark_quality.FIGURE_CROP_SIZE
    assert figure.size == (3 * tile, 2 * (tile + 18))


def test_classical_methods_are_told_the_true_or_the_estimated_noise_level(benchmark_quality, tmp_path, monkeypatch):
    from skimage.restoration import estimate_sigma

    (noisy, mean), = _real_noise_folder(tmp_path / "real", {"Cam_1": 15}).values()
    told = []

    def cbm3d(image, sigma):  # CBM3D itself is checked above; here, what it is told
        told.append(sigma)
        return benchmark_quality.nl_means(image, sigma, **benchmark_quality.REAL_NLM)

    monkeypatch.setattr(benchmark_quality, "cbm3d", cbm3d)
    benchmark_quality.main([
        "--real", str(tmp_path / "real"), "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache"),
    ])
    report = json.loads((tmp_path / "out" / "quality_real_real.json").read_text())
    true_sigma = np.std(noisy / 255.0 - mean / 255.0) * 255
    estimated = estimate_sigma(noisy / 255.0, channel_axis=-1, average_sigmas=True) * 255
    assert told == pytest.approx([true_sigma, estimated], rel=1e-3)
    assert true_sigma == pytest.approx(15, rel=0.1) and estimated == pytest.approx(15, rel=0.3)
    scores = {method: by_group["all"]["psnr"] for method, by_group in report["mean"].items()}
    assert set(scores) == {"noisy", "NLM (true sigma)", "CBM3D (true sigma)", "CBM3D (estimated sigma)"}
    assert scores["NLM (true sigma)"] > scores["noisy"] + 1  # flat blocks: non-local means helps


def test_an_unpaired_real_noise_crop_is_refused_before_anything_is_written(benchmark_quality, tmp_path):
    folder = tmp_path / "real"
    _real_noise_folder(folder, {"CamA_1": 5, "CamA_2": 5})
    (folder / "CamA_2_mean.png").unlink()
    with pytest.raises(SystemExit, match=r"1 file\(s\) in .* have no partner in .*CamA_2_real.png") as error:
        benchmark_quality.main(["--real", str(folder), "--methods", "--out", str(tmp_path / "out")])
    assert "\n" not in str(error.value)
    assert not (tmp_path / "out").exists()


def test_16_bit_crops_are_scored_on_the_0_255_scale_not_clipped(benchmark_quality, tmp_path):
    from hinet_tf import metrics

    folder = tmp_path / "real"
    folder.mkdir()
    rng = np.random.default_rng(0)
    mean = np.repeat(np.repeat(rng.integers(10_000, 55_000, (4, 4)), 8, 0), 8, 1)
    noisy = np.clip(mean + rng.normal(0, 10 * 257, mean.shape), 0, 65535)
    for kind, image in (("mean", mean), ("real", noisy)):
        Image.fromarray(image.astype(np.uint16)).save(folder / f"Cam_1_{kind}.png")  # 16-bit grey
    benchmark_quality.main(["--real", str(folder), "--methods", "--out", str(tmp_path / "out"),
                            "--cache", str(tmp_path / "cache")])
    report = json.loads((tmp_path / "out" / "quality_real_real.json").read_text())
    mean_8, noisy_8 = (np.round(image.astype(np.uint16) / 257).astype(np.uint8) for image in (mean, noisy))
    true_sigma = np.std(noisy_8 / 255.0 - mean_8 / 255.0) * 255
    assert report["noise_sigma_255"]["Cam_1"]["true"] == pytest.approx(true_sigma)
    assert true_sigma == pytest.approx(10, rel=0.1)  # clipped to 255, both would be white: sigma 0
    assert report["per_crop"]["noisy"]["Cam_1"]["psnr"] == pytest.approx(metrics.psnr(noisy_8, mean_8))


def test_a_grey_mean_beside_an_rgb_crop_is_refused_before_anything_is_written(benchmark_quality, tmp_path):
    folder = tmp_path / "real"
    _real_noise_folder(folder, {"CamA_1": 5})
    Image.open(folder / "CamA_1_mean.png").convert("L").save(folder / "CamA_1_mean.png")
    message = r"CamA_1_real.png has shape \(32, 32, 3\) but .*CamA_1_mean.png has shape \(32, 32, 1\)"
    with pytest.raises(SystemExit, match=message) as error:
        benchmark_quality.main(["--real", str(folder), "--methods", "--out", str(tmp_path / "out")])
    assert "\n" not in str(error.value)
    assert not (tmp_path / "out").exists()


def test_a_crop_in_two_files_is_refused_not_one_of_them_dropped(benchmark_quality, tmp_path):
    folder = tmp_path / "real"
    _real_noise_folder(folder, {"CamA_1": 5})
    Image.open(folder / "CamA_1_real.png").save(folder / "CamA_1_real.jpg")
    with pytest.raises(SystemExit, match=r"CamA_1_real.jpg and .*CamA_1_real.png are one crop in two files; keep one") as error:
        benchmark_quality.main(["--real", str(folder), "--methods", "--out", str(tmp_path / "out")])
    assert "\n" not in str(error.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "layer, returned",
    [("strided", r"\(1, 8, 8, 3\) for images \(1, 16, 16, 3\)"), ("grey", r"\(None, None, None, 1\)")],
)
def test_a_model_that_does_not_return_its_input_shape_is_refused_by_name(benchmark_quality, tmp_path, layer, returned):
    import keras

    _real_noise_folder(tmp_path / "real", {"CamA_1": 5})
    images = keras.Input((None, None, 3))
    convolution = keras.layers.Conv2D(3, 3, strides=2, padding="same") if layer == "strided" else \
        keras.layers.Conv2D(1, 3, padding="same")
    model_path = tmp_path / f"{layer}.keras"
    keras.Model(images, convolution(images)).save(model_path)
    with pytest.raises(SystemExit, match=rf"Model .*{layer}.keras returns {returned}") as error:
        benchmark_quality.main([
            "--real", str(tmp_path / "real"), "--methods", "--model", f"bad={model_path}", "--backend", "keras",
            "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache"),
        ])
    assert "\n" not in str(error.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--sigmas", "-5"], "argument --sigmas: must be at least 1, got -5"),
        (["--crop", "-3"], "argument --crop: must be at least 0, got -3"),
        (["--jobs", "0"], "argument --jobs: must be at least 1, got 0"),
        (["--model", "T={model}@0"], "argument --model: .* and a positive TILE, got 'T=.*m.keras@0'"),
        (["--model", "T={missing}"], "argument --model: .*, got 'T=.*missing.keras'"),
        (["--model", "T={model}", "--model", "U={model}", "--model", "T={model}@8"],
         "argument --model: the label 'T' is given twice: give each model its own LABEL"),
    ],
)
def test_bad_arguments_are_refused_in_one_line_before_any_work(benchmark_quality, tmp_path, capsys, arguments, message):
    _real_noise_folder(tmp_path / "real", {"CamA_1": 5})
    (tmp_path / "m.keras").touch()  # a tile of 0 is refused before the file is read
    paths = {"model": tmp_path / "m.keras", "missing": tmp_path / "missing.keras"}
    arguments = [argument.format(**paths) for argument in arguments]
    with pytest.raises(SystemExit) as error:
        benchmark_quality.main(["--real", str(tmp_path / "real"), "--methods", "--out", str(tmp_path / "out"),
                                "--cache", str(tmp_path / "cache"), *arguments])
    assert error.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and re.search(message, err), err
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()


def test_without_the_benchmark_extra_help_works_and_a_run_says_what_to_install(tmp_path, capsys, monkeypatch):
    for name in ("skimage", "skimage.metrics", "skimage.restoration", "bm3d"):
        monkeypatch.setitem(sys.modules, name, None)  # `import name` now raises ImportError
    spec = importlib.util.spec_from_file_location("benchmark_quality_without_extra", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(SystemExit) as error:
        module.main(["--help"])
    assert error.value.code == 0 and "--testset" in capsys.readouterr().out
    _real_noise_folder(tmp_path / "real", {"CamA_1": 5})
    arguments = ["--real", str(tmp_path / "real"), "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache")]
    for methods, missing in ((["--methods", "nlm"], "skimage"), ([], "skimage and bm3d")):
        with pytest.raises(SystemExit, match=rf'^{missing} missing: .*pip install -e "\.\[benchmark\]"$'):
            module.main([*arguments, *methods])
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()


@pytest.mark.parametrize("report", ["quality_real_real.md", "quality_real_real.png", "quality_cbsd68.json"])
def test_an_existing_report_is_refused_before_any_work_unless_overwrite(
    benchmark_quality, tmp_path, monkeypatch, report
):
    _real_noise_folder(tmp_path / "real", {"CamA_1": 5})
    (tmp_path / "datasets" / "CBSD68").mkdir(parents=True)
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / "datasets" / "CBSD68" / "a.png")
    benchmark = ["--testset", "cbsd68", "--datasets", str(tmp_path / "datasets"), "--sigmas", "15"] \
        if "cbsd68" in report else ["--real", str(tmp_path / "real")]
    arguments = [*benchmark, "--methods", "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache")]
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / report).write_text("the user's")
    monkeypatch.setattr(benchmark_quality, "published_scores", lambda *images: pytest.fail("scored before refusing"))
    with pytest.raises(SystemExit, match=rf"out/{report} already exists; .*`--overwrite`") as error:
        benchmark_quality.main(arguments)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "cache").exists()
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [report]
    assert (tmp_path / "out" / report).read_text() == "the user's"
    monkeypatch.undo()
    benchmark_quality.main([*arguments, "--overwrite"])
    assert (tmp_path / "out" / report).read_bytes() != b"the user's"


def test_an_out_that_is_a_file_is_refused_before_any_work(benchmark_quality, tmp_path):
    _real_noise_folder(tmp_path / "real", {"CamA_1": 5})
    (tmp_path / "out").write_text("a file")
    with pytest.raises(SystemExit, match=r"cannot write into .*out: .*out is a file, not a folder") as error:
        benchmark_quality.main(["--real", str(tmp_path / "real"), "--methods", "--out", str(tmp_path / "out"),
                                "--cache", str(tmp_path / "cache")])
    assert "\n" not in str(error.value)
    assert not (tmp_path / "cache").exists()


def test_reports_go_to_a_folder_of_their_own_by_default_not_over_the_committed_ones(
    benchmark_quality, tmp_path, monkeypatch
):
    _real_noise_folder(tmp_path / "real", {"CamA_1": 5})
    monkeypatch.chdir(tmp_path)
    benchmark_quality.main(["--real", "real", "--methods"])
    assert (tmp_path / "quality_results" / "quality_real_real.json").exists()
    assert not (tmp_path / "docs").exists()
