from datetime import UTC, datetime, timedelta

import pytest

from openlfr.domain import RetentionPolicy
from openlfr.domain.errors import RetentionError

NOW = datetime(2025, 3, 1, tzinfo=UTC)


def test_defaults():
    p = RetentionPolicy()
    assert p.alert_media == timedelta(days=31) and p.evidence == timedelta(days=31)
    assert p.snapshot_after_close == timedelta(hours=24)
    assert p.alert_media_cutoff(NOW) == NOW - timedelta(days=31)
    assert p.snapshot_delete_by(NOW) == NOW + timedelta(hours=24)


def test_configurable_from_a_mapping_and_the_environment():
    p = RetentionPolicy.from_mapping({"alert_media_days": 7, "snapshot_hours": "2"})
    assert p.alert_media == timedelta(days=7) and p.snapshot_after_close == timedelta(hours=2)
    assert p.evidence == timedelta(days=31)
    env = {"OPENLFR_RETAIN_EVIDENCE_DAYS": "14"}
    assert RetentionPolicy.from_env(env).evidence == timedelta(days=14)


@pytest.mark.parametrize(
    "values, match",
    [
        ({"audit_days": 1}, "unknown"),
        ({"alert_media_days": "soon"}, "bad retention"),
        ({"evidence_days": -1}, "negative"),
        ({"snapshot_hours": 25}, "24 hours"),
    ],
)
def test_bad_settings(values, match):
    with pytest.raises(RetentionError, match=match):
        RetentionPolicy.from_mapping(values)
