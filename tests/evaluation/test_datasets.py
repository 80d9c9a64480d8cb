from pathlib import Path

import pytest

from openlfr.errors import ConfigError
from openlfr.evaluation.datasets import (
    heldout_split,
    identification_split,
    limit_pairs,
    read_labels,
    read_pairs,
    scan_people,
)


def _pairs_file(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "pairs.txt"
    p.write_text(text)
    return p


def test_read_pairs_folds_and_paths(tmp_path):
    text = "2\t1\nA\t1\t2\nA\t1\tB\t3\nC\t2\t4\nC\t1\tD\t1\n"
    pairs = read_pairs(_pairs_file(tmp_path, text), tmp_path)
    assert [p.fold for p in pairs] == [0, 0, 1, 1]
    assert [p.same for p in pairs] == [True, False, True, False]
    assert pairs[1].b == tmp_path / "B" / "B_0003.jpg"
    assert pairs[2].a == tmp_path / "C" / "C_0002.jpg"


def test_read_pairs_single_number_header_is_one_fold(tmp_path):
    pairs = read_pairs(_pairs_file(tmp_path, "1\nA 1 2\nA 1 B 1\n"), tmp_path)
    assert {p.fold for p in pairs} == {0}


@pytest.mark.parametrize(
    "text", ["", "x y\n", "2 1\nA 1 2\n", "1 1\nA 1\nA 1 B 1\n", "1 1\nA one 2\nA 1 B 1\n"]
)
def test_bad_pairs_files_are_config_errors(tmp_path, text):
    with pytest.raises(ConfigError):
        read_pairs(_pairs_file(tmp_path, text), tmp_path)


def test_missing_paths_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        read_pairs(tmp_path / "nope.txt", tmp_path)
    with pytest.raises(ConfigError, match="not a folder"):
        read_pairs(_pairs_file(tmp_path, "1\nA 1 2\nA 1 B 1\n"), tmp_path / "nope")


def test_limit_pairs_balances_each_fold(tmp_path):
    lines = ["2 3"] + [f"A 1 {i}" for i in range(3)] + [f"A 1 B {i}" for i in range(3)]
    lines += [f"C 1 {i}" for i in range(3)] + [f"C 1 D {i}" for i in range(3)]
    pairs = limit_pairs(read_pairs(_pairs_file(tmp_path, "\n".join(lines)), tmp_path), 2)
    assert [(p.fold, p.same) for p in pairs] == [(0, True), (0, False), (1, True), (1, False)]


def test_identification_split(people_dir):
    split = identification_split(scan_people(people_dir))
    assert [p.person for p in split.gallery] == ["P0", "P1", "P2", "P3"]
    assert split.gallery[0].path.name == "P0_0001.jpg"  # the first image is enrolled
    assert len(split.mated) == 8 and {p.person for p in split.mated} == {"P0", "P1", "P2", "P3"}
    assert len(split.nonmated) == 6 and all(p.person is None for p in split.nonmated)
    limited = identification_split(scan_people(people_dir), limit=2)
    assert len(limited.gallery) == 2 and len(limited.nonmated) == 2


def test_heldout_split_is_disjoint():
    images = [Path(f"/x/{i}.jpg") for i in range(7)]
    split = heldout_split(images)
    enrolled = {p.path for p in split.gallery}
    searched = {p.path for p in split.nonmated}
    assert enrolled.isdisjoint(searched) and enrolled | searched == set(images)
    assert len(enrolled) == 4 and not split.mated


def test_read_labels(tmp_path):
    csv = tmp_path / "l.csv"
    csv.write_text("person,image,gender\nA,A_0001.jpg,M\nB,B_0001.jpg,\nC,C_0001.jpg,F\n")
    assert read_labels(csv, "gender") == {"A_0001.jpg": "M", "C_0001.jpg": "F"}
    with pytest.raises(ConfigError, match="no column 'race'"):
        read_labels(csv, "race")
    (tmp_path / "bad.csv").write_text("name,gender\nA,M\n")
    with pytest.raises(ConfigError, match="no 'image' column"):
        read_labels(tmp_path / "bad.csv", "gender")
