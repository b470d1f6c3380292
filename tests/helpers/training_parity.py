"""Training steps of `trainer.build_model(config)` next to the official PyTorch step, from the same weights and batches.

The official step is BasicSR's `ImageRestorationModel.optimize_parameters` as
HINET_REFERENCE.md writes it out: the loss summed over both stage outputs,
`clip_grad_norm_(params, clip)`, then `torch.optim.Adam(lr, betas, eps)`, with
`CosineAnnealingLR` stepped once per iteration.

Run as a script (`--replicas 2`) it sets up logical CPU devices first and trains the
Keras side under `tf.distribute.MirroredStrategy`, counting the gradient all-reduces, and
prints one JSON line per recipe.
"""

import argparse
import json
import pathlib

import numpy as np

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
STEPS = 3
WIDTH = 4
DEPTH = 3
OVERRIDES = (f"model.width={WIDTH}", "train.batch_size=2", "train.mixed_precision=false")


def recipe(name, overrides=()):
    """The recipe at width 4 and depth 3, its HIN levels counted from the bottom level as in the recipe.

    Three levels keep every kind (with and without HIN, the bottom) and trace in about half the
    time of the recipes' five; the fixtures check the full depth.
    """
    from hinet_tf.training.config import load_config

    path = REPO_ROOT / "configs" / f"{name}.yaml"
    model = load_config(path, OVERRIDES).model
    shift = model.depth - DEPTH
    levels = "null" if model.hin_levels is None else [level - shift for level in model.hin_levels if level >= shift]
    return load_config(path, (*OVERRIDES, f"model.depth={DEPTH}", f"model.hin_levels={levels}", *overrides))


