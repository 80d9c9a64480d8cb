"""The interim demo (`openlfr demo`, run by `make demo`): enrol a small watchlist and
identify the faces in still photos, offline, with nothing written to the data directory.

By default it uses only images that installed packages ship (matplotlib's photo of Grace
Hopper; scikit-image's astronaut photo of Eileen Collins, its 25x25 LFW face crops and two
photos without faces). Listed people are shown as altered renderings (crop, scale,
brightness, rotation, mirror, JPEG re-encode) of their enrolment photo, so their matches
show the pipeline working end to end, not how well it recognises a person across different
photos: `openlfr demo --faces DIR` does that with an LFW-layout folder.
"""

from openlfr.demo.run import DemoResult, DemoRow, run_lfw_demo, run_shipped_demo

__all__ = ["DemoResult", "DemoRow", "run_lfw_demo", "run_shipped_demo"]
