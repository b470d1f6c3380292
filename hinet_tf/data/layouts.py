"""Lists the (degraded, target) image files of the dataset layouts users have on disk.

Layouts (`root` is the folder the data set was extracted to):

- "pairs": `root/<split>/input/*` and `root/<split>/target/*`, matched by identical file
  name; for split "train" also `root/input` and `root/target` when `root/train` does not exist.
- "gopro": `root/<split>/{input,target}/*.png`, split "train" or "test".
- "sidd": SIDD-Medium sRGB, `root/Data/<scene>/*_NOISY_SRGB_*.PNG` with the matching
  `*_GT_SRGB_*.PNG` (`root` may also be the `Data` folder itself). Only split "train":
  the validation set is the two `.mat` files (`hinet_tf.data.sidd_blocks`).
- "reds": split "train" is `root/train/train_blur_jpeg/<clip>/<frame>.jpg` with
  `root/train/train_sharp/<clip>/<frame>.png`; split "val" is `root/val/val_blur_jpeg` with
  `root/val/val_sharp`, restricted to REDS-val-300 (frames whose name ends in 9) unless
  `subset="all"`.
- "rain13k": split "train" is `root/train/{input,target}`; split "test" is
  `root/test/<subset>/{input,target}` for the subsets in `RAIN13K_TEST_SETS` (all five,
  in that order, when `subset` is None).

Training also reads "photos" (clean images only, `list_images`, degraded on the fly by
`hinet_tf.data.synthetic`) and "tfrecord" (shards written by `hinet prepare`,
`hinet_tf.data.tfrecord`): `TRAINING_LAYOUTS`.
"""

from pathlib import Path

from hinet_tf.utils.messages import broken_link
from hinet_tf.utils.messages import describe_names

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
LAYOUTS = ("pairs", "gopro", "sidd", "reds", "rain13k")
TRAINING_LAYOUTS = (*LAYOUTS, "photos", "tfrecord")
RAIN13K_TEST_SETS = ("Test100", "Rain100H", "Rain100L", "Test2800", "Test1200")
_SIDD_NOISY, _SIDD_GT = "_NOISY_SRGB_", "_GT_SRGB_"


def scoring(layout, y_channel=False):
    """The PSNR / SSIM options of `layout`: `{"y_channel": ..., "quantize": ...}` (`y_channel` forces Y)."""
    return {"y_channel": y_channel or layout == "rain13k", "quantize": layout != "sidd"}


def list_pairs(root, layout="pairs", split="train", subset=None):
    """Returns the sorted list of `(degraded_path, target_path)` pairs of a data set.

    Args:
        root: the data set's root folder.
        layout: one of `LAYOUTS`.
        split: "train", "test" or "val" (which ones a layout has is in the module docstring).
        subset: Rain13k test set name, or "all" for every REDS validation frame.

    Raises:
        ValueError: unknown layout or split, a missing or empty folder, or unmatched files.
    """
    root = Path(root)
    if layout not in _LISTERS:
        raise ValueError(f"Unknown dataset layout {layout!r}; choose one of: {', '.join(LAYOUTS)}.")
    require_folder(root, "Dataset folder")
    return _LISTERS[layout](root, split, subset)


def folder_problem(folder):
    """What keeps `folder` from being read as a folder, in words ("does not exist", ...), or None."""
    folder = Path(folder)
    if folder.is_dir():
        return None
    return "is a file, not a folder" if folder.exists() else "does not exist"


def require_folder(folder, name):
    """`folder` as a Path; a ValueError "`name` `folder` does not exist." (or another `folder_problem`) unless it is one."""
    problem = folder_problem(folder)
    if problem:
        raise ValueError(f"{name} {folder} {problem}.")
    return Path(folder)


def image_files(folder):
    """The image files (PNG or JPEG, any case) directly inside `folder`, sorted by name (`_is_image`)."""
    folder = require_folder(folder, "Dataset folder")
    files = sorted(path for path in folder.iterdir() if not path.name.startswith(".") and _is_image(path))
    if not files:
        raise ValueError(f"Dataset folder {folder} has no PNG or JPEG images.")
    return files


def _is_image(path):
    """Whether `path` is a PNG or JPEG file; a ValueError naming it if it is a broken link so named."""
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return False
    problem = broken_link(path)
    if problem:
        raise ValueError(f"{problem}: fix or remove it.")
    return path.is_file()


def match_by_name(degraded_dir, target_dir, key=lambda path: path.name):
    """Pairs the images of two folders whose keys (by default the file names) are equal."""
    degraded = {key(path): path for path in image_files(degraded_dir)}
    target = {key(path): path for path in image_files(target_dir)}
    _check_matched(degraded, target, degraded_dir, target_dir)
    return [(degraded[name], target[name]) for name in sorted(degraded)]


def list_real_noise_pairs(folder):
    """The `(name, noisy_path, mean_path)` of every `NAME_real.*` / `NAME_mean.*` pair in `folder`, sorted by name.

    Real-noise benchmarks (PolyU) keep each camera crop beside the mean of many shots of its scene.

    Raises:
        ValueError: a missing or empty folder, an image named neither way, one without its partner,
            or a crop in two files (`X_real.png` and `X_real.jpg`).
    """
    folder = Path(folder)
    crops = {"real": {}, "mean": {}}
    for path in image_files(folder):
        name, _, kind = path.stem.rpartition("_")
        if not name or kind not in crops:
            raise ValueError(f"{path} is named neither NAME_real nor NAME_mean: a real-noise folder holds only pairs.")
        if name in crops[kind]:
            raise ValueError(f"{crops[kind][name]} and {path} are one crop in two files; keep one.")
        crops[kind][name] = path
    _check_matched(crops["real"], crops["mean"], folder, folder)
    return [(name, crops["real"][name], crops["mean"][name]) for name in sorted(crops["real"])]


