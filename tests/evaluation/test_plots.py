import numpy as np
import pytest

from openlfr.errors import ConfigError
from openlfr.evaluation.plots import det_plot, group_rate_plot


def test_det_plot_writes_a_png(tmp_path):
    x = np.logspace(-4, 0, 50)
    out = det_plot(
        tmp_path / "det.png", x, 1 - np.sqrt(x) * 0.9, title="t", marks={"a": (0.01, 0.3)}
    )
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_group_plot_and_bad_folder(tmp_path):
    out = group_rate_plot(
        tmp_path / "g.png", {"A": (0.01, 0.005, 0.02), "B": (None, 0, 1)}, title="t"
    )
    assert out.stat().st_size > 1000
    with pytest.raises(ConfigError):
        det_plot(tmp_path / "nope" / "det.png", np.array([0.1]), np.array([0.1]), title="t")
