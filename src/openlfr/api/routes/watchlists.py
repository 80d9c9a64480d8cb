"""Subjects, their reference images (enrolled through the face engine) and watchlists."""

from __future__ import annotations

import hashlib
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile, status

from openlfr.api.context import AppContext, get_ctx
from openlfr.api.errors import ApiError
from openlfr.api.schemas import Id, MemberIn, SubjectIn, WatchlistIn, _clean
from openlfr.api.security import requires
from openlfr.api.views import subject_json, watchlist_json
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role
from openlfr.domain.errors import NotFoundError
from openlfr.domain.subjects import ReferenceImageInfo, Subject
from openlfr.errors import ImageError

router = APIRouter(prefix="/api", tags=["watchlists"])

WM, AO, OP, AUD = (
    Role.WATCHLIST_MANAGER,
    Role.AUTHORISING_OFFICER,
    Role.OPERATOR,
    Role.AUDITOR,
)
_JPEG, _PNG = b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"
Purpose = Annotated[str, Query(min_length=3, max_length=300, description="Why you view it")]


# -- watchlists ---------------------------------------------------------------------------------
@router.get("/watchlists")
def list_watchlists(
    ctx: AppContext = Depends(get_ctx), _: Principal = requires(WM, AO, OP, AUD)
) -> dict:
    return {"watchlists": [watchlist_json(w) for w in ctx.listing.watchlists()]}


@router.post("/watchlists", status_code=status.HTTP_201_CREATED)
def create_watchlist(
    body: WatchlistIn, ctx: AppContext = Depends(get_ctx), who: Principal = requires(WM)
) -> dict:
    wl = ctx.store.watchlists.create(_clean(body.name), who.name)
    return watchlist_json(ctx.listing.watchlist(wl), [])


@router.get("/watchlists/{watchlist_id}")
def get_watchlist(
    watchlist_id: Id, ctx: AppContext = Depends(get_ctx), _: Principal = requires(WM, AO, OP, AUD)
) -> dict:
    info = ctx.listing.watchlist(watchlist_id)
    return watchlist_json(info, ctx.store.watchlists.members(watchlist_id))


@router.post("/watchlists/{watchlist_id}/members", status_code=status.HTTP_201_CREATED)
def add_member(
    watchlist_id: Id,
    body: MemberIn,
    ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(WM),
) -> dict:
    ctx.store.watchlists.add_subject(watchlist_id, body.subject_id, who.name)
    return watchlist_json(
        ctx.listing.watchlist(watchlist_id), ctx.store.watchlists.members(watchlist_id)
    )


@router.delete("/watchlists/{watchlist_id}/members/{subject_id}")
def remove_member(
    watchlist_id: Id,
    subject_id: Id,
    ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(WM),
) -> dict:
    ctx.store.watchlists.remove_subject(watchlist_id, subject_id, who.name)
    return watchlist_json(
        ctx.listing.watchlist(watchlist_id), ctx.store.watchlists.members(watchlist_id)
    )


# -- subjects -----------------------------------------------------------------------------------
@router.get("/subjects")
def list_subjects(
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ctx: AppContext = Depends(get_ctx),
    _: Principal = requires(WM, AO, OP, AUD),
) -> dict:
    return {"subjects": [subject_json(s) for s in ctx.listing.subjects(limit, offset)]}


@router.post("/subjects", status_code=status.HTTP_201_CREATED)
def create_subject(
    body: SubjectIn, ctx: AppContext = Depends(get_ctx), who: Principal = requires(WM)
) -> dict:
    """A person sought: a category from the fixed list (the offence for wanted_for_offence)
    and an expiry date. Reference images are uploaded separately."""
    subject = Subject(
        body.display_name, body.category, who.name, body.expires_at, offence=body.offence
    )
    sid = ctx.store.subjects.add(subject, who.name)
    return subject_json(ctx.store.subjects.get(sid), [])


@router.get("/subjects/{subject_id}")
def get_subject(
    subject_id: Id, ctx: AppContext = Depends(get_ctx), _: Principal = requires(WM, AO, OP, AUD)
) -> dict:
    return subject_json(
        ctx.store.subjects.get(subject_id), ctx.store.subjects.image_ids(subject_id)
    )


@router.delete("/subjects/{subject_id}")
def delete_subject(
    subject_id: Id,
    reason: Annotated[str, Query(min_length=3, max_length=1000)],
    ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(WM, biometric="subject"),
) -> dict:
    """Delete a subject with their images and templates (the reason is audited)."""
    ctx.store.subjects.delete(subject_id, who.name, _clean(reason))
    return {"deleted": subject_id}


