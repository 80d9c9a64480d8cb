from datetime import timedelta

import pytest

from openlfr.domain import Category, NotFoundError, ReferenceImageInfo, Subject, SubjectError
from openlfr.domain.clock import utcnow
from openlfr.errors import ImageError


def _subject(**kw):
    base = dict(
        display_name="A", category=Category.MISSING_OR_VULNERABLE, added_by="pc1",
        expires_at=utcnow() + timedelta(days=10),
    )  # fmt: skip
    return Subject(**{**base, **kw})


def test_add_and_read_back_with_provenance(store, samples):
    sid = store.subjects.add(_subject(category="wanted_for_offence", offence="burglary"), "pc1")
    info = ReferenceImageInfo("custody image 2024", "PACE s64A", "pc7")
    store.subjects.add_image(sid, samples.jpeg, info, "pc7", samples.template(3), "dlib-r34")
    got = store.subjects.get(sid)
    assert got.category is Category.WANTED_FOR_OFFENCE and got.offence == "burglary"
    assert got.images == (info,) and got.expires_at > utcnow()
    actions = [(e.action, e.object_type) for e in store.audit_events()]
    assert actions == [("create", "subject"), ("create", "reference_image")]


def test_viewing_an_image_is_audited_with_its_purpose(store, samples):
    sid = store.subjects.add(_subject(), "pc1")
    image = store.subjects.add_image(sid, samples.jpeg, ReferenceImageInfo("s", "b", "pc1"), "pc1")
    assert store.subjects.view_image(image, "op3", "adjudication") == samples.jpeg
    last = store.audit_events()[-1]
    assert (last.action, last.actor, last.details["purpose"]) == (
        "view_biometric",
        "op3",
        "adjudication",
    )
    with pytest.raises(SubjectError, match="purpose"):
        store.subjects.view_image(image, "op3", " ")


def test_bad_input_is_refused_and_nothing_written(store, samples):
    with pytest.raises(SubjectError, match="after"):
        store.subjects.add(_subject(expires_at=utcnow() - timedelta(days=1)), "pc1")
    sid = store.subjects.add(_subject(), "pc1")
    info = ReferenceImageInfo("s", "b", "pc1")
    with pytest.raises(ImageError, match="JPEG or PNG"):
        store.subjects.add_image(sid, b"GIF89a....", info, "pc1")
    with pytest.raises(SubjectError, match="model id"):
        store.subjects.add_image(sid, samples.jpeg, info, "pc1", samples.template(1))
    with pytest.raises(NotFoundError):
        store.subjects.add_image("nope", samples.jpeg, info, "pc1")
    assert store.subjects.image_ids(sid) == []
    assert len(store.audit_events()) == 1


def test_delete_removes_images_and_is_audited(store, samples):
    sid = store.subjects.add(_subject(), "pc1")
    store.subjects.add_image(sid, samples.jpeg, ReferenceImageInfo("s", "b", "pc1"), "pc1")
    store.subjects.delete(sid, "pc1", "no longer wanted")
    with pytest.raises(NotFoundError):
        store.subjects.get(sid)
    assert store.audit_events()[-1].details == {"reason": "no longer wanted", "images_deleted": 1}
