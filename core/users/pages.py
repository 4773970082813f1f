"""The customer's pages: sign-in, registration, password reset, profile and security.

Every form posts back to its own URL, carries ``{{ csrf_input }}``, and on a mistake is
shown again with the message next to the field (and the HTTP status of the mistake).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from core.access import identity_of, requires_login
from core.access.audit import AuditLog
from core.access.context import current as current_request
from core.users.middleware import cookie_names
from core.users.service import NotConfirmed, Users
from core.users.sessions import NewSession, Sessions
from core.users.web import describe, done_message, read_form, redirect, safe_next
from core.web.i18n import current_locale
from core.web.i18n import gettext as _
from core.web.templating import render

GUARDED = {"guards": [requires_login]}


def _platform(request: Request[Any, Any, Any]):
    return request.app.state.platform


def _users(request: Request[Any, Any, Any]) -> Users:
    return _platform(request).service(Users)


def _form_page(
    request: Request[Any, Any, Any], template: str, exc: HTTPException, **context: Any
) -> Template:
    message, fields = describe(exc)
    return render(request, template, status_code=exc.status_code, error=message, errors=fields, **context)


def _uuid(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


async def start_session(
    request: Request[Any, Any, Any], user_id: UUID, response: Response[Any]
) -> NewSession:
    """Sign ``user_id`` in: a fresh session (never the one the visitor came with), its cookie on ``response``."""
    platform = _platform(request)
    sessions = platform.service(Sessions)
    names = cookie_names(platform)
    old = request.cookies.get(names.session)
    if old:
        stale = await sessions.resolve(old)
        if stale is not None and stale.identity.session_id:
            await sessions.revoke(stale.identity.session_id)
    info = current_request()
    session = await sessions.create(user_id, ip=info.ip, user_agent=info.user_agent)
    response.set_cookie(
        key=names.session, value=session.token, path="/", httponly=True, samesite="lax", secure=names.secure
    )
    return session


async def end_session(request: Request[Any, Any, Any], response: Response[Any]) -> None:
    """Sign out: end this request's session, record it, and clear the cookie on ``response``."""
    platform = _platform(request)
    identity = identity_of(request)
    if identity.session_id:
        await platform.service(Sessions).revoke(identity.session_id)
        await platform.service(AuditLog).record(action="auth.logout", target=f"user:{identity.user_id}")
    names = cookie_names(platform)
    # Browsers replace a __Host- cookie only with one that is Secure too.
    response.set_cookie(
        key=names.session, value="", max_age=0, path="/", httponly=True, samesite="lax", secure=names.secure
    )


# -- sign-in and sign-out -----------------------------------------------------------------


@get("/login", name="users.login", include_in_schema=False)
async def login_page(request: Request[Any, Any, Any]) -> Template:
    return render(
        request,
        "users/login.html",
        next=safe_next(request.query_params.get("next")),
        flash=done_message(request),
        values={},
    )


@post("/login", include_in_schema=False)
async def login_submit(request: Request[Any, Any, Any]) -> Any:
    form = await read_form(request)
    target = safe_next(form.get("next"))
    try:
        user = await _users(request).authenticate(form.get("login", ""), form.get("password", ""))
    except NotConfirmed as exc:
        if exc.challenge is not None:
            return redirect("/register/confirm", challenge=exc.challenge.id)
        return _form_page(
            request, "users/login.html", exc, next=target, values={"login": form.get("login", "")}
        )
    except HTTPException as exc:
        return _form_page(
            request, "users/login.html", exc, next=target, values={"login": form.get("login", "")}
        )
    response = Redirect(target, status_code=303)
    await start_session(request, user.id, response)
    return response


@post("/logout", include_in_schema=False, **GUARDED)
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    response = redirect("/login", done="signed_out")
    await end_session(request, response)
    return response


# -- registration --------------------------------------------------------------------------


@get("/register", name="users.register", include_in_schema=False)
async def register_page(request: Request[Any, Any, Any]) -> Template:
    return render(request, "users/register.html", values={})


