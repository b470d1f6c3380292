"""One training step on two logical CPU replicas versus one device, same global batch.

Runs in its own process: logical devices must be configured before TensorFlow starts.
Prints `key=value` lines for tests/test_training.py.
"""

import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402

from hinet_tf import HINet  # noqa: E402

CLIP_NORM = 0.01
GLOBAL_BATCH = 4
LEARNING_RATE = 10.0  # Plain SGD: the update is the clipped gradient, scaled to stand well above rounding.


def make_model():
    keras.utils.set_random_seed(7)
    model = HINet(width=4)
    model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE), loss="psnr", clip_norm=CLIP_NORM, jit_compile=False)
    return model


def one_step(strategy, images, targets):
    with strategy.scope():
        model = make_model()
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

    initial, after_single = one_step(single, images, targets)
    initial_mirrored, after_mirrored = one_step(mirrored, images, targets)
    assert all(np.array_equal(a, b) for a, b in zip(initial, initial_mirrored)), "initial weights differ"

    with tf.GradientTape() as tape:
        keras.utils.set_random_seed(7)
        reference = make_model()
        loss = reference._restoration_loss(targets, reference(images, training=True))
    gradients = tape.gradient(loss, reference.trainable_variables)

    single_update = [a - i for a, i in zip(after_single, initial)]
    mirrored_update = [b - i for b, i in zip(after_mirrored, initial)]
    print(f"replicas={mirrored.num_replicas_in_sync}")
    print(f"clip_norm={CLIP_NORM}")
    print(f"unclipped_grad_norm={float(tf.linalg.global_norm(gradients))}")
    update_difference = global_norm([a - b for a, b in zip(single_update, mirrored_update)])
    weight_difference = global_norm([a - b for a, b in zip(after_single, after_mirrored)])
    print(f"update_norm={global_norm(single_update)}")
    print(f"update_relative_difference={update_difference / global_norm(single_update)}")
    print(f"weight_relative_difference={weight_difference / global_norm(after_single)}")


if __name__ == "__main__":
    main()
