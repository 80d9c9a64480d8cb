"""The equitability report from small synthetic evaluation files: the numbers reach the HTML,
the group names reach the PDF, the checks refuse mixed models and the wrong threshold."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from openlfr.cli import _register, app
from openlfr.errors import ConfigError
from openlfr.evaluation import demographics, identification
from openlfr.reports.equitability import equitability_report, load_evaluation, pct

MODEL = "test-model-v1"


def _scores(seed: int = 0) -> identification.SearchScores:
    rng = np.random.default_rng(seed)
    return identification.SearchScores(
        mated_top=rng.uniform(0.55, 1.0, 600),
        mated_hit=rng.uniform(size=600) < 0.93,
        nonmated_top=rng.uniform(0.0, 0.75, 1500),
    )


@pytest.fixture
def files(tmp_path):
    """A demographics file (three groups, one too small) and an identification file, made by
    the evaluation package itself from synthetic scores."""
    s = _scores()
    nm_groups = ["Pink"] * 700 + ["Teal"] * 790 + ["Ochre"] * 10
    m_groups = ["Pink"] * 300 + ["Teal"] * 300
    result = demographics.evaluate(s, nm_groups, m_groups, threshold=0.7)
    demo = result.to_json({"model": MODEL, "group_by": "colour", "watchlist": "synthetic"})
    ident = identification.evaluate(s, 400, {"gallery": 0, "mated": 0, "nonmated": 0})
    paths = {"demo": tmp_path / "demo.json", "ident": tmp_path / "ident.json"}
    paths["demo"].write_text(json.dumps(demo))
    paths["ident"].write_text(json.dumps(ident.to_json(MODEL)))
    return paths, demo


def _pdf_text(path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_report_html_has_the_numbers_and_pdf_is_a_pdf(files, tmp_path):
    paths, demo = files
    report = equitability_report(
        [load_evaluation(paths["demo"], "demographics")],
        load_evaluation(paths["ident"], "identification"),
        threshold=0.7,
    )
    written = report.write(tmp_path / "out")
    names = {p.name for p in written}
    assert {"equitability-report.html", "equitability-report.pdf"} <= names
    assert sum(n.endswith(".png") for n in names) == 2  # group bars + DET curve
    html = (tmp_path / "out" / "equitability-report.html").read_text()
    for group in ("Pink", "Teal", "Ochre"):
        g = demo["groups"][group]
        assert f">{group}</td>" in html
        assert pct(g["fpir"]) in html and pct(g["ci_high"]) in html
        assert f"{g['n']:,}" in html
    assert pct(demo["groups"]["Pink"]["fnir"]) in html
    assert f"{demo['ratio']:.2f}" in html and MODEL in html and "0.7000" in html
    assert "left out of the ratio" in html  # Ochre has 10 searches
    assert "How to read this report" in html
    assert html.count("data:image/png;base64,") == 2
    pdf = (tmp_path / "out" / "equitability-report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    payload = json.loads((tmp_path / "out" / "equitability-report.json").read_text())
    assert payload["model"] == MODEL and payload["threshold"] == 0.7


def test_pdf_names_the_groups_and_numbers(files, tmp_path):
    paths, demo = files
    equitability_report([load_evaluation(paths["demo"], "demographics")]).write(tmp_path)
    pdf = tmp_path / "equitability-report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = _pdf_text(pdf)
    for word in ("Pink", "Teal", "Ochre", "FPIR 95% CI", MODEL, "How to read this report"):
        assert word in text
    assert pct(demo["groups"]["Teal"]["fpir"]) in text


def test_mixed_models_and_wrong_threshold_are_refused(files, tmp_path):
    paths, demo = files
    d = load_evaluation(paths["demo"], "demographics")
    other = dict(d, model="another-model", source="other.json")
    with pytest.raises(ConfigError, match="different models"):
        equitability_report([d, other])
    with pytest.raises(ConfigError, match="not the deployment threshold 0.6400"):
        equitability_report([d], threshold=0.64)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"accuracy": 0.99}))
    with pytest.raises(ConfigError, match="not the JSON of `openlfr evaluate demographics`"):
        load_evaluation(bad, "demographics")
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not a JSON file"):
        load_evaluation(bad, "identification")


def test_cli_writes_the_report(files, tmp_path):
    paths, _ = files
    png = tmp_path / "det.png"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    fig.savefig(png)
    plt.close(fig)
    out = tmp_path / "report"
    _register()
    runner = CliRunner()
    args = ["report", "equitability", "--demographics", str(paths["demo"]),
            "--identification", str(paths["ident"]), "--det", str(png), "--threshold", "0.7",
            "--out", str(out)]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "equitability-report.pdf" in res.output
    html = (out / "equitability-report.html").read_text()
    assert "DET curve (det.png)" in html and html.count("data:image/png;base64,") == 3
    # A wrong file type is a typed error (the CLI prints one line), not a traceback.
    res = runner.invoke(app, [*args[:-2], "--det", str(paths["demo"]), "--out", str(out)])
    assert isinstance(res.exception, ConfigError) and "not a PNG file" in str(res.exception)
