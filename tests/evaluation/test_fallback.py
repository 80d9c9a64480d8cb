import numpy as np
import pytest

from openlfr.evaluation.cache import ImageResult, embed_images
from openlfr.evaluation.fallback import embed_mean_faces, mean_faces
from openlfr.vision.face import Face, Template


def _result(path, shape, x):
    lm = np.full((5, 2), x, dtype=np.float64)
    t = Template(np.ones(4, dtype=np.float32) / 2, "m")
    return ImageResult(path, [Face((x, x, x + 10, x + 10), 1.0, lm, template=t)], None, shape)


def test_mean_face_per_image_size(tmp_path):
    results = [_result(tmp_path / f"{i}", (50, 50), 10.0 + i) for i in range(5)]
    results += [_result(tmp_path / f"s{i}", (80, 80), 1.0) for i in range(4)]  # too few
    means = mean_faces(results)
    assert set(means) == {(50, 50)}
    assert means[(50, 50)].box[0] == pytest.approx(12.0)
    np.testing.assert_allclose(means[(50, 50)].landmarks, 12.0)


def test_missed_images_get_the_mean_face(fake_engine, people_dir):
    results = embed_images(fake_engine, sorted(people_dir.rglob("*.jpg")), progress=False)
    black = people_dir / "P3" / "P3_0002.jpg"
    out = embed_mean_faces(fake_engine, results)
    assert set(out) == {black}
    assert out[black].template is not None and out[black].extras["fallback"] == "mean-face"
