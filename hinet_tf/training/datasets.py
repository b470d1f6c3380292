"""Builds the training and validation datasets a config describes."""

import warnings
from pathlib import Path

import tensorflow as tf

from hinet_tf.data import check
from hinet_tf.data import layouts
from hinet_tf.data import paired
from hinet_tf.data import sidd_blocks
from hinet_tf.data import synthetic
from hinet_tf.data import tfrecord
from hinet_tf.utils.backend import require_tensorflow


HOLDOUT_SHARE = 5  # a hold-out takes at most a fifth of the folder


def _holdout(items, count, root):
    """`(training items, held-out items, what was done)`: the last `count` items, at most a fifth of them."""
    held = min(count, len(items) // HOLDOUT_SHARE)
    if not held:
        warnings.warn(
            f"{root} has only {len(items)} images: too few to hold any out for validation, so the run trains on "
            f"all and is not validated (best.keras follows the training PSNR)"
        )
        return items, [], "none held out"
    capped = f" capped at a fifth of the {len(items)}" if held < count else ""
    return items[:-held], items[-held:], f"{held} held out for validation: data.val_images={count}{capped}"


def _list(config, root, split):
    """The files of `split` under `root` for the config's layout: photo paths or (degraded, target) pairs."""
    data = config.data
    if data.layout == "photos":
        folder = Path(root) / split if split and split != data.train_split else Path(root)
        files = layouts.list_images(folder)
        if data.check != "none":
            check.check_images(files, full=data.check == "full")
        return files
    pairs = layouts.list_pairs(root, data.layout, split, data.val_subset if split == data.val_split else None)
    if data.check != "none":
        check.check_pairs(pairs, full=data.check == "full")
    return pairs


def _images(config, items, shuffle, scales=(1.0,)):
    seed = config.train.seed
    if config.data.layout == "photos":
        return paired.clean_images(items, shuffle=shuffle, seed=seed, scales=scales)
    return paired.image_pairs(items, shuffle=shuffle, seed=seed)


def _sidd_validation(folder, count):
    noisy, gt = sidd_blocks.read_validation_blocks(folder)
    images = tf.data.Dataset.from_tensor_slices((noisy[:count], gt[:count]))
    return images.map(lambda *pair: tuple(tf.image.convert_image_dtype(block, tf.float32) for block in pair))


def build_datasets(config):
    """Returns `(train_batches, validation_images or None, description)` for a validated `Config`.

    Every file is listed and (by default) decoded once before training, so that missing,
    unmatched, unreadable or mismatched files are reported up front with their names.

    Raises:
        ValueError: naming the folder or files at fault.
    """
    require_tensorflow("The training data pipeline (tf.data)")
    data, train = config.data, config.train
    if not data.root:
        raise ValueError("no training data: give --data DIR (or data.root in the config)")
    root, val_root = data.root, data.val_root or data.root
    degrade = synthetic.build_degradation(data.degradations) if data.degradations else None
    val_images = None
    held_out_note = None
    if data.layout == "tfrecord":
        train_images = tfrecord.tfrecord_pairs(root, data.train_split, shuffle=True, seed=train.seed)
        if data.val_split:
            val_images = tfrecord.tfrecord_pairs(val_root, data.val_split)
        description = f"TFRecord split {data.train_split!r} in {root}"
    else:
        items = _list(config, root, data.train_split)
        if data.val_split == "holdout":
            items, held_out, held_out_note = _holdout(items, data.val_images, root)
            val_images = _images(config, held_out, shuffle=False) if held_out else None
        elif data.val_split == "sidd_blocks":
            val_images = _sidd_validation(val_root, data.val_images)
        elif data.val_split:
            val_items = _list(config, val_root, data.val_split)
            if data.layout == "photos":  # a validation folder inside the photo folder is not trained on
                held_out = set(val_items)
                items = [item for item in items if item not in held_out]
            val_images = _images(config, val_items, shuffle=False)
        train_images = _images(config, items, shuffle=True, scales=data.scales)
        description = f"{len(items)} training {'photos' if data.layout == 'photos' else 'pairs'} in {root}"
        if data.scales != [1.0]:
            description += f" at scales {', '.join(f'{scale:g}' for scale in data.scales)}"
        if held_out_note:
            description += f", {held_out_note}"
    train_batches = paired.training_batches(
        train_images,
        train.crop_size,
        train.batch_size,
        augment_flips=data.augment,
        degrade=degrade,
        patches_per_image=data.patches_per_image,
    )
    if val_images is not None:
        val_images = paired.validation_images(val_images, data.val_crop, degrade=degrade, max_images=data.val_images)
    return train_batches, val_images, description
