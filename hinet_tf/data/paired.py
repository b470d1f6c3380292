"""tf.data pipelines of (degraded, target) float32 image pairs in [0, 1].

`image_pairs` reads full images; `training_batches` turns any dataset of full image pairs
(from files, TFRecord shards or clean photos) into batches of crops, `validation_images`
into the fixed images that validation restores whole.
"""

import tensorflow as tf

from hinet_tf.data import augment
from hinet_tf.data.decode import read_image

AUTOTUNE = tf.data.AUTOTUNE


def image_pairs(pairs, shuffle=False, seed=None):
    """Full `(degraded, target)` images from a list of `(degraded_path, target_path)`."""
    degraded, target = [str(path) for path, _ in pairs], [str(path) for _, path in pairs]
    dataset = tf.data.Dataset.from_tensor_slices((degraded, target))
    if shuffle:
        dataset = dataset.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)
    return dataset.map(lambda d, t: (read_image(d), read_image(t)), num_parallel_calls=AUTOTUNE)


def clean_images(paths, shuffle=False, seed=None, scales=(1.0,)):
    """Full `(clean, clean)` image pairs from clean-only photos, to be degraded on the fly.

    Each photo comes once per factor in `scales`, resized by it (bicubic, antialiased when
    shrinking): enlarged photos have less fine detail per pixel, as camera photos do.
    """
    names = [str(path) for path in paths] * len(scales)
    factors = [float(scale) for scale in scales for _ in paths]
    dataset = tf.data.Dataset.from_tensor_slices((names, factors))
    if shuffle:
        dataset = dataset.shuffle(len(names), seed=seed, reshuffle_each_iteration=True)
    return dataset.map(lambda path, scale: (rescale(read_image(path), scale),) * 2, num_parallel_calls=AUTOTUNE)


def rescale(image, scale):
    """`image` resized by `scale` (bicubic, antialiased, clipped to [0, 1]); itself when `scale` is 1."""

    def resize():
        size = tf.maximum(tf.cast(tf.round(tf.cast(tf.shape(image)[:2], tf.float32) * scale), tf.int32), 1)
        return tf.clip_by_value(tf.image.resize(image, size, method="bicubic", antialias=True), 0.0, 1.0)

    return tf.cond(tf.equal(scale, 1.0), lambda: image, resize)


def training_batches(
    images, crop_size, batch_size, augment_flips=True, degrade=None, patches_per_image=1, shuffle_buffer=32
):
    """Endless batches of random crops of `images` (a dataset of full image pairs).

    Args:
        images: dataset of `(degraded, target)` full images.
        crop_size: side of the square crops; smaller images are reflect-padded.
        batch_size: the global batch size.
        augment_flips: apply one of the 8 flips/rotations, the same to both images.
        degrade: optional function applied to the degraded crop (synthetic degradation).
        patches_per_image: crops taken from each decoded image (fewer decodes per batch).
        shuffle_buffer: crops mixed before batching when `patches_per_image > 1`.
    """

    def crop(degraded, target):
        degraded, target = augment.random_crop_pair(degraded, target, crop_size)
        if augment_flips:
            degraded, target = augment.random_dihedral_pair(degraded, target)
        if degrade is not None:
            degraded = degrade(degraded)
        return degraded, target

    dataset = images.repeat()
    if patches_per_image > 1:
        dataset = dataset.flat_map(lambda d, t: tf.data.Dataset.from_tensors((d, t)).repeat(patches_per_image))
    dataset = dataset.map(crop, num_parallel_calls=AUTOTUNE)
    if patches_per_image > 1:
        dataset = dataset.shuffle(shuffle_buffer)
    return _finish(dataset.batch(batch_size, drop_remainder=True))


def validation_images(images, crop_size=None, degrade=None, max_images=None):
    """The first `max_images` pairs, optionally centre-cropped, degraded once and cached: every epoch sees the same."""

    def prepare(degraded, target):
        if crop_size:
            degraded, target = augment.center_crop_pair(degraded, target, crop_size)
        if degrade is not None:
            degraded = degrade(degraded)
        return degraded, target

    if max_images:
        images = images.take(max_images)
    return images.map(prepare, num_parallel_calls=AUTOTUNE).cache()


def _finish(dataset):
    options = tf.data.Options()
    # The file list is read by a map, not a file reader: shard the elements across workers.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options).prefetch(AUTOTUNE)
