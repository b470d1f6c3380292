"""Losses, the multi-stage train_step, clipping, mixed precision and TorchAdam.

Two replicas against the official step: test_training_parity.py."""

import math

import numpy as np
import pytest

import keras

from hinet_tf.models import HINetBackbone
from hinet_tf.models import HINetImageRestorer
from hinet_tf import losses


def _tiny_model():
    """A 2-level, width-4 HINet: tracing its training step takes a few seconds, not fifteen."""
    return HINetImageRestorer(HINetBackbone(width=4, depth=2))


def _noisy_batch(count=4, size=32, sigma=0.1, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    clean = np.stack(
        [np.stack([np.sin(6 * xx + k), np.cos(5 * yy - k), xx * yy], axis=-1) * 0.4 + 0.5 for k in range(count)]
    ).astype("float32")
    noisy = (clean + rng.normal(0, sigma, clean.shape)).astype("float32")
    return noisy, clean


def test_psnr_loss_is_minus_the_mean_per_image_psnr():
    rng = np.random.default_rng(1)
    target = rng.random((3, 8, 8, 3)).astype("float32")
    prediction = (target + rng.normal(0, 0.1, target.shape)).astype("float32")
    mse = ((prediction - target) ** 2).mean(axis=(1, 2, 3))
    expected = np.mean(10 / math.log(10) * np.log(mse + 1e-8))
    assert float(losses.PSNRLoss()(target, prediction)) == pytest.approx(expected, rel=1e-5)
    psnr = -10 * np.log10(mse)
    assert float(losses.PSNRLoss()(target, prediction)) == pytest.approx(-psnr.mean(), rel=1e-4)


def test_psnr_loss_on_the_y_channel():
    rng = np.random.default_rng(2)
    target = rng.random((2, 8, 8, 3)).astype("float32")
    prediction = np.clip(target + rng.normal(0, 0.05, target.shape), 0, 1).astype("float32")
    weights = np.array([65.481, 128.553, 24.966])

    def luma(images):
        return ((images * weights).sum(-1) + 16.0) / 255.0

    mse = ((luma(prediction) - luma(target)) ** 2).mean(axis=(1, 2))
    expected = np.mean(10 / math.log(10) * np.log(mse + 1e-8))
    assert float(losses.PSNRLoss(y_channel=True)(target, prediction)) == pytest.approx(expected, rel=1e-4)


def test_l1_loss_and_loss_lookup():
    target = np.zeros((2, 4, 4, 3), "float32")
    prediction = np.full((2, 4, 4, 3), 0.25, "float32")
    assert float(losses.get("l1")(target, prediction)) == pytest.approx(0.25)
    assert losses.get("psnr_y").y_channel
    with pytest.raises(ValueError, match="Unknown loss"):
        losses.get("ssim")


def test_loss_decreases_on_a_tiny_denoising_batch():
    noisy, clean = _noisy_batch()
    model = _tiny_model()
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="psnr", stage_weights=(0.5, 0.5))
    history = model.fit(noisy, clean, batch_size=4, epochs=40, verbose=0)
    loss = history.history["loss"]
    assert np.isfinite(loss).all()
    assert np.mean(loss[-5:]) < np.mean(loss[:5]) - 1.5  # decibels (minus PSNR)
    assert set(history.history) >= {"loss", "psnr_stage1", "psnr_stage2", "psnr"}
    assert history.history["psnr_stage2"][-1] > history.history["psnr_stage2"][0]


def test_validation_reports_the_final_stage_psnr():
    noisy, clean = _noisy_batch()
    model = _tiny_model()
    model.compile(optimizer="adam")
    results = model.evaluate(noisy, clean, batch_size=2, return_dict=True, verbose=0)
    stage2 = model.predict(noisy, verbose=0)
    mse = ((np.clip(stage2, 0, 1) - clean) ** 2).mean(axis=(1, 2, 3))
    assert results["psnr"] == pytest.approx(np.mean(-10 * np.log10(mse)), abs=1e-3)


