"""HINet presets: the shipped trained models, the paper's models and the official checkpoints' layouts.

A preset with `"weights": True` is a directory shipped with hinet-tf (its `config.json`
holds the configuration); the others are configurations only, with no weights in reach.
"""

ALL_LEVELS = (0, 1, 2, 3, 4)
DEEP_LEVELS = (3, 4)

backbone_presets = {
    "hinet_camera_denoise": {
        "description": "Denoising of camera photos (sensor noise after the camera's processing and JPEG), "
        "width 16, trained by hinet-tf on synthetic camera noise (saved_models/MODEL_CARD_camera.md).",
        "weights": True,
    },
    "hinet_photo_denoise": {
        "description": "Blind denoising of white Gaussian noise (sigma 0-50) in photos, width 16, trained by "
        "hinet-tf (saved_models/MODEL_CARD.md).",
        "weights": True,
    },
    "hinet_1x": {
        "description": "HINet (width 64, HIN in every encoder level), the paper's main model.",
        "config": {"width": 64, "hin_levels": ALL_LEVELS},
    },
    "hinet_0.5x": {
        "description": "HINet 0.5x (width 32).",
        "config": {"width": 32, "hin_levels": ALL_LEVELS},
    },
    "hinet_2x": {
        "description": "HINet 2x (width 128), the paper's wider variant.",
        "config": {"width": 128, "hin_levels": ALL_LEVELS},
    },
    "hinet_deep": {
        "description": "HINet with two extra residual blocks per encoder and decoder block.",
        "config": {"width": 64, "hin_levels": ALL_LEVELS, "num_extra_blocks": 2},
    },
    "hinet_simple": {
        "description": "HINet Simple: stage 1 of HINet 0.5x without encoder-decoder skips.",
        "config": {"width": 32, "hin_levels": ALL_LEVELS, "num_stages": 1, "skip_connections": False},
    },
    "hinet_sidd_1x": {
        "description": "Layout of HINet-SIDD-1x.pth (denoising, width 64, HIN levels 0-4).",
        "config": {"width": 64, "hin_levels": ALL_LEVELS},
        "checkpoint": "HINet-SIDD-1x.pth",
    },
    "hinet_sidd_0.5x": {
        "description": "Layout of HINet-SIDD-0.5x.pth (denoising, width 32, HIN levels 0-4).",
        "config": {"width": 32, "hin_levels": ALL_LEVELS},
        "checkpoint": "HINet-SIDD-0.5x.pth",
    },
    "hinet_gopro": {
        "description": "Layout of HINet-GoPro.pth (deblurring, width 64, HIN levels 3-4).",
        "config": {"width": 64, "hin_levels": DEEP_LEVELS},
        "checkpoint": "HINet-GoPro.pth",
    },
    "hinet_reds": {
        "description": "Layout of HINet-REDS.pth (deblurring with JPEG artefacts, width 64, HIN levels 3-4).",
        "config": {"width": 64, "hin_levels": DEEP_LEVELS},
        "checkpoint": "HINet-REDS.pth",
    },
    "hinet_rain13k": {
        "description": "Layout of HINet-Rain13k.pth (deraining, width 64, HIN levels 0-4).",
        "config": {"width": 64, "hin_levels": ALL_LEVELS},
        "checkpoint": "HINet-Rain13k.pth",
    },
}


def is_architecture_preset(name):
    """Whether `name` is a built-in preset that is a configuration only, without weights."""
    return "config" in backbone_presets.get(str(name), {})


def architecture_presets():
    """Names of the presets that are configurations only."""
    return [name for name in backbone_presets if is_architecture_preset(name)]


def matching_presets(backbone):
    """Names of the architecture presets whose configuration is `backbone`'s."""
    config = backbone.get_config()
    matches = []
    for name in architecture_presets():
        preset = {**config, **backbone_presets[name]["config"]}
        preset["hin_levels"] = list(preset["hin_levels"])
        if preset == config:
            matches.append(name)
    return matches
