"""`openlfr deployment|alerts|report ...` and `watchlist enrol` into the database, as the
local administrator and as named users, on SQLite and PostgreSQL (--db)."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from openlfr.auth import Role, passwords
from openlfr.cli import main
from openlfr.domain import AlertEvent, Category, ReferenceImageInfo, Subject
from openlfr.domain.clock import utcnow
from openlfr.store import Store

_spec = importlib.util.spec_from_file_location(
    "_store_conftest_for_cli", Path(__file__).parents[1] / "store" / "conftest.py"
)
_store_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_store_conftest)
pg_admin_url = _store_conftest.pg_admin_url
db_url = _store_conftest.db_url

PW = "a long enough password"
SECRET = "rtsp://admin:pw-7q@10.0.0.9/live"
ADMIN = f"local-admin@{socket.gethostname()}"


@pytest.fixture(autouse=True)
def _cheap_hashes():
    passwords.set_cost(1, 1024)
    yield
    passwords.set_cost(3, 65536)


def run(monkeypatch, capsys, *args: str, env: dict | None = None) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["openlfr", *args])
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SystemExit) as exit_:
        main()
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


def seed(db: str) -> dict:
    """A subject with a template on watchlist 'central'."""
    store = Store(db)
    try:
        now = utcnow()
        sid = store.subjects.add(
            Subject("Subject A", Category.WANTED_BY_COURTS, "wm", now + timedelta(days=9)), "wm"
        )
        vec = np.eye(128, dtype=np.float32)[3]
        info = ReferenceImageInfo("custody", "PACE", "wm")
        image = b"\x89PNG\r\n\x1a\n" + bytes(64)
        store.subjects.add_image(sid, image, info, "wm", vec, "dlib-resnet-v1")
        wl = store.watchlists.create("central", "wm")
        store.watchlists.add_subject(wl, sid, "wm")
        for name, roles in (("olive", [Role.OPERATOR]), ("supt.jones", [Role.AUTHORISING_OFFICER])):
            store.users.create(name, PW, roles, actor="test")
        return {"subject": sid, "watchlist": wl}
    finally:
        store.close()


def create_args(db: str, name: str = "north", sources=None) -> list[str]:
    sources = sources or {"gate": "/footage/gate.mp4", "door": SECRET}
    cams = [a for cam, src in sources.items() for a in ("--source", src, "--camera", cam)]
    return [
        "deployment", "create", "--db", db, "--name", name, "--location", "North Gate",
        "--borough", "Camden", "--use-case", "wanted by the courts", "--start", "-5m",
        "--end", "+4h", "--watchlist", "central", *cams,
    ]  # fmt: skip


def test_deployment_lifecycle_as_the_local_administrator(monkeypatch, capsys, db_url):
    seeded = seed(db_url)
    code, out, err = run(monkeypatch, capsys, *create_args(db_url), "--threshold", "0.9")
    assert code == 0, err
    assert "created deployment north" in out and "rtsp://***:***@10.0.0.9/live" in out
    code, out, _ = run(monkeypatch, capsys, "deployment", "list", "--db", db_url, "--json")
    (listed,) = json.loads(out)
    assert listed["name"] == "north" and listed["state"] == "planned"
    assert listed["sources"] == {
        "gate": "/footage/gate.mp4",
        "door": "rtsp://***:***@10.0.0.9/live",
    }
    assert "pw-7q" not in out
    code, out, err = run(monkeypatch, capsys, "deployment", "authorise", "north", "--db", db_url)
    assert code == 2 and "--officer" in err
    code, out, _ = run(monkeypatch, capsys, "deployment", "authorise", "north", "--db", db_url,
                       "--officer", "Supt Jones")  # fmt: skip
    assert code == 0 and "authorised by Supt Jones" in out
    code, out, err = run(monkeypatch, capsys, "deployment", "start", "north", "--db", db_url)
    assert code == 0 and "live since" in out, err
    store = Store(db_url)
    did = store.deployments.resolve("north")
    alert_id = store.alerts.create_from_event(
        AlertEvent(did, "gate", seeded["subject"], 0.95, utcnow(), "t1")
    )
    store.close()
    code, out, _ = run(monkeypatch, capsys, "alerts", "list", "--db", db_url, "--deployment",
                       "north", "--json")  # fmt: skip
    (alert,) = json.loads(out)
    assert alert["id"] == alert_id and alert["subject_name"] == "Subject A"
    code, out, err = run(monkeypatch, capsys, "alerts", "adjudicate", alert_id, "--db", db_url,
                         "--match", "--outcome", "engaged_arrested")  # fmt: skip
    assert code == 0 and "true_alert, outcome engaged_arrested" in out, err
    code, _, err = run(monkeypatch, capsys, "alerts", "adjudicate", alert_id, "--db", db_url,
                       "--no-match")  # fmt: skip
    assert code == 2 and "override reason" in err and "Traceback" not in err
    code, out, _ = run(monkeypatch, capsys, "deployment", "close", "north", "--db", db_url)
    assert code == 0 and "closed" in out
    code, out, _ = run(monkeypatch, capsys, "report", "record", "north", "--db", db_url)
    record = json.loads(out)
    assert (record["alerts"], record["true_alerts"], record["arrests"]) == (1, 1, 1)
    assert record["threshold"] == 0.9 and record["watchlist_size"] == 1
    code, out, _ = run(monkeypatch, capsys, "report", "record", did, "--db", db_url,
                       "--format", "csv")  # fmt: skip
    assert out.splitlines()[0].startswith("deployment_id,date,location") and "North Gate" in out
    code, out, _ = run(monkeypatch, capsys, "report", "record", "north", "--db", db_url,
                       "--format", "html")  # fmt: skip
    assert out.startswith("<!doctype html>") and "<td>North Gate</td>" in out
    store = Store(db_url)
    events = store.audit_events()
    assert store.audit_verify() is None
    store.close()
    actors = {e.actor for e in events}
    assert ADMIN in actors and "Supt Jones" in actors
    assert "pw-7q" not in json.dumps([e.details for e in events])


def test_named_users_are_refused_what_their_roles_forbid(monkeypatch, capsys, db_url):
    seed(db_url)
    as_olive = {"OPENLFR_PASSWORD": PW}
    code, out, err = run(monkeypatch, capsys, *create_args(db_url), "--as", "olive", env=as_olive)
    assert code == 0, err
    code, _, err = run(monkeypatch, capsys, "deployment", "authorise", "north", "--db", db_url,
                       "--as", "olive", env=as_olive)  # fmt: skip
    assert code == 2 and "olive may not authorise a deployment" in err
    code, out, err = run(monkeypatch, capsys, "deployment", "authorise", "north", "--db", db_url,
                         "--as", "supt.jones", "--officer", "someone", env=as_olive)  # fmt: skip
    assert code == 2 and "only as themselves" in err
    code, out, err = run(monkeypatch, capsys, "deployment", "authorise", "north", "--db", db_url,
                         "--as", "supt.jones", env=as_olive)  # fmt: skip
    assert code == 0 and "authorised by supt.jones" in out, err
    code, _, err = run(monkeypatch, capsys, "deployment", "list", "--db", db_url, "--as", "olive",
                       env={"OPENLFR_PASSWORD": "wrong password!!"})  # fmt: skip
    assert code == 2 and "wrong user name or password" in err
    monkeypatch.delenv("OPENLFR_PASSWORD")
    code, _, err = run(monkeypatch, capsys, "deployment", "list", "--db", db_url, "--as", "olive")
    assert code == 2 and "OPENLFR_PASSWORD" in err
    store = Store(db_url)
    events = store.audit_events()
    store.close()
    refused = [e for e in events if e.action == "refused"]
    assert [(e.actor, e.details["action"]) for e in refused] == [
        ("olive", "authorise a deployment")
    ]
    created = [e for e in events if e.action == "create" and e.object_type == "deployment"]
    assert created[0].actor == "olive"


@pytest.mark.parametrize(
    "change, message",
    [
        (("--end", "-1h"), "planned end must be after planned start"),
        (("--start", "yesterday"), "bad --start"),
        (("--watchlist", "nope"), "no watchlist named 'nope'"),
        (("--camera", "extra"), "3 --camera names for 2 --source"),
        (("--source", "gopher://u:secretpw@h/x", "--camera", "x"), "unsupported camera URL"),
    ],
)
def test_bad_input_is_one_clear_line(monkeypatch, capsys, tmp_path, change, message):
    db = f"sqlite:///{tmp_path / 'o.db'}"
    seed(db)
    code, out, err = run(monkeypatch, capsys, *create_args(db), *change)
    assert code == 2 and message in err, err
    assert "Traceback" not in err and "secretpw" not in err
    code, out, err = run(monkeypatch, capsys, "deployment", "close", "north", "--db", db)
    assert code == 2 and "no deployment named or with id 'north'" in err


def test_start_until_sources_end_runs_the_pipeline_in_the_foreground(monkeypatch, capsys, tmp_path):
    db = f"sqlite:///{tmp_path / 'o.db'}"
    seed(db)
    clip = tmp_path / "blank.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10",
         "-t", "2", "-pix_fmt", "yuv420p", "-y", str(clip)],
        check=True,
    )  # fmt: skip
    code, out, err = run(monkeypatch, capsys, *create_args(db, sources={"gate": str(clip)}))
    assert code == 0, err
    run(monkeypatch, capsys, "deployment", "authorise", "north", "--db", db, "--officer", "X")
    code, out, err = run(monkeypatch, capsys, "deployment", "start", "north", "--db", db,
                         "--until-sources-end", "--as-fast-as-possible", "--backend", "dlib",
                         "--workers", "0")  # fmt: skip
    assert code == 0, err
    assert "camera gate: finished, 20 frames, 0 faces seen, 0 alerts" in out
    assert "is still live" in out


@pytest.mark.data
def test_watchlist_enrol_goes_into_the_database_once_there_is_one(
    monkeypatch, capsys, tmp_path, shared_data
):
    lfw = shared_data / "lfw"
    people = tmp_path / "people"
    for person in ("Colin_Powell", "Aaron_Eckhart"):
        (people / person).mkdir(parents=True)
        src = lfw / person / f"{person}_0001.jpg"
        (people / person / src.name).symlink_to(src)
    (people / "Nobody").mkdir()
    (people / "Nobody" / "grey.jpg").write_bytes(b"not an image")
    base = ["watchlist", "enrol", "--from", str(people), "-w", "central", "--backend", "dlib"]
    Store().close()  # what `openlfr init` leaves: the database in the data directory
    code, _, err = run(monkeypatch, capsys, *base)
    assert code == 2 and "--category, --legal-basis, --expires" in err
    flags = ["--category", "risk_of_harm", "--legal-basis", "MCA 2005", "--expires", "30d"]
    code, out, err = run(monkeypatch, capsys, *base, *flags)
    assert code == 0, err
    assert "enrolling into the database" in out and f"as {ADMIN}" in out
    assert "rejected: unreadable" in out and "watchlist central created" in out
    code, out, err = run(monkeypatch, capsys, *base[:-2], "--json", *flags,
                         "--image-source", "press office", "--backend", "dlib")  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert result["store"] == "database" and not result["watchlist_created"]
    # The same two faces again: each is flagged as a likely duplicate of the first run's.
    assert all(s["duplicates"] and s["duplicates"][0]["score"] > 0.99 for s in result["subjects"])
    store = Store()
    wl = store.watchlists.by_name("central")
    members = store.watchlists.members(wl)
    assert len(members) == 4
    subject = store.subjects.get(result["subjects"][0]["subject_id"])
    assert subject.category is Category.RISK_OF_HARM
    assert subject.images[0].image_source == "press office"
    assert subject.images[0].legal_basis == "MCA 2005"
    store.close()
    code, _, err = run(monkeypatch, capsys, *base, *flags, "--replace")
    assert code == 2 and "--replace is for the file store" in err