def test_gradient_clipping_bounds_the_global_step_norm():
    noisy, clean = _noisy_batch()
    model = _tiny_model()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0, global_clipnorm=1e-3))
    before = [np.array(v) for v in model.trainable_variables]
    model.train_on_batch(noisy, clean)
    step = np.sqrt(sum(((np.array(v) - b) ** 2).sum() for v, b in zip(model.trainable_variables, before)))
    assert step == pytest.approx(1e-3, rel=1e-3)


def test_compile_rejects_wrong_stage_weights():
    model = _tiny_model()
    with pytest.raises(ValueError, match="stage_weights"):
        model.compile(optimizer="adam", stage_weights=(1.0,))


def test_mixed_precision_training_step():
    keras.mixed_precision.set_global_policy("mixed_float16")
    noisy, clean = _noisy_batch()
    model = _tiny_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    before = [np.array(v) for v in model.trainable_variables]
    # Dynamic loss scaling skips the first steps while it halves an overflowing scale.
    for _ in range(8):
        logs = model.train_on_batch(noisy, clean, return_dict=True)
    assert np.isfinite(logs["loss"])
    assert int(model.optimizer.iterations) > 0
    assert all(output.dtype == "float32" for output in model.stage_outputs(noisy))
    assert model.backbone.get_layer("down_path_1_0").conv_1.compute_dtype == "float16"
    assert any(not np.allclose(np.array(v), b) for v, b in zip(model.trainable_variables, before))


def test_adam_by_name_is_the_pytorch_adam():
    from hinet_tf.optimizers import TorchAdam

    model = _tiny_model()
    model.compile()
    assert isinstance(model.optimizer, TorchAdam) and model.optimizer.epsilon == 1e-8
    assert model.optimizer.global_clipnorm == 0.01  # the official recipes' clipping
    with pytest.raises(ValueError, match="weight_decay"):
        TorchAdam(weight_decay=1e-4)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_torch_adam_follows_torch_optim_adam(amsgrad):
    torch = pytest.importorskip("torch")
    from hinet_tf.optimizers import TorchAdam

    rng = np.random.default_rng(0)
    initial = (rng.normal(size=(64,)) * 1e-3).astype("float32")  # small: float32 rounding of the weights stays below 1e-10
    # Gradients from 1e-11 to 1e-3: below, near and above epsilon, where Keras' Adam differs.
    gradients = [(rng.normal(size=64) * 10.0 ** rng.uniform(-11, -3, 64)).astype("float32") for _ in range(5)]
    ours = keras.Variable(initial)
    optimizer = TorchAdam(1e-3, beta_1=0.9, beta_2=0.99, amsgrad=amsgrad)
    theirs = torch.nn.Parameter(torch.from_numpy(initial.copy()))
    reference = torch.optim.Adam([theirs], lr=1e-3, betas=(0.9, 0.99), eps=1e-8, amsgrad=amsgrad)
    for gradient in gradients:
        optimizer.apply([gradient], [ours])
        theirs.grad = torch.from_numpy(gradient)
        reference.step()
    np.testing.assert_allclose(np.array(ours) - initial, theirs.detach().numpy() - initial, rtol=1e-4, atol=1e-10)


def test_torch_adam_reloads_with_its_state_under_loss_scaling(tmp_path):
    from hinet_tf.optimizers import TorchAdam

    keras.mixed_precision.set_global_policy("mixed_float16")
    noisy, clean = _noisy_batch()
    model = _tiny_model()
    model.compile(optimizer=TorchAdam(1e-3, beta_2=0.99, epsilon=1e-8))
    assert isinstance(model.optimizer.inner_optimizer, TorchAdam)
    for _ in range(3):
        model.train_on_batch(noisy, clean)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    assert isinstance(restored.optimizer.inner_optimizer, TorchAdam)
    assert restored.optimizer.inner_optimizer.get_config() == model.optimizer.inner_optimizer.get_config()
    for saved, loaded in zip(model.optimizer.variables, restored.optimizer.variables):
        np.testing.assert_array_equal(np.array(saved), np.array(loaded))
    assert int(restored.optimizer.iterations) == int(model.optimizer.iterations)
