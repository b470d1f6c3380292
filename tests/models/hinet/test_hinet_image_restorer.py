"""HINetImageRestorer: any size in, the final image out, the summed stage loss, save and load."""

import numpy as np
import pytest

import keras

from hinet_tf import losses
from hinet_tf.models import HINetBackbone
from hinet_tf.models import HINetImageRestorer
from hinet_tf.models import image_restorer


def _images(batch=2, height=32, width=32, seed=0):
    return np.random.default_rng(seed).random((batch, height, width, 3)).astype("float32")


def test_any_size_is_reflect_padded_and_cropped_back_inside_the_model():
    restorer = HINetImageRestorer(HINetBackbone(width=4))
    images = _images(1, 37, 50)
    padded = np.pad(images, ((0, 0), (0, 11), (0, 14), (0, 0)), mode="reflect")
    expected = keras.ops.convert_to_numpy(restorer.backbone(padded)[-1])[:, :37, :50]
    restored = restorer(images)
    assert restored.shape == (1, 37, 50, 3)  # one image: the final stage only
    np.testing.assert_allclose(keras.ops.convert_to_numpy(restored), expected, atol=1e-6)
    np.testing.assert_allclose(restorer.predict(images, verbose=0), expected, atol=1e-6)


def test_sizes_that_are_multiples_pass_through_unpadded():
    restorer = HINetImageRestorer(HINetBackbone(width=4))
    images = _images(1, 32, 48)
    np.testing.assert_array_equal(restorer(images), restorer.backbone(images)[-1])
    assert [tuple(output.shape) for output in restorer.stage_outputs(_images(1, 20, 36))] == [(1, 20, 36, 3)] * 2


def test_integer_images_are_refused_not_restored_as_if_in_0_1():
    restorer = HINetImageRestorer(HINetBackbone(width=4, depth=3))
    pixels = (_images(1, 16, 16) * 255).astype("uint8")
    for restore in (restorer, lambda images: restorer.predict(images, verbose=0)):
        for images in (pixels, pixels.astype("int32")):
            with pytest.raises(ValueError, match="float images in \\[0, 1\\], got u?int.*`images / 255` as float32"):
                restore(images)
    assert restorer.predict(pixels / 255, verbose=0).shape == (1, 16, 16, 3)  # float64 is cast as before


def test_compute_loss_is_the_weighted_sum_over_the_stages():
    restorer = HINetImageRestorer(HINetBackbone(width=4))
    restorer.compile(loss="l1", stage_weights=(0.25, 1.0))
    degraded, target = _images(seed=1), _images(seed=2)
    stage1, stage2 = restorer.backbone(degraded)
    expected = 0.25 * float(losses.L1Loss()(target, stage1)) + float(losses.L1Loss()(target, stage2))
    loss = restorer.compute_loss(degraded, target, restorer(degraded), training=False)
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_sample_weights_weigh_each_image_s_loss_in_evaluate_and_fit():
    restorer = HINetImageRestorer(HINetBackbone(width=4, depth=3))
    restorer.compile(loss="l1", stage_weights=(0.25, 1.0))
    degraded, target = _images(4, 16, 16, seed=1), _images(4, 16, 16, seed=2)
    loss = restorer.evaluate(degraded, target, batch_size=4, verbose=0, return_dict=True)["loss"]
    weights = np.array([2.0, 0.0, 0.0, 0.0], "float32")
    stage1, stage2 = restorer.backbone(degraded[:1])
    first = 0.25 * float(losses.L1Loss()(target[:1], stage1)) + float(losses.L1Loss()(target[:1], stage2))
    weighted = restorer.evaluate(degraded, target, sample_weight=weights, batch_size=4, verbose=0, return_dict=True)
    assert weighted["loss"] == pytest.approx(first * 2 / 4, rel=1e-4) and weighted["loss"] != pytest.approx(loss)
    before = [keras.ops.convert_to_numpy(weight) for weight in restorer.trainable_weights]
    restorer.fit(degraded, target, sample_weight=np.zeros(4, "float32"), batch_size=4, epochs=1, verbose=0)
    after = [keras.ops.convert_to_numpy(weight) for weight in restorer.trainable_weights]
    assert all(np.array_equal(old, new) for old, new in zip(before, after))  # zero weights: no gradient
    restorer.compile(loss=keras.losses.MeanSquaredError())  # one value per pixel: the weights would meet the width
    with pytest.raises(ValueError, match="sample_weight weighs images: it needs a loss of one value per image"):
        restorer.evaluate(degraded, target, sample_weight=weights, batch_size=4, verbose=0)


def test_compile_names_what_it_takes_instead_of_metrics_and_loss_weights():
    restorer = HINetImageRestorer(HINetBackbone(width=4, depth=3))
    with pytest.raises(ValueError, match="takes no metrics: it logs the PSNR of each stage .* never update others"):
        restorer.compile(metrics=["mae"])
    with pytest.raises(ValueError, match="Use `stage_weights` for the loss weight of each stage"):
        restorer.compile(loss_weights=[0.5, 0.5])


