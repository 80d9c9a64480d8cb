"""FOI disclosure packs: redaction profiles as data, withheld fields marked in documents
and absent from machine-readable files, a cover note and a manifest."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest

from openlfr.errors import ConfigError
from openlfr.reports import load_contracts, load_profile, profile_names, write_pack

CONTRACTS = """
[[contract]]
supplier = "Example Biometrics Ltd"
description = "Face matching licences"
start = 2024-09-01
end = 2027-08-31
value = 1250000.0
"""


def test_shipped_profiles():
    assert {"default", "full"} <= set(profile_names())
    default = load_profile("default")
    assert {(w.field, w.section) for w in default.withhold} == {
        ("cameras", "s31(1)"), ("system_type", "s31(1)"), ("contract_value", "s43(2)"),
    }  # fmt: skip
    assert load_profile("full").withhold == ()


def test_default_pack_withholds_and_says_why(store, world, tmp_path):
    contracts = tmp_path / "contracts.toml"
    contracts.write_text(CONTRACTS)
    out = tmp_path / "pack"
    today = world["today"]
    files = write_pack(store, today, today, load_profile("default"), out, load_contracts(contracts))
    names = {f.name for f in files}
    assert names == {
        "cover-note.txt", "deployment-records.html", "deployment-records.pdf",
        "deployment-records.csv", "deployment-records.json", "contracts.csv", "contracts.json",
        "manifest.json",
    }  # fmt: skip

    # machine-readable: the withheld fields are absent, the rest present
    rows = list(csv.DictReader(io.StringIO((out / "deployment-records.csv").read_text())))
    assert len(rows) == 2
    assert "cameras" not in rows[0] and "system_type" not in rows[0]
    assert rows[0]["location"] == "Oxford Circus" and rows[0]["faces_seen"] == "20000"
    data = json.loads((out / "deployment-records.json").read_text())
    for d in data["deployments"]:
        assert "cameras" not in d and "system_type" not in d
        assert "Withheld" not in json.dumps(d)
    contract = json.loads((out / "contracts.json").read_text())["contracts"][0]
    assert "contract_value" not in contract and contract["supplier"] == "Example Biometrics Ltd"
    assert "1250000" not in (out / "contracts.csv").read_text()

    # documents: the withheld fields read "Withheld - <section>"
    html = (out / "deployment-records.html").read_text()
    assert html.count("Withheld - s31(1)") == 4  # cameras and system type, two deployments
    assert html.count("Withheld - s43(2)") == 1
    assert "1,250,000" not in html and "OpenLFR 0" not in html
    assert (out / "deployment-records.pdf").read_bytes().startswith(b"%PDF-")

    note = (out / "cover-note.txt").read_text()
    assert "Number of cameras: withheld under section s31(1) (Law enforcement)" in note
    assert "System type: withheld under section s31(1)" in note
    assert "Contract value (GBP): withheld under section s43(2) (Commercial interests)" in note
    assert "2 deployments" in note

    manifest = json.loads((out / "manifest.json").read_text())["sha256"]
    for name, digest in manifest.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest


def test_full_profile_releases_everything(store, world, tmp_path):
    today = world["today"]
    write_pack(store, today, today, load_profile("full"), tmp_path)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "deployment-records.csv").read_text())))
    assert [r["cameras"] for r in rows] == ["2", "1"]
    assert rows[0]["system_type"].startswith("OpenLFR ")
    assert "Withheld" not in (tmp_path / "deployment-records.html").read_text()
    assert "No information has been withheld." in (tmp_path / "cover-note.txt").read_text()


def test_a_custom_profile_file(store, world, tmp_path):
    custom = tmp_path / "borough.toml"
    custom.write_text(
        'name = "no-boroughs"\n[[withhold]]\nfield = "borough"\nsection = "s38(1)"\n'
        'reason = "health and safety"\n'
    )
    today = world["today"]
    write_pack(store, today, today, load_profile(str(custom)), tmp_path / "out")
    text = (tmp_path / "out" / "deployment-records.csv").read_text()
    assert "borough" not in text.splitlines()[0] and "Westminster" not in text
    assert "Withheld - s38(1)" in (tmp_path / "out" / "deployment-records.html").read_text()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[[withhold]]\nfield = "shoe_size"\nsection = "s1"\nreason = "r"\n', "unknown field"),
        ('[[withhold]]\nfield = "cameras"\n', "needs field, section, reason"),
        ('colour = "red"\n', "unknown keys"),
        ("not toml [", "cannot read"),
    ],
)
def test_bad_profiles_are_refused(tmp_path, content, message):
    bad = tmp_path / "bad.toml"
    bad.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_profile(str(bad))


def test_unknown_profile_name():
    with pytest.raises(ConfigError, match="no redaction profile 'secret'"):
        load_profile("secret")
