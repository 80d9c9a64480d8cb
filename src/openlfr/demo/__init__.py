"""The demo (`openlfr demo`, run by `make demo`): a simulated camera, offline.

It renders a short scene of people walking towards a camera (`openlfr.simulate`), enrols
the listed people's photos as a watchlist (in memory: nothing is written to the data
directory), runs the live pipeline on the video as a camera, prints each alert as it is
raised and ends with the deployment's figures scored against the scene's truth.

By default it uses only photos that installed packages ship (matplotlib's photo of Grace
Hopper; scikit-image's astronaut Eileen Collins, its cameraman and its 25x25 LFW face
crops). The listed people are shown walking as altered renderings (mirrored, re-lit,
rotated, JPEG re-encoded) of their enrolment photo, so their alerts show the pipeline
working end to end, not how well it recognises a person across different photos:
`openlfr demo --faces DIR` does that with an LFW-layout folder.
"""

from openlfr.demo.run import DemoRun, enrol_watchlist, play
from openlfr.demo.scene import DemoScene, build_demo_scene, shipped_cast

__all__ = ["DemoRun", "DemoScene", "build_demo_scene", "enrol_watchlist", "play", "shipped_cast"]