def _check_matched(degraded, target, degraded_dir, target_dir):
    """Raises naming the files of `degraded` and `target` (dicts key -> path) without a partner."""
    problems = []
    for files, others, where, other_dir in (
        (degraded, target, degraded_dir, target_dir),
        (target, degraded, target_dir, degraded_dir),
    ):
        alone = [str(files[name]) for name in sorted(set(files) - set(others))]
        if alone:
            problems.append(f"{len(alone)} file(s) in {where} have no partner in {other_dir}: {describe_names(alone)}")
    if problems:
        raise ValueError("Unmatched image pairs. " + "; ".join(problems) + ".")


def _check_split(layout, split, allowed):
    if split not in allowed:
        raise ValueError(f"Layout {layout!r} has splits {', '.join(allowed)}; got {split!r}.")


def _pairs(root, split, subset):
    folder = root / split if (root / split / "input").is_dir() or split != "train" else root
    problem = folder_problem(folder / "input")
    if problem:  # name every form the layout reads, not only the one looked for
        flat = "DIR/input + DIR/target"
        flat = f"or {flat}" if split == "train" else f"({flat} is the train split, and hinet evaluate's test set)"
        raise ValueError(f"Dataset folder {folder / 'input'} {problem}: pairs are DIR/{split}/input + DIR/{split}/target {flat}.")
    return match_by_name(folder / "input", folder / "target")


def _gopro(root, split, subset):
    _check_split("gopro", split, ("train", "test"))
    return match_by_name(root / split / "input", root / split / "target")


def _sidd(root, split, subset):
    if split != "train":
        raise ValueError(
            "SIDD-Medium folders only hold training pairs; the validation set is "
            "ValidationNoisyBlocksSrgb.mat / ValidationGtBlocksSrgb.mat (hinet_tf.data.sidd_blocks)."
        )
    data = root / "Data" if (root / "Data").is_dir() else root
    scenes = sorted(path for path in data.iterdir() if path.is_dir() and not path.name.startswith("."))
    if not scenes:
        raise ValueError(f"SIDD folder {data} has no scene folders (expected Data/<scene>/*_NOISY_SRGB_*.PNG).")
    pairs = []
    for scene in scenes:
        files = image_files(scene)
        noisy = {path.name.replace(_SIDD_NOISY, _SIDD_GT): path for path in files if _SIDD_NOISY in path.name}
        clean = {path.name: path for path in files if _SIDD_GT in path.name}
        if not noisy and not clean:
            raise ValueError(f"SIDD scene folder {scene} has no *{_SIDD_NOISY}* or *{_SIDD_GT}* images.")
        _check_matched(noisy, clean, scene, scene)
        pairs.extend((noisy[name], clean[name]) for name in sorted(noisy))
    return pairs


def _reds(root, split, subset):
    _check_split("reds", split, ("train", "val"))
    blur_root, sharp_root = root / split / f"{split}_blur_jpeg", root / split / f"{split}_sharp"
    for folder in (blur_root, sharp_root):
        require_folder(folder, "REDS folder")
    clips = sorted({path.name for path in blur_root.iterdir() if path.is_dir()})
    sharp_clips = sorted({path.name for path in sharp_root.iterdir() if path.is_dir()})
    if clips != sharp_clips:
        missing = sorted(set(clips) ^ set(sharp_clips))
        raise ValueError(f"REDS clip folders differ between {blur_root} and {sharp_root}: {describe_names(missing)}.")
    if not clips:
        raise ValueError(f"REDS folder {blur_root} has no clip folders.")
    pairs = []
    for clip in clips:
        pairs.extend(match_by_name(blur_root / clip, sharp_root / clip, key=lambda path: path.stem))
    if split == "val" and subset != "all":
        pairs = [pair for pair in pairs if pair[0].stem.endswith("9")]
        if not pairs:
            raise ValueError(f"REDS folder {blur_root} has no frames whose name ends in 9 (REDS-val-300).")
    return pairs


def _rain13k(root, split, subset):
    _check_split("rain13k", split, ("train", "test"))
    if split == "train":
        return match_by_name(root / "train" / "input", root / "train" / "target")
    if subset is not None and subset not in RAIN13K_TEST_SETS:
        raise ValueError(f"Unknown Rain13k test set {subset!r}; choose one of: {', '.join(RAIN13K_TEST_SETS)}.")
    pairs = []
    for name in (subset,) if subset else RAIN13K_TEST_SETS:
        pairs.extend(match_by_name(root / "test" / name / "input", root / "test" / name / "target"))
    return pairs


_LISTERS = {"pairs": _pairs, "gopro": _gopro, "sidd": _sidd, "reds": _reds, "rain13k": _rain13k}


def list_images(root):
    """Every PNG or JPEG image under `root` (searched recursively), sorted; for clean-only photo folders."""
    root = require_folder(root, "Photo folder")
    files = sorted(
        path
        for path in root.rglob("*")
        if not any(part.startswith(".") for part in path.relative_to(root).parts) and _is_image(path)
    )
    if not files:
        raise ValueError(f"Photo folder {root} has no PNG or JPEG images.")
    return files
