import numpy as np
import pytest
from PIL import Image

from openlfr.errors import ConfigError
from openlfr.evaluation.runs import run_demographics, run_identification, run_verification


def _pairs(tmp_path):
    # Two folds of one mated and one non-mated pair each, plus a pair with a missed face.
    text = "2\t2\nP0\t1\t2\nP3\t1\t2\nP0\t1\tP1\t1\nP2\t1\tP4\t1\n"
    text += "P1\t1\t3\nP2\t2\t3\nP5\t1\tP6\t1\nP7\t1\tP8\t1\n"
    p = tmp_path / "pairs.txt"
    p.write_text(text)
    return p


def test_run_verification_counts_the_missed_pair(tmp_path, fake_spec, people_dir):
    result, js = run_verification(fake_spec, people_dir, _pairs(tmp_path), progress=False)
    # P3_0002 is black: missed, then embedded from the mean face of the 40x40 images.
    assert js["pairs"] == 8 and js["failed_pairs"] == 0 and js["fallback_faces"] == 1
    assert js["missed_detections"] == 1 and js["model"] == "fake-colour-v1"
    assert js["accuracy"] == pytest.approx((3 / 4 + 4 / 4) / 2)
    assert set(js) >= {"accuracy", "std", "pairs", "model"}


def test_run_verification_rejects_images_not_on_disk(tmp_path, fake_spec, people_dir):
    p = tmp_path / "pairs.txt"
    p.write_text("1\nP0\t1\t9\nP0\t1\tP1\t1\n")
    with pytest.raises(ConfigError, match="not under"):
        run_verification(fake_spec, people_dir, p, progress=False)


def test_run_identification(fake_spec, people_dir):
    result, js = run_identification(fake_spec, people_dir, progress=False)
    assert js["n_gallery"] == 4 and js["n_mated"] == 8 and js["n_nonmated"] == 6
    assert js["missed_detections"] == 1 and js["missed_by_set"]["mated"] == 1
    # Six non-mated searches cannot measure FPIR 0.1 or below: every level is null.
    assert all(v is None for v in js["tpir"].values())
    assert js["rank1"] == pytest.approx(7 / 8)  # the missed search is a miss, not dropped


def test_run_demographics_with_identities(tmp_path, fake_spec, people_dir):
    labels = tmp_path / "labels.csv"
    rows = [f"P{i},P{i}_0001.jpg,{'M' if i % 2 else 'F'}" for i in range(10)]
    rows += ["P0,P0_0002.jpg,F", "P1,P1_0003.jpg,M"]
    labels.write_text("person,image,gender\n" + "\n".join(rows) + "\n")
    result, js = run_demographics(
        fake_spec, people_dir, labels, "gender", threshold=0.999, progress=False
    )
    assert set(js["groups"]) == {"F", "M"}
    assert js["groups"]["F"]["n"] + js["groups"]["M"]["n"] == 6  # non-mated P4..P9
    assert "fnir" in js["groups"]["F"] and js["groups"]["F"]["n_mated"] == 1
    assert js["threshold"] == 0.999 and js["unlabelled"] == 6  # mated without labels
    with pytest.raises(ConfigError, match="non-mated"):
        run_demographics(fake_spec, people_dir, labels, "gender", progress=False)


def test_run_demographics_flat_folder_holds_out_a_watchlist(tmp_path, fake_spec):
    flat = tmp_path / "flat"
    flat.mkdir()
    rng = np.random.default_rng(3)
    rows = []
    for i in range(240):
        colour = rng.integers(20, 255, 3).astype(np.uint8)
        Image.fromarray(np.tile(colour, (40, 40, 1))).save(flat / f"{i:03d}.png")
        rows.append(f"{i:03d}.png,{'A' if i % 3 else 'B'}")
    labels = tmp_path / "labels.csv"
    labels.write_text("image,race\n" + "\n".join(rows) + "\n")
    result, js = run_demographics(fake_spec, flat, labels, "race", progress=False)
    assert js["n_gallery"] == 120 and js["watchlist"].startswith("held-out")
    assert js["groups"]["A"]["n"] + js["groups"]["B"]["n"] == 120
    assert js["overall_fpir"] <= 0.01 and js["threshold_source"] == "fpir=0.01 overall"
    assert "fnir" not in js["groups"]["A"]


# --- the real dlib engine on small LFW / UTKFace slices (shared data) ----------------------


@pytest.mark.data
def test_lfw_verification_slice(shared_data):
    from openlfr.evaluation.cache import EngineSpec

    lfw = shared_data / "lfw"
    pairs = shared_data / "lfw-protocol" / "pairs.txt"
    # 10 pairs from each of the 10 folds: 100 pairs, about 200 images.
    _, js = run_verification(EngineSpec("dlib"), lfw, pairs, limit=10, progress=False)
    assert js["pairs"] == 100 and js["folds_used"] == 10 and js["model"].startswith("dlib")
    assert js["accuracy"] > 0.9
    assert 0 <= js["missed_detections"] <= 5 and js["failed_pairs"] <= js["missed_detections"] * 2


@pytest.mark.data
def test_lfw_identification_slice_with_two_workers(shared_data):
    from openlfr.evaluation.cache import EngineSpec

    spec = EngineSpec("dlib")
    _, js = run_identification(spec, shared_data / "lfw", limit=20, workers=2, progress=False)
    assert js["n_gallery"] + js["missed_by_set"]["gallery"] == 20
    assert js["n_nonmated"] == 20 and js["n_mated"] > 20
    assert js["tpir"]["0.01"] is None  # 20 non-mated searches cannot measure FPIR 0.01
    assert js["rank1"] > 0.8 and 0.0 < js["threshold"]["0.1"] < 1.0
    # A second run reads every template from the cache: the same numbers, no new work.
    _, again = run_identification(spec, shared_data / "lfw", limit=20, progress=False)
    assert again == js
