"""TFRecord shards of image pairs: the TensorFlow counterpart of the official lmdb files.

A prepared folder holds `<split>-00000-of-00008.tfrecord` ... and `<split>.json` (the
shard names and pair count). Each record keeps the original encoded PNG/JPEG bytes of
both images (no re-encoding, so no loss) and the degraded file's name.
"""

import contextlib
import json
from pathlib import Path

import tensorflow as tf

from hinet_tf.data import check
from hinet_tf.data import layouts
from hinet_tf.data import sidd_blocks
from hinet_tf.data.decode import decode_image
from hinet_tf.utils.atomic import atomic_write
from hinet_tf.utils.atomic import atomic_write_text
from hinet_tf.utils.atomic import check_not_stopped

SIDD_BLOCKS = "sidd_blocks"  # the split of the SIDD validation blocks
_FEATURES = {
    "degraded": tf.io.FixedLenFeature([], tf.string),
    "target": tf.io.FixedLenFeature([], tf.string),
    "name": tf.io.FixedLenFeature([], tf.string),
}


def _bytes(value):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _example(degraded_bytes, target_bytes, name):
    features = {"degraded": _bytes(degraded_bytes), "target": _bytes(target_bytes), "name": _bytes(name.encode())}
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


def write_shards(records, out_dir, split, num_shards, overwrite=False):
    """Writes `(degraded_bytes, target_bytes, name)` records round-robin into shards.

    Each shard is written to a temporary file and renamed when all are complete
    (`hinet_tf.utils.atomic`); the index `<split>.json` comes last. Existing shards of the
    split are an error unless `overwrite`; their index is removed before the first rename,
    so a kill while replacing them leaves no index that mixes old and new shards.

    Returns:
        the number of records written.
    """
    out_dir = Path(out_dir)
    names = [f"{split}-{index:05d}-of-{num_shards:05d}.tfrecord" for index in range(num_shards)]
    index_path = out_dir / f"{split}.json"
    existing = [out_dir / name for name in names + [index_path.name] if (out_dir / name).exists()]
    existing += [path for path in out_dir.glob(f"{split}-*.tfrecord") if path.name not in names]
    if existing and not overwrite:
        held = f"{out_dir} already holds split {split!r} ({existing[0].name})"
        raise ValueError(f"{held}; pass overwrite=True (`--overwrite`) to replace it.")
    count = 0
    with contextlib.ExitStack() as shards:
        temporaries = [shards.enter_context(atomic_write(out_dir / name)) for name in names]
        with contextlib.ExitStack() as writers:
            files = [writers.enter_context(tf.io.TFRecordWriter(str(path))) for path in temporaries]
            for count, (degraded, target, name) in enumerate(records, start=1):
                files[(count - 1) % num_shards].write(_example(degraded, target, name))
        check_not_stopped()  # an interrupt requested: the old split stays as it is
        index_path.unlink(missing_ok=True)  # until the new index is written, the split reads as missing
        for path in existing:
            if path.name not in names:
                path.unlink(missing_ok=True)  # old shards the new split does not replace
    atomic_write_text(index_path, json.dumps({"split": split, "count": count, "shards": names}, indent=2) + "\n")
    return count


def file_records(pairs):
    """Records from `(degraded_path, target_path)` pairs: the files' bytes as they are."""
    for degraded, target in pairs:
        yield Path(degraded).read_bytes(), Path(target).read_bytes(), Path(degraded).name


def array_records(degraded, target, prefix):
    """Records from uint8 arrays (N, H, W, 3), PNG-encoded (e.g. the SIDD validation blocks)."""
    for index, (noisy, clean) in enumerate(zip(degraded, target)):
        yield tf.io.encode_png(noisy).numpy(), tf.io.encode_png(clean).numpy(), f"{prefix}_{index:05d}.png"


def prepare_splits(data, layout, out_dir, splits=("train",), subset=None, num_shards=8, full_check=True,
                   overwrite=False, log=print):
    """Checks each split's pairs of the data set in `data` and writes them as shards into `out_dir` (`hinet prepare`).

    The split `SIDD_BLOCKS` packs the two SIDD validation `.mat` files found in `data`.

    Raises:
        ValueError: an unknown split or layout, a damaged pair, or shards that exist without `overwrite`.
    """
    for split in splits:
        if split == SIDD_BLOCKS:
            noisy, gt = sidd_blocks.read_validation_blocks(data)
            records, size = array_records(noisy, gt, prefix="block"), len(noisy)
        else:
            pairs = layouts.list_pairs(data, layout, split, subset)
            log(f"{split}: checking {len(pairs)} pairs...")
            check.check_pairs(pairs, full=full_check)
            records, size = file_records(pairs), len(pairs)
        shards = min(num_shards, size)  # no empty shards
        count = write_shards(records, out_dir, split, shards, overwrite=overwrite)
        log(f"{split}: wrote {count} pairs into {shards} shard(s) in {out_dir}")


def read_index(folder, split):
    """The `<split>.json` index of a prepared folder; ValueError naming what is missing."""
    path = Path(folder) / f"{split}.json"
    if not path.is_file():
        available = sorted(p.stem for p in Path(folder).glob("[!.]*.json"))  # not a killed write's temporaries
        raise ValueError(
            f"No TFRecord split {split!r} in {folder} (missing {path.name}; found: {available or 'none'})."
        )
    index = json.loads(path.read_text())
    missing = [name for name in index["shards"] if not (Path(folder) / name).is_file()]
    if missing:
        raise ValueError(f"TFRecord shards listed in {path} are missing: {', '.join(missing)}.")
    return index


def tfrecord_pairs(folder, split, shuffle=False, seed=None):
    """Full `(degraded, target)` images from a prepared split."""
    index = read_index(folder, split)
    files = [str(Path(folder) / name) for name in index["shards"]]
    dataset = tf.data.Dataset.from_tensor_slices(files)
    if shuffle:
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.interleave(
        tf.data.TFRecordDataset, cycle_length=min(len(files), 8), num_parallel_calls=tf.data.AUTOTUNE
    )
    if shuffle:
        dataset = dataset.shuffle(64, seed=seed)

    def parse(record):
        example = tf.io.parse_single_example(record, _FEATURES)
        return decode_image(example["degraded"]), decode_image(example["target"])

    return dataset.map(parse, num_parallel_calls=tf.data.AUTOTUNE)
