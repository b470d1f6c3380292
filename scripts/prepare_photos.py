"""Build the photo sets for the shipped denoiser from package registries.

    python scripts/prepare_photos.py [--out data/photos]

writes
    train/  real photos from Debian wallpaper packages, downscaled 2-4x (Lanczos), PNG
    val/    two more such photos, held out of training for validation
    eval/   test photos from the `sporco` and `scikit-image` wheels, never trained on

Sources are fetched with `apt-get download` (Debian bookworm's package lists: run
`apt-get update` once) and `pip download --no-deps` (nothing is installed) at pinned
versions, and every photo is named in an allow-list below, so the
sets are the same on every run. Renders, logos and abstract art from the same packages
are left out by not being listed. Downscaling averages away sensor noise and JPEG
artefacts, so the training targets are clean. Files that already exist are kept.
"""

import argparse
import pathlib
import subprocess
import sys
import tempfile
import zipfile

from PIL import Image

DEBIAN_PACKAGES = (
    "lomiri-wallpapers-16.04=20.04.0-2",
    "mate-backgrounds=1.26.0-1",
    "plasma-workspace-wallpapers=4:5.27.5-2",
)
WHEELS = ("sporco==0.2.2.post1", "scikit-image==0.26.0")

_BACKGROUNDS = "usr/share/backgrounds"
_PLASMA = "usr/share/wallpapers"

# Real photographs only (checked by eye); paths inside the unpacked packages.
TRAIN_PHOTOS = (
    f"{_BACKGROUNDS}/Bridge_by_Sander_Klootwijk.jpg",
    f"{_BACKGROUNDS}/Dragonfly_by_Bolly.jpg",
    f"{_BACKGROUNDS}/Picture_0B_by_freespace.jpg",
    f"{_BACKGROUNDS}/Picture_1A_by_freespace.jpg",
    f"{_BACKGROUNDS}/Wine_by_Jakkub_Mede.jpg",
    f"{_BACKGROUNDS}/aitzgorri_by_Aitzol_Berasategi.jpg",
    f"{_BACKGROUNDS}/free_by_Peter_Nerlich.jpg",
    f"{_BACKGROUNDS}/friends_by_Aitzol_Berasategi.jpg",
    f"{_BACKGROUNDS}/greentock_by_Peter_Nerlich.jpg",
    f"{_BACKGROUNDS}/life_by_Aitzol_Berasategi.jpg",
    f"{_BACKGROUNDS}/seeding_by_Clements_Engelhardt.jpg",
    f"{_BACKGROUNDS}/sunset_by_Aitzol_Berasategi.jpg",
    f"{_BACKGROUNDS}/mate/nature/Aqua.jpg",
    f"{_BACKGROUNDS}/mate/nature/Blinds.jpg",
    f"{_BACKGROUNDS}/mate/nature/Dune.jpg",
    f"{_BACKGROUNDS}/mate/nature/FreshFlower.jpg",
    f"{_BACKGROUNDS}/mate/nature/Garden.jpg",
    f"{_BACKGROUNDS}/mate/nature/GreenMeadow.jpg",
    f"{_BACKGROUNDS}/mate/nature/LadyBird.jpg",
    f"{_BACKGROUNDS}/mate/nature/RainDrops.jpg",
    f"{_BACKGROUNDS}/mate/nature/Storm.jpg",
    f"{_BACKGROUNDS}/mate/nature/TwoWings.jpg",
    f"{_BACKGROUNDS}/mate/nature/Wood.jpg",
    f"{_BACKGROUNDS}/mate/nature/YellowFlower.jpg",
    f"{_PLASMA}/BytheWater/contents/images/1920x1080.jpg",
    f"{_PLASMA}/ColdRipple/contents/images/1920x1080.jpg",
    f"{_PLASMA}/DarkestHour/contents/images/1920x1080.jpg",
    f"{_PLASMA}/EveningGlow/contents/images/1920x1080.jpg",
    f"{_PLASMA}/FallenLeaf/contents/images/1920x1080.jpg",
    f"{_PLASMA}/Grey/contents/images/1920x1080.jpg",
    f"{_PLASMA}/OneStandsOut/contents/images/1920x1080.jpg",
    f"{_PLASMA}/summer_1am/contents/images/1920x1080.jpg",
)
VAL_PHOTOS = (
    f"{_BACKGROUNDS}/picosdeeuropa_by_Aitzol_Berasategi.jpg",
    f"{_PLASMA}/Path/contents/images/1920x1080.jpg",
)
EVAL_PHOTOS = (
    "sporco/data/kodim23.png",
    "sporco/data/monarch.png",
    "sporco/data/sail.png",
    "sporco/data/tulips.png",
    "sporco/data/barbara.png",
    "skimage/data/astronaut.png",
    "skimage/data/chelsea.png",
    "skimage/data/coffee.png",
    "skimage/data/motorcycle_left.png",
)

TARGET_LONG_SIDE = 1200


def downscale_factor(size):
    """Integer factor in 2..4 that brings the long side nearest to TARGET_LONG_SIDE."""
    return min(4, max(2, round(max(size) / TARGET_LONG_SIDE)))


def output_name(member):
    """`.../Path/contents/images/1920x1080.jpg` -> `Path.png`; `.../Aqua.jpg` -> `Aqua.png`."""
    parts = pathlib.PurePosixPath(member).parts
    stem = parts[parts.index("contents") - 1] if "contents" in parts else pathlib.PurePosixPath(member).stem
    return f"{stem}.png"


def save_png(image, path):
    """Write through a temporary file so an interrupted run leaves no half-written PNG."""
    partial = path.with_suffix(".partial.png")
    image.save(partial, optimize=False)
    partial.replace(path)


def fetch_debian(workdir):
    subprocess.run(["apt-get", "download", *DEBIAN_PACKAGES], cwd=workdir, check=True)
    root = workdir / "root"
    for deb in sorted(workdir.glob("*.deb")):
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return root


def fetch_wheels(workdir):
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(workdir), *WHEELS],
        check=True,
    )
    root = workdir / "root"
    wanted = set(EVAL_PHOTOS)
    for wheel in sorted(workdir.glob("*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(root, members=[name for name in archive.namelist() if name in wanted])
    return root


def write_photos(root, members, out_dir, downscale):
    out_dir.mkdir(parents=True, exist_ok=True)
    for member in members:
        source = root / member
        if not source.is_file():
            raise FileNotFoundError(f"{member} is missing from the unpacked packages in {root}")
        target = out_dir / output_name(member)
        if target.exists():
            continue
        image = Image.open(source).convert("RGB")
        if downscale:
            factor = downscale_factor(image.size)
            image = image.resize((image.width // factor, image.height // factor), Image.Resampling.LANCZOS)
        save_png(image, target)
        print(f"{target} {image.width}x{image.height}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("data/photos"), help="output folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hinet_photos_") as tmp:
        tmp = pathlib.Path(tmp)
        (tmp / "deb").mkdir()
        (tmp / "wheels").mkdir()
        debian_root = fetch_debian(tmp / "deb")
        write_photos(debian_root, TRAIN_PHOTOS, args.out / "train", downscale=True)
        write_photos(debian_root, VAL_PHOTOS, args.out / "val", downscale=True)
        write_photos(fetch_wheels(tmp / "wheels"), EVAL_PHOTOS, args.out / "eval", downscale=False)


if __name__ == "__main__":
    main()
