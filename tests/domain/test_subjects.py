from datetime import UTC, datetime, timedelta

import pytest

from openlfr.domain import Category, ReferenceImageInfo, Subject, SubjectError
from openlfr.errors import OpenLFRError

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


def make(**kw):
    base = dict(
        display_name="J Smith",
        category=Category.WANTED_BY_COURTS,
        added_by="pc1",
        expires_at=NOW + timedelta(days=30),
    )
    return Subject(**{**base, **kw})


def test_the_categories_are_the_fixed_list_with_no_catch_all():
    assert {c.value for c in Category} == {
        "wanted_by_courts",
        "wanted_for_offence",
        "court_conditions",
        "missing_or_vulnerable",
        "risk_of_harm",
    }
    for catch_all in ("other", "misc", "general", ""):
        with pytest.raises(SubjectError, match="unknown category"):
            make(category=catch_all)


def test_wanted_for_offence_needs_the_offence_and_only_it_has_one():
    with pytest.raises(SubjectError, match="needs the offence"):
        make(category=Category.WANTED_FOR_OFFENCE)
    s = make(category="wanted_for_offence", offence="  robbery ")
    assert s.offence == "robbery" and s.category is Category.WANTED_FOR_OFFENCE
    with pytest.raises(SubjectError, match="only recorded"):
        make(category=Category.RISK_OF_HARM, offence="robbery")


@pytest.mark.parametrize("field", ["display_name", "added_by"])
def test_required_text(field):
    with pytest.raises(SubjectError, match="required"):
        make(**{field: "  "})


def test_expiry_is_required_and_after_creation():
    with pytest.raises(SubjectError, match="expiry"):
        make(expires_at=None)
    with pytest.raises(SubjectError, match="after"):
        make(created_at=NOW, expires_at=NOW - timedelta(seconds=1))
    s = make(created_at=NOW)
    assert not s.is_expired(NOW) and s.is_expired(NOW + timedelta(days=30))


def test_naive_expiry_is_taken_as_utc():
    s = make(expires_at=datetime(2025, 4, 1))
    assert s.expires_at == datetime(2025, 4, 1, tzinfo=UTC)


def test_reference_images_need_source_basis_and_who():
    info = ReferenceImageInfo("custody image", "PACE s64A", "pc1")
    assert info.legal_basis == "PACE s64A"
    for bad in (("", "b", "c"), ("a", " ", "c"), ("a", "b", "")):
        with pytest.raises(SubjectError):
            ReferenceImageInfo(*bad)


def test_domain_errors_are_user_errors():
    assert issubclass(SubjectError, OpenLFRError)
