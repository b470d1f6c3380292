"""Small helpers shared by the package: atomic file writes, BT.601 luma, the 8 flips and rotations, the machine's description, wall times of repeated calls."""
