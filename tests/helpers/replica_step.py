"""One training step on two logical CPU replicas versus one device, same global batch.

Runs in its own process: logical devices must be configured before TensorFlow starts.
Prints `case.key=value` lines for tests/training/test_training.py, for a clipped and an unclipped step.
"""

import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402

from hinet_tf.models import HINetBackbone  # noqa: E402
from hinet_tf.models import HINetImageRestorer  # noqa: E402

GLOBAL_BATCH = 4
# Plain SGD, so that the update is the (clipped) all-reduced gradient times the learning rate,
# large enough to stand well above float rounding of the weights.
CASES = {"clipped": {"clip_norm": 0.01, "learning_rate": 10.0}, "unclipped": {"clip_norm": None, "learning_rate": 0.01}}


def make_model(clip_norm, learning_rate):
    keras.utils.set_random_seed(7)
    model = HINetImageRestorer(HINetBackbone(width=4, depth=3))  # a short graph: tracing dominates
    optimizer = keras.optimizers.SGD(learning_rate, global_clipnorm=clip_norm)
    model.compile(optimizer=optimizer, loss="psnr", jit_compile=False)
    return model


def one_step(strategy, images, targets, case):
    with strategy.scope():
        model = make_model(**case)
    initial = [np.array(v) for v in model.trainable_variables]
    dataset = tf.data.Dataset.from_tensor_slices((images, targets)).batch(GLOBAL_BATCH)
    model.fit(dataset, epochs=1, verbose=0)
    return initial, [np.array(v) for v in model.trainable_variables]


def global_norm(arrays):
    return float(np.sqrt(sum(float((array.astype("float64") ** 2).sum()) for array in arrays)))


def main():
    rng = np.random.default_rng(0)
    targets = rng.random((GLOBAL_BATCH, 32, 32, 3)).astype("float32")
    images = (targets + rng.normal(0, 0.1, targets.shape)).astype("float32")

    devices = [device.name for device in tf.config.list_logical_devices("CPU")]
    mirrored = tf.distribute.MirroredStrategy(devices, cross_device_ops=tf.distribute.ReductionToOneDevice())
    single = tf.distribute.OneDeviceStrategy(devices[0])
    print(f"replicas={mirrored.num_replicas_in_sync}")

    reference = make_model(**CASES["unclipped"])
    with tf.GradientTape() as tape:
        loss = reference.stage_loss(targets, reference.stage_outputs(images, training=True))
    print(f"unclipped_grad_norm={float(tf.linalg.global_norm(tape.gradient(loss, reference.trainable_variables)))}")

    for name, case in CASES.items():
        initial, after_single = one_step(single, images, targets, case)
        initial_mirrored, after_mirrored = one_step(mirrored, images, targets, case)
        assert all(np.array_equal(a, b) for a, b in zip(initial, initial_mirrored)), "initial weights differ"
        single_update = [a - i for a, i in zip(after_single, initial)]
        mirrored_update = [b - i for b, i in zip(after_mirrored, initial)]
        update_difference = global_norm([a - b for a, b in zip(single_update, mirrored_update)])
        weight_difference = global_norm([a - b for a, b in zip(after_single, after_mirrored)])
        print(f"{name}.learning_rate={case['learning_rate']}")
        print(f"{name}.clip_norm={case['clip_norm']}")
        print(f"{name}.update_norm={global_norm(single_update)}")
        print(f"{name}.update_relative_difference={update_difference / global_norm(single_update)}")
        print(f"{name}.weight_relative_difference={weight_difference / global_norm(after_single)}")


if __name__ == "__main__":
    main()