@post("/register", include_in_schema=False)
async def register_submit(request: Request[Any, Any, Any]) -> Any:
    form = await read_form(request)
    values = {"login": form.get("login", ""), "display_name": form.get("display_name", "")}
    if form.get("password", "") != form.get("password_again", ""):
        return render(
            request,
            "users/register.html",
            status_code=400,
            values=values,
            errors={"password_again": "the passwords differ"},
        )
    try:
        challenge = await _users(request).register(
            form.get("login", ""),
            form.get("password", ""),
            display_name=form.get("display_name", ""),
            locale=current_locale(),
        )
    except HTTPException as exc:
        return _form_page(request, "users/register.html", exc, values=values)
    return redirect("/register/confirm", challenge=challenge.id)


@get("/register/confirm", include_in_schema=False)
async def confirm_page(request: Request[Any, Any, Any]) -> Template:
    return render(
        request,
        "users/confirm.html",
        challenge=request.query_params.get("challenge", ""),
        action="/register/confirm",
        title="Confirm your address",
    )


@post("/register/confirm", include_in_schema=False)
async def confirm_submit(request: Request[Any, Any, Any]) -> Any:
    form = await read_form(request)
    challenge_id = _uuid(form.get("challenge"))
    context = {
        "challenge": form.get("challenge", ""),
        "action": "/register/confirm",
        "title": "Confirm your address",
    }
    try:
        if challenge_id is None:
            from core.access.confirmations import CodeRejected

            raise CodeRejected(_("this code is not valid: ask for a new one"))
        await _users(request).confirm_registration(challenge_id, form.get("code", ""))
    except HTTPException as exc:
        return _form_page(request, "users/confirm.html", exc, **context)
    return redirect("/login", done="registered")


@get("/register/resend", include_in_schema=False)
async def resend_page(request: Request[Any, Any, Any]) -> Template:
    return render(request, "users/resend.html", values={})


@post("/register/resend", include_in_schema=False)
async def resend_submit(request: Request[Any, Any, Any]) -> Any:
    form = await read_form(request)
    try:
        challenge = await _users(request).resend_registration_code(
            form.get("login", ""), form.get("password", "")
        )
    except HTTPException as exc:
        return _form_page(request, "users/resend.html", exc, values={"login": form.get("login", "")})
    return redirect("/register/confirm", challenge=challenge.id)


# -- forgotten password ----------------------------------------------------------------------


@get("/password/forgot", include_in_schema=False)
async def forgot_page(request: Request[Any, Any, Any]) -> Template:
    return render(request, "users/forgot.html", values={})


@post("/password/forgot", include_in_schema=False)
async def forgot_submit(request: Request[Any, Any, Any]) -> Any:
    form = await read_form(request)
    try:
        challenge = await _users(request).start_password_reset(form.get("login", ""))
    except HTTPException as exc:
        return _form_page(request, "users/forgot.html", exc, values={"login": form.get("login", "")})
    return redirect("/password/reset", challenge=challenge.id)


@get("/password/reset", include_in_schema=False)
async def reset_page(request: Request[Any, Any, Any]) -> Template:
    return render(request, "users/reset.html", challenge=request.query_params.get("challenge", ""))


@post("/password/reset", include_in_schema=False)
async def reset_submit(request: Request[Any, Any, Any]) -> Any:
    form = await read_form(request)
    challenge_id = _uuid(form.get("challenge"))
    try:
        if form.get("password", "") != form.get("password_again", ""):
            from core.users.service import invalid

            raise invalid("password_again", _("the passwords differ"))
        if challenge_id is None:
            from core.access.confirmations import CodeRejected

            raise CodeRejected(_("this code is not valid: ask for a new one"))
        await _users(request).finish_password_reset(
            challenge_id, form.get("code", ""), form.get("password", "")
        )
    except HTTPException as exc:
        return _form_page(request, "users/reset.html", exc, challenge=form.get("challenge", ""))
    return redirect("/login", done="password_reset")