def _form_text(value: str, what: str, max_length: int = 200) -> str:
    value = (value or "").strip()
    if not value or len(value) > max_length:
        raise ApiError(422, "validation", f"{what} is required (at most {max_length} characters)")
    try:
        return _clean(value)
    except ValueError as exc:
        raise ApiError(422, "validation", f"{what}: {exc}") from None


def _check_filename(name: str | None) -> None:
    # The name is never used as a path; names that try to be one are refused all the same.
    if not name:
        return
    if "/" in name or "\\" in name or ".." in name or any(ord(c) < 32 for c in name):
        raise ApiError(422, "bad_filename", "the file name may not contain a path")


@router.post("/subjects/{subject_id}/images", status_code=status.HTTP_201_CREATED)
def upload_image(
    subject_id: Id,
    file: Annotated[UploadFile, File(description="A JPEG or PNG photo of the subject")],
    image_source: Annotated[str, Form(description="Where the image came from")],
    legal_basis: Annotated[str, Form(description="The lawful basis for using it")],
    ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(WM, biometric="reference_image"),
) -> dict:
    """Enrol a reference image: the face engine judges it (rejected images say why, and
    nothing is stored); an enrolled face that matches another subject is flagged."""
    limit = ctx.settings.max_upload_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, "too_large", f"the image exceeds the upload limit of {limit} bytes")
    _check_filename(file.filename)
    source = _form_text(image_source, "image_source")
    basis = _form_text(legal_basis, "legal_basis")
    if not data:
        raise ImageError("the uploaded file is empty")
    if not data.startswith((_JPEG, _PNG)):
        raise ImageError("a reference image must be a JPEG or PNG file")
    ctx.store.subjects.get(subject_id)  # 404 before any work
    from openlfr.gallery.enrol import judge
    from openlfr.vision.image import load_image

    image = load_image(data)
    sha = hashlib.sha256(data).hexdigest()
    with ctx.engine_lock:
        engine = ctx.face_engine()
        verdict = judge(engine, image, subject_id, file.filename or "upload", sha)
        model_id = engine.model_id
    if not verdict.verdict.enrolled:
        detail = f" ({verdict.detail})" if verdict.detail else ""
        raise ApiError(
            422,
            "image_rejected",
            f"image rejected: {verdict.verdict.value}{detail}",
            verdict=verdict.verdict.value,
        )
    duplicates = _duplicates(ctx, verdict.template, model_id, subject_id, who.name)
    info = ReferenceImageInfo(source, basis, who.name)
    image_id = ctx.store.subjects.add_image(
        subject_id, data, info, who.name, verdict.template, model_id
    )
    return {
        "image_id": image_id,
        "subject_id": subject_id,
        "verdict": verdict.verdict.value,
        "quality": None if verdict.quality is None else round(float(verdict.quality), 4),
        "model_id": model_id,
        "duplicates": duplicates,
        "warning": (
            "this face is likely already enrolled as another subject" if duplicates else None
        ),
    }


def _duplicates(
    ctx: AppContext, template: np.ndarray, model_id: str, subject_id: str, actor: str
) -> list[dict]:
    refs = ctx.listing.reference_templates(model_id, actor, exclude_subject=subject_id)
    best: dict[str, tuple[float, str]] = {}
    probe = np.asarray(template, dtype=np.float32)
    for ref in refs:
        score = float(np.clip(np.dot(probe, ref.vector), 0.0, 1.0))
        if score >= ctx.duplicate_threshold and score > best.get(ref.subject_id, (0.0, ""))[0]:
            best[ref.subject_id] = (score, ref.display_name)
    ranked = sorted(best.items(), key=lambda kv: -kv[1][0])
    return [
        {"subject_id": sid, "display_name": name, "score": round(score, 4)}
        for sid, (score, name) in ranked
    ]


@router.get(
    "/subjects/{subject_id}/images/{image_id}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}},
)
def view_image(
    subject_id: Id,
    image_id: Id,
    purpose: Purpose,
    ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(WM, OP, biometric="reference_image"),
) -> Response:
    """The reference image itself; every view is audited with its purpose."""
    if image_id not in ctx.store.subjects.image_ids(subject_id):
        raise NotFoundError(f"subject {subject_id!r} has no image {image_id!r}")
    data = ctx.store.subjects.view_image(image_id, who.name, _form_text(purpose, "purpose", 300))
    media = "image/png" if data.startswith(_PNG) else "image/jpeg"
    return Response(data, media_type=media, headers={"Cache-Control": "no-store"})
