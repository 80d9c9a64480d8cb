"""dlib's MMOD face detector network converted to ONNX (the network only, not yet the
pyramid, box mapping and NMS around it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from openlfr.convert import dlib_models, dlib_net
from openlfr.vision.dlib_backend import model_path
from openlfr.vision.image import load_image

MMOD = "mmod_human_face_detector.dat"


def test_the_whole_detector_file_parses() -> None:
    layers = dlib_net.parse(model_path(MMOD).read_bytes(), dlib_net.mmod_definition())
    options = layers[0].data
    assert options["detector_window"] == (80, 80)
    assert options["overlaps_nms"][0] == pytest.approx(0.338, abs=1e-3)
    # Saved by the training net: batch-norm layers arrive folded into affine ones.
    affine = [layer for layer in layers if layer.kind == "affine"]
    assert len(affine) == 6 and all(np.all(np.isfinite(a.data["gamma"])) for a in affine)
    assert [layer.data["pads"] for layer in layers if layer.kind == "con"][0] == (4, 4)


def test_score_map_sizes_follow_dlibs_convolutions() -> None:
    session = ort.InferenceSession(str(dlib_models.mmod_onnx()), providers=["CPUExecutionProvider"])
    for h, w in ((100, 120), (250, 250)):
        out = session.run(None, {"chips": np.zeros((1, h, w, 3), np.uint8)})[0]
        expected = [h, w]
        for _ in range(3):  # three 5x5 stride-2 convolutions without padding
            expected = [(n - 5) // 2 + 1 for n in expected]
        assert out.shape == (1, 1, *expected)


@pytest.mark.data
def test_scores_agree_with_dlibs_detections(shared_data: Path) -> None:
    import dlib

    detector = dlib.cnn_face_detection_model_v1(str(model_path(MMOD)))
    session = ort.InferenceSession(str(dlib_models.mmod_onnx()), providers=["CPUExecutionProvider"])
    down = dlib.pyramid_down(6)  # dlib's own pyramid, as a reference tool only
    files = sorted((shared_data / "lfw").glob("*/*.jpg"))[::2600][:4]
    for path in files:
        image = load_image(path)
        best = max(d.confidence for d in detector(image, 0))
        level, ours = image, []
        while min(level.shape[:2]) > 40:
            ours.append(float(session.run(None, {"chips": level[None]})[0].max()))
            level = np.asarray(down(level))
        # dlib runs one tiled image of all levels; levels run alone here differ only where
        # the receptive field meets the border, so the best scores agree closely.
        assert max(ours) == pytest.approx(best, abs=0.05), path.name