# -- profile -------------------------------------------------------------------------------------


async def _profile_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    from core.access.pii import mask

    users = _users(request)
    user = await users.get(identity_of(request).user_id)  # type: ignore[arg-type]
    personal = await users.personal_data(user.id)
    return {"user": user, "itn_masked": mask(personal.itn), "passport_masked": mask(personal.passport)}


@get("/account/profile", name="users.profile", include_in_schema=False, **GUARDED)
async def profile_page(request: Request[Any, Any, Any]) -> Template:
    return render(
        request, "users/profile.html", flash=done_message(request), **await _profile_context(request)
    )


@post("/account/profile", include_in_schema=False, **GUARDED)
async def profile_submit(request: Request[Any, Any, Any]) -> Any:
    form = await read_form(request)
    try:
        await _users(request).update_profile(
            identity_of(request).user_id,  # type: ignore[arg-type]
            # A field that is not there stays as it is (None); an emptied one is cleared ("").
            display_name=form.get("display_name"),
            locale=form.get("locale"),
        )
    except HTTPException as exc:
        return _form_page(request, "users/profile.html", exc, **await _profile_context(request))
    response = redirect("/account/profile", done="profile")
    if form.get("locale") in ("ru", "en"):
        response.set_cookie("lang", form["locale"], max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response


@post("/account/personal", include_in_schema=False, **GUARDED)
async def personal_submit(request: Request[Any, Any, Any]) -> Any:
    form = await read_form(request)
    try:
        await _users(request).set_personal_data(
            identity_of(request).user_id,  # type: ignore[arg-type]
            itn=form.get("itn") if form.get("itn") or form.get("clear_itn") else None,
            passport=form.get("passport") if form.get("passport") or form.get("clear_passport") else None,
        )
    except HTTPException as exc:
        return _form_page(request, "users/profile.html", exc, **await _profile_context(request))
    return redirect("/account/profile", done="personal")


# -- contact details -------------------------------------------------------------------------------


@get("/account/contact", include_in_schema=False, **GUARDED)
async def contact_page(request: Request[Any, Any, Any]) -> Template:
    kind = request.query_params.get("kind", "email")
    return render(
        request, "users/contact.html", kind=kind if kind in ("email", "phone") else "email", values={}
    )


@post("/account/contact", include_in_schema=False, **GUARDED)
async def contact_submit(request: Request[Any, Any, Any]) -> Any:
    form = await read_form(request)
    kind = form.get("kind", "email") if form.get("kind") in ("email", "phone") else "email"
    try:
        challenge = await _users(request).start_contact_change(
            identity_of(request), form.get("password", ""), kind, form.get("value", "")
        )
    except HTTPException as exc:
        return _form_page(
            request, "users/contact.html", exc, kind=kind, values={"value": form.get("value", "")}
        )
    # The new address travels in the form, not the URL: addresses do not belong in logs.
    return render(
        request,
        "users/contact_confirm.html",
        challenge=str(challenge.id),
        kind=kind,
        value=form.get("value", ""),
        sent_to=challenge.sent_to,
    )


@post("/account/contact/confirm", include_in_schema=False, **GUARDED)
async def contact_confirm(request: Request[Any, Any, Any]) -> Any:
    form = await read_form(request)
    challenge_id = _uuid(form.get("challenge"))
    kind = form.get("kind", "email") if form.get("kind") in ("email", "phone") else "email"
    try:
        if challenge_id is None:
            from core.access.confirmations import CodeRejected

            raise CodeRejected(_("this code is not valid: ask for a new one"))
        await _users(request).finish_contact_change(
            identity_of(request), challenge_id, form.get("code", ""), kind, form.get("value", "")
        )
    except HTTPException as exc:
        return _form_page(
            request,
            "users/contact_confirm.html",
            exc,
            challenge=form.get("challenge", ""),
            kind=kind,
            value=form.get("value", ""),
            sent_to="",
        )
    return redirect("/account/profile", done="contact")


# -- security: password, sessions, API tokens ---------------------------------------------------------


async def _security_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    identity = identity_of(request)
    sessions = _platform(request).service(Sessions)
    return {
        "sessions": await sessions.list(identity.user_id),  # type: ignore[arg-type]
        "tokens": await sessions.list_tokens(identity.user_id),  # type: ignore[arg-type]
        "current_session": identity.session_id,
    }


@get("/account/security", name="users.security", include_in_schema=False, **GUARDED)
async def security_page(request: Request[Any, Any, Any]) -> Template:
    return render(
        request, "users/security.html", flash=done_message(request), **await _security_context(request)
    )


@post("/account/password", include_in_schema=False, **GUARDED)
async def password_submit(request: Request[Any, Any, Any]) -> Any:
    form = await read_form(request)
    try:
        if form.get("new_password", "") != form.get("new_password_again", ""):
            from core.users.service import invalid

            raise invalid("new_password_again", _("the passwords differ"))
        await _users(request).change_password(
            identity_of(request), form.get("current_password", ""), form.get("new_password", "")
        )
    except HTTPException as exc:
        return _form_page(request, "users/security.html", exc, **await _security_context(request))
    return redirect("/account/security", done="password")


@post("/account/sessions/{session_id:uuid}/revoke", include_in_schema=False, **GUARDED)
async def session_revoke(request: Request[Any, Any, Any], session_id: FromPath[UUID]) -> Redirect:
    identity = identity_of(request)
    if not await _platform(request).service(Sessions).revoke(session_id, user_id=identity.user_id):
        raise NotFoundException(_("you have no session %(id)s", id=session_id))
    return redirect("/account/security", done="session_revoked")


@post("/account/tokens", include_in_schema=False, **GUARDED)
async def token_create(request: Request[Any, Any, Any]) -> Template:
    """Make an API token; it is shown once, on the page this answers with."""
    form = await read_form(request)
    try:
        days = min(max(int(form.get("days") or 0), 0), 3650) or None
    except ValueError:
        days = None
    try:
        token, _token_id = await _users(request).create_api_token(
            identity_of(request), form.get("password", ""), form.get("name", ""), days=days
        )
    except HTTPException as exc:
        return _form_page(request, "users/security.html", exc, **await _security_context(request))
    return render(request, "users/security.html", new_token=token, **await _security_context(request))


@post("/account/sessions/end-others", include_in_schema=False, **GUARDED)
async def sessions_end_others(request: Request[Any, Any, Any]) -> Redirect:
    await _users(request).end_other_sessions(identity_of(request))
    return redirect("/account/security", done="session_revoked")


@post("/account/tokens/{token_id:uuid}/revoke", include_in_schema=False, **GUARDED)
async def token_revoke(request: Request[Any, Any, Any], token_id: FromPath[UUID]) -> Redirect:
    from core.access.audit import AuditLog

    identity = identity_of(request)
    platform = _platform(request)
    if not await platform.service(Sessions).revoke_token(identity.user_id, token_id):  # type: ignore[arg-type]
        raise NotFoundException(_("you have no API token %(id)s", id=token_id))
    await platform.service(AuditLog).record(
        action="users.token_revoked", target=f"user:{identity.user_id}", details={"token": str(token_id)}
    )
    return redirect("/account/security", done="token_revoked")


ROUTES = [
    login_page,
    login_submit,
    logout,
    register_page,
    register_submit,
    confirm_page,
    confirm_submit,
    resend_page,
    resend_submit,
    forgot_page,
    forgot_submit,
    reset_page,
    reset_submit,
    profile_page,
    profile_submit,
    personal_submit,
    contact_page,
    contact_submit,
    contact_confirm,
    security_page,
    password_submit,
    session_revoke,
    token_create,
    sessions_end_others,
    token_revoke,
]
