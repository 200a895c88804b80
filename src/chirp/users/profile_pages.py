"""The Edit profile page: display name, bio, fields, locked, sensitive media by default."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from chirp.api.params import parse
from chirp.deps import SessionDep, SettingsDep
from chirp.errors import ChirpError, ValidationFailed
from chirp.media import form_files, profile_images
from chirp.media.api import StorageDep
from chirp.users import editing, validation
from chirp.users.models import User
from chirp.users.schemas import UpdateCredentialsIn
from chirp.web.htmx import is_htmx, redirect, render
from chirp.web.session import CurrentUser

router = APIRouter()

# The page's own fields: anything else a form sends (the CSRF token, a script's extras) is
# not a profile change.
_FORM_FIELDS = {
    "display_name",
    "note",
    "locked",
    "source[sensitive]",
    *(
        validation.field_key(i, part)
        for i in range(validation.MAX_FIELDS)
        for part in ("name", "value")
    ),
}


def _form_values(user: User) -> dict[str, Any]:
    """The form filled in from the saved profile."""
    values: dict[str, Any] = {
        "display_name": user.display_name,
        "note": user.bio,
        "locked": user.locked,
        "source[sensitive]": user.default_sensitive,
    }
    for i, field in enumerate(user.fields or []):
        values[validation.field_key(i, "name")] = field["name"]
        values[validation.field_key(i, "value")] = field["value"]
    return values


def _page(
    request: Request,
    viewer: User,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    saved: bool = False,
    status_code: int = 200,
) -> Response:
    context = {
        "values": values,
        "errors": errors,
        "saved": saved,
        "max_fields": validation.MAX_FIELDS,
        "limits": {
            "display_name": validation.MAX_DISPLAY_NAME,
            "note": validation.MAX_BIO,
            "name": validation.MAX_FIELD_NAME,
            "value": validation.MAX_FIELD_VALUE,
        },
    }
    # htmx swaps the form alone; without JavaScript the whole page is sent.
    template = "users/_profile_form.html" if is_htmx(request) else "users/edit_profile.html"
    return render(request, template, context, viewer=viewer, status_code=status_code)


@router.get("/settings/profile")
async def edit_profile(request: Request, viewer: CurrentUser) -> Response:
    """The Edit profile form, filled in with your profile."""
    return _page(request, viewer, values=_form_values(viewer), errors={})


async def _set_images(
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    viewer: User,
    form: FormData,
) -> None:
    """Take the avatar and header chosen (or removed); a refused file names its own field."""
    for name in ("avatar", "header"):
        try:
            data = await form_files.file_bytes(form, name, settings)
            if data is not None:
                await profile_images.set_images(
                    session, storage, settings, user=viewer, **{name: data}
                )
        except ChirpError as exc:
            raise ValidationFailed(exc.message, field=name) from exc
        if data is None and form.get(f"remove_{name}") == "1":
            if name == "avatar":
                await profile_images.remove_avatar(session, user=viewer)
            else:
                await profile_images.remove_header(session, user=viewer)


@router.post("/settings/profile")
async def save_profile(
    request: Request,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    viewer: CurrentUser,
) -> Response:
    """Save your profile: every field at once, or nothing and every problem shown."""
    form = await request.form()
    # A checkbox is sent only when ticked: the form puts a "0" before it, and the last wins.
    sent: dict[str, Any] = {"locked": "0", "source[sensitive]": "0"}
    sent.update((k, v) for k, v in form.multi_items() if k in _FORM_FIELDS and isinstance(v, str))
    # Every row of the form is sent, so fields left out of it are cleared.
    for i in range(validation.MAX_FIELDS):
        for part in ("name", "value"):
            sent.setdefault(validation.field_key(i, part), "")
    try:
        changes = parse(UpdateCredentialsIn, sent)
        # Images first: processed with no transaction held (nothing is written before).
        await _set_images(session, storage, settings, viewer, form)
        await editing.apply(session, user=viewer, changes=changes)
    except ValidationFailed as exc:
        # Nothing was changed: every rule is checked before anything is written.
        errors = {p.field or "form": p.message for p in reversed(exc.problems)}
        values = {
            **sent,
            "locked": sent["locked"] == "1",
            "source[sensitive]": sent["source[sensitive]"] == "1",
        }
        return _page(request, viewer, values=values, errors=errors, status_code=422)
    await session.commit()
    if is_htmx(request):
        return _page(request, viewer, values=_form_values(viewer), errors={}, saved=True)
    return redirect(request, "/settings/profile", message="Your profile was saved.")