def test_keras_loss_names_are_summed_over_the_stages_as_the_own_ones():
    restorer = HINetImageRestorer(HINetBackbone(width=4, depth=3))
    restorer.compile(optimizer="adam", loss="mse", stage_weights=(0.25, 1.0))
    degraded, target = _images(2, 16, 16, seed=1), _images(2, 16, 16, seed=2)
    stage1, stage2 = restorer.backbone(degraded)
    mse = keras.losses.MeanSquaredError()
    expected = 0.25 * float(mse(target, stage1)) + float(mse(target, stage2))
    assert float(restorer.compute_loss(degraded, target)) == pytest.approx(expected, rel=1e-5)
    assert np.isfinite(restorer.fit(degraded, target, verbose=0).history["loss"][0])
    with pytest.raises(ValueError, match="Unknown loss 'ssim'; choose one of psnr, psnr_y, l1 or a Keras loss"):
        restorer.compile(loss="ssim")


def test_compiled_task_round_trips_with_its_optimizer_state(tmp_path):
    restorer = HINetImageRestorer(HINetBackbone(width=4, depth=3, hin_levels=(1, 2)))
    restorer.compile(loss="psnr", stage_weights=(0.5, 0.5))
    restorer.train_on_batch(_images(), _images(seed=5))
    restorer.save(tmp_path / "task.keras")
    loaded = keras.saving.load_model(tmp_path / "task.keras")
    assert type(loaded) is HINetImageRestorer and type(loaded.backbone) is HINetBackbone
    assert loaded.stage_weights == (0.5, 0.5) and int(loaded.optimizer.iterations) == 1
    images = _images(1, 20, 40)
    np.testing.assert_array_equal(loaded(images), restorer(images))


def test_compile_configs_of_0_2_clip_with_the_optimizer():
    """hinet-tf 0.2 saved `clip_norm` in the compile config and clipped in the task; now the optimizer clips."""
    saved = HINetImageRestorer(HINetBackbone(width=2, depth=2))
    saved.compile(optimizer=keras.optimizers.SGD(0.1), loss="l1", stage_weights=(0.5, 1.0))
    old_config = {**saved.get_compile_config(), "clip_norm": 0.01}
    loaded = HINetImageRestorer(HINetBackbone(width=2, depth=2))
    loaded.compile_from_config(old_config)
    assert loaded.optimizer.global_clipnorm == 0.01 and loaded.stage_weights == (0.5, 1.0)
    assert "clip_norm" not in loaded.get_compile_config()


def test_mixed_precision_task_keeps_the_backbone_policy_and_float32_images():
    restorer = HINetImageRestorer(HINetBackbone(width=4, dtype="mixed_float16"))
    assert restorer.dtype_policy.name == "mixed_float16"
    assert restorer(_images(1, 20, 20)).dtype == "float32"
    revived = HINetImageRestorer.from_config(restorer.get_config())
    assert revived.backbone.dtype_policy.name == "mixed_float16"


def test_image_restorer_wraps_backbones_only():
    backbone = HINetBackbone(width=4)
    wrapped = image_restorer(backbone)
    assert isinstance(wrapped, HINetImageRestorer) and wrapped.backbone is backbone
    assert image_restorer(wrapped) is wrapped
    inputs = keras.Input((None, None, 3))
    with pytest.raises(ValueError, match="returns 2 images"):
        image_restorer(keras.Model(inputs, [inputs, inputs]))


def test_a_one_stage_model_trains_and_evaluates():
    restorer = HINetImageRestorer(HINetBackbone(width=4, depth=3, num_stages=1))
    restorer.compile(loss="l1")
    degraded, target = _images(3, 16, 16, seed=1), _images(3, 16, 16, seed=2)  # a batch of more than one image
    history = restorer.fit(degraded, target, batch_size=3, epochs=1, verbose=0).history
    assert np.isfinite(history["loss"][0]) and "psnr_stage1" in history and "psnr_stage2" not in history
    assert restorer.predict(degraded, verbose=0).shape == degraded.shape


def test_compile_and_training_refuse_what_cannot_work_in_one_line():
    restorer = HINetImageRestorer(HINetBackbone(width=4, depth=3))
    for empty in ({"metrics": []}, {"weighted_metrics": []}):  # Keras would build metrics that never update
        with pytest.raises(ValueError, match="takes no metrics"):
            restorer.compile(**empty)
    with pytest.raises(ValueError, match=r"stage_weights needs 2 values \(one per stage\), got 0.5"):
        restorer.compile(stage_weights=0.5)
    grey = HINetImageRestorer(HINetBackbone(width=4, depth=3, in_channels=1))
    with pytest.raises(ValueError, match="psnr_y loss compares the Y channel of RGB images; this model takes 1 channels"):
        grey.compile(loss="psnr_y")
    restorer.compile(loss="l1", stage_weights=np.array([0.5, 1.0]))  # any sequence of two numbers
    assert restorer.stage_weights == (0.5, 1.0)
    degraded, target = _images(2, 16, 16, seed=1), _images(2, 16, 16, seed=2)
    for step in (restorer.fit, restorer.evaluate):
        with pytest.raises(ValueError, match=r"one value per image, got shape \((None|2), 16, 16\)"):
            step(degraded, target, sample_weight=np.ones((2, 16, 16), "float32"), verbose=0)
    history = restorer.fit(degraded, target, verbose=0)  # TensorFlow: a new trace may create the optimizer's state
    assert np.isfinite(history.history["loss"][0])
    assert np.isfinite(restorer.evaluate(degraded, target, verbose=0)[0])  # still usable after the refusals
