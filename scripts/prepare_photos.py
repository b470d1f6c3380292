"""Build the photo sets for the shipped denoiser from package registries and, optionally, BSDS500.

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

    python scripts/prepare_photos.py --bsds500 BSR_bsds500.tgz
    python scripts/prepare_photos.py --cbsd432 ../shared/datasets/CBSD432 --no-packages

also add CBSD432, the standard training set of colour Gaussian denoising (DnCNN,
FFDNet, DRUNet), to train/ as `bsds_<id>.png`, at its own size (481x321 or 321x481, not
downscaled). CBSD432 is the Berkeley Segmentation Dataset BSDS500 (images/train, test
and val) minus the 68 images of the CBSD68 test set, which are left out. `--bsds500`
takes the public archive `BSR_bsds500.tgz`, downloaded from the Berkeley "BSR" page
(https://www2.eecs.berkeley.edu/Research/Projects/CS/vision/grouping/resources.html),
or its extracted folder; `--cbsd432` takes a folder of the 432 images named by their
ids, such as `../shared/datasets/CBSD432`. Either way every image is checked against
`cbsd432_pixels.sha256` (SHA-256 of the decoded RGB pixels, so metadata does not
matter), and nothing is written if an image differs or is missing. The digests were
made from a local copy of CBSD432 decoded by Pillow (libjpeg-turbo); that the archive's
JPEGs decode to the same pixels has not been checked, as the archive could not be
downloaded where they were made. `--no-packages`
skips the package photos, for use offline. The BSDS500 images are distributed by UC
Berkeley for research use: say so in the card of any model trained on them.
"""

import argparse
import hashlib
import io
import pathlib
import subprocess
import sys
import tarfile
import tempfile
import zipfile

import numpy as np
from PIL import Image

from hinet_tf.utils.atomic import atomic_write

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

CBSD432_MANIFEST = pathlib.Path(__file__).with_name("cbsd432_pixels.sha256")
BSDS500_SPLITS = ("train", "test", "val")
# The CBSD68 test images (BSDS500 ids), never trained on.
CBSD68_IDS = frozenset("""
    101085 101087 102061 103070 105025 106024 108005 108070 108082 109053 119082 12084 123074 126007
    130026 134035 14037 143090 145086 147091 148026 148089 157055 159008 160068 16077 163085 167062
    167083 170057 175032 175043 182053 189080 19021 196073 197017 208001 210088 21077 216081 219090
    220075 223061 227092 229036 236037 24077 241004 241048 253027 253055 260058 271035 285079 291000
    295087 296007 296059 299086 300091 302008 304034 304074 306005 3096 33039 351093
""".split())
BSDS_LICENCE = (
    "The BSDS500 images are distributed by UC Berkeley for research use; "
    "say so in the card of any model trained on them."
)


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
    with atomic_write(path) as temporary:
        image.save(temporary, optimize=False)


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


def read_manifest(path=CBSD432_MANIFEST):
    """`{image id: SHA-256 of its pixels}` from a `<hex digest>  <id>` file."""
    digests = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split()
            digests[name] = digest
    return digests


def pixel_digest(data):
    """SHA-256 of the 8-bit RGB pixels that image file bytes decode to."""
    with Image.open(io.BytesIO(data)) as image:
        return hashlib.sha256(np.asarray(image.convert("RGB")).tobytes()).hexdigest()


def bsds500_files(source):
    """`{image id: (where, JPEG bytes)}` of BSDS500's images/{train,test,val}, from the archive or its folder."""
    if source.is_dir():
        paths = (path for split in BSDS500_SPLITS for path in source.rglob(f"images/{split}/*.jpg"))
        return {path.stem: (str(path), path.read_bytes()) for path in paths}
    if not source.is_file():
        raise SystemExit(f"{source}: no such archive or folder")
    files = {}
    try:
        with tarfile.open(source) as archive:
            for member in archive:
                path = pathlib.PurePosixPath(member.name)
                in_split = path.parent.name in BSDS500_SPLITS and path.parent.parent.name == "images"
                if member.isfile() and path.suffix == ".jpg" and in_split:
                    files[path.stem] = (f"{source}:{member.name}", archive.extractfile(member).read())
    except (tarfile.TarError, OSError, EOFError) as error:
        raise SystemExit(f"{source}: not a readable BSDS500 archive ({error})") from None
    return files


def image_files(folder):
    """`{image id: (path, bytes)}` of the JPEG and PNG images in a folder."""
    if not folder.is_dir():
        raise SystemExit(f"{folder}: no such folder")
    paths = (path for path in folder.iterdir() if path.suffix.lower() in (".jpg", ".jpeg", ".png"))
    return {path.stem: (str(path), path.read_bytes()) for path in paths}


def check_cbsd432(files, digests, source):
    """Drops CBSD68 from `files`; exits naming every image that is unknown, differs or is missing."""
    files = {name: file for name, file in files.items() if name not in CBSD68_IDS}
    problems = [f"{files[name][0]} is not a CBSD432 image" for name in sorted(set(files) - set(digests))]
    for name in sorted(set(files) & set(digests)):
        where, data = files[name]
        try:
            matches = pixel_digest(data) == digests[name]
        except OSError as error:
            problems.append(f"{where} is not a readable image ({error})")
            continue
        if not matches:
            problems.append(f"{where}: its pixels differ from CBSD432's {name}")
    missing = sorted(set(digests) - set(files))
    if missing:
        problems.append(f"{len(missing)} CBSD432 images are missing: {', '.join(missing[:10])}")
    if problems:
        raise SystemExit(f"{source}: refused, nothing written: {'; '.join(problems[:10])}" + (
            f"; and {len(problems) - 10} more" if len(problems) > 10 else ""))
    return files


def write_cbsd432(files, out_dir):
    """Writes each checked image unchanged as `bsds_<id>.png`, keeping existing files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, (_, data) in sorted(files.items()):
        target = out_dir / f"bsds_{name}.png"
        if not target.exists():
            with Image.open(io.BytesIO(data)) as image:
                save_png(image.convert("RGB"), target)
    print(f"{out_dir}: {len(files)} CBSD432 images. {BSDS_LICENCE}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("data/photos"), help="output folder")
    bsds = parser.add_mutually_exclusive_group()
    bsds.add_argument("--bsds500", type=pathlib.Path, metavar="ARCHIVE_OR_FOLDER",
                      help="add CBSD432 to train/ from BSR_bsds500.tgz or its extracted folder (the archive is on "
                      "https://www2.eecs.berkeley.edu/Research/Projects/CS/vision/grouping/resources.html)")
    bsds.add_argument("--cbsd432", type=pathlib.Path, metavar="FOLDER",
                      help="add CBSD432 to train/ from a folder of its 432 images")
    parser.add_argument("--no-packages", action="store_true", help="skip the Debian and wheel photos (offline)")
    args = parser.parse_args(argv)
    if args.no_packages and not (args.bsds500 or args.cbsd432):
        parser.error("--no-packages leaves nothing to do without --bsds500 or --cbsd432")
    if args.bsds500 or args.cbsd432:
        files = bsds500_files(args.bsds500) if args.bsds500 else image_files(args.cbsd432)
        files = check_cbsd432(files, read_manifest(), args.bsds500 or args.cbsd432)
        write_cbsd432(files, args.out / "train")
    if args.no_packages:
        return
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