def batches(count=STEPS, batch_size=2, size=32, seed=0):
    """`count` (degraded, target) NHWC float32 batches: smooth targets with noise of at least 0.05.

    The L1 loss's gradient jumps where a residual crosses zero; keeping every residual away
    from zero keeps float rounding from flipping one and changing the step.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    result = []
    for _ in range(count):
        phases = rng.uniform(0, 6, (batch_size, 1, 1, 3))
        target = 0.5 + 0.4 * np.sin(5 * xx[None, ..., None] + 3 * yy[None, ..., None] + phases)
        noise = rng.choice([-1.0, 1.0], target.shape) * (0.05 + np.abs(rng.normal(0, 0.05, target.shape)))
        degraded = target + noise
        result.append((degraded.astype("float32"), target.astype("float32")))
    return result


def official_updates(config, state_dict, data):
    """The official step, `len(data)` times from `state_dict` (PyTorch layout); returns the updated tensors."""
    import torch

    from hinet_tf.convert.official_torch import HINet as OfficialHINet
    from hinet_tf.convert.official_torch import training_step

    model_config = config.model
    network = OfficialHINet(model_config.width, model_config.depth, tuple(model_config.hin_levels))
    network.load_state_dict({key: torch.from_numpy(value) for key, value in state_dict.items()}, strict=True)
    network.train()
    step = training_step(network, config)
    for degraded, target in data:
        step(*(torch.from_numpy(array.transpose(0, 3, 1, 2).copy()) for array in (degraded, target)))
    return {key: value.detach().numpy().copy() for key, value in network.state_dict().items()}


def keras_updates(model, data, strategy=None):
    """Trains the compiled `model` on `data` (one batch a step) with `fit`; returns its tensors in PyTorch layout."""
    import tensorflow as tf

    from hinet_tf.convert import to_pytorch_state_dict

    degraded = np.concatenate([batch[0] for batch in data])
    target = np.concatenate([batch[1] for batch in data])
    dataset = tf.data.Dataset.from_tensor_slices((degraded, target)).batch(len(data[0][0]))
    if strategy is not None:
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        dataset = dataset.with_options(options)
    model.fit(dataset, epochs=1, shuffle=False, verbose=0)
    return to_pytorch_state_dict(model)


def zero_gradient_coordinates(key, value, config):
    """A mask of the coordinates of tensor `key` whose gradient is zero in exact arithmetic.

    Half instance normalisation subtracts each normalised channel's mean, so the bias of
    `conv_1` in those channels cannot change the output: both frameworks compute float
    rounding noise (about 1e-11 after clipping) as its gradient, and Adam, dividing by
    `sqrt(v) + 1e-8`, turns that noise into small steps that differ between any two
    implementations. These coordinates are compared separately.
    """
    mask = np.zeros(value.shape, bool)
    parts = key.split(".")
    model = config.model
    hin_levels = range(model.depth) if model.hin_levels is None else model.hin_levels
    if (
        model.norm == "half_instance"
        and parts[0].startswith("down_path_")
        and int(parts[1]) in hin_levels
        and parts[2:] == ["conv_1", "bias"]
    ):
        mask[: value.shape[0] // 2] = True
    return mask


def relative_update_differences(before, ours, official, config):
    """Per tensor: `||our update - official update|| / ||official update||`, over the coordinates with a gradient.

    Also returns the largest step, in units of the peak learning rate, that either side takes
    on a coordinate of `zero_gradient_coordinates`.
    """
    differences, noise_step = {}, 0.0
    for key, initial in before.items():
        official_update = official[key].astype("float64") - initial
        our_update = ours[key].astype("float64") - initial
        noise = zero_gradient_coordinates(key, initial, config)
        if noise.any():
            noise_step = max(noise_step, float(np.abs(official_update[noise]).max()), float(np.abs(our_update[noise]).max()))
        signal = ~noise
        differences[key] = float(
            np.linalg.norm(our_update[signal] - official_update[signal]) / np.linalg.norm(official_update[signal])
        )
    return differences, noise_step / config.optimizer.learning_rate


def compare(recipe_name, strategy=None, optimizer=None, overrides=()):
    """Trains a recipe's model (with `section.key=value` overrides) both ways; returns `relative_update_differences` and the Keras model."""
    import keras

    from hinet_tf.convert import to_pytorch_state_dict
    from hinet_tf.training.trainer import build_model

    config = recipe(recipe_name, overrides)
    keras.utils.set_random_seed(3)
    if strategy is None:
        model = build_model(config)
    else:
        with strategy.scope():
            model = build_model(config)
    if optimizer is not None:  # the negative control: the same step with another optimizer
        model.compile(optimizer=optimizer, loss=config.loss.name, stage_weights=(config.loss.weight,) * 2)
    before = {key: value.astype("float64") for key, value in to_pytorch_state_dict(model).items()}
    data = batches()
    official = official_updates(config, {key: value.astype("float32") for key, value in before.items()}, data)
    ours = keras_updates(model, data, strategy)
    differences, noise_step = relative_update_differences(before, ours, official, config)
    return differences, noise_step, model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("recipes", nargs="+")
    args = parser.parse_args()

    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * args.replicas)

    class CountingReduction(tf.distribute.ReductionToOneDevice):
        """Counts the non-scalar tensors (gradients; metrics are scalars) that the strategy all-reduces."""

        reduced_tensors = 0

        def batch_reduce_implementation(self, reduce_op, value_destination_pairs, options):
            CountingReduction.reduced_tensors += sum(
                1 for value, _ in value_destination_pairs if value.values[0].shape.rank
            )
            return super().batch_reduce_implementation(reduce_op, value_destination_pairs, options)

    devices = [device.name for device in tf.config.list_logical_devices("CPU")]
    for name in args.recipes:
        CountingReduction.reduced_tensors = 0
        strategy = tf.distribute.MirroredStrategy(devices, cross_device_ops=CountingReduction())
        differences, noise_step, model = compare(name, strategy)
        print(
            json.dumps(
                {
                    "recipe": name,
                    "replicas": strategy.num_replicas_in_sync,
                    "max_relative_difference": max(differences.values()),
                    "zero_gradient_step": noise_step,
                    "tensors": len(differences),
                    "trainable_variables": len(model.trainable_variables),
                    "reduced_gradient_tensors": CountingReduction.reduced_tensors,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
