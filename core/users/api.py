"""The JSON API of accounts: ``/api/v1/auth/...`` and ``/api/v1/users/me/...``.

Signing in through the API sets the same session cookie as the site and returns the
session's CSRF token: a browser client sends it back as ``X-CSRF-Token`` on every
unsafe request. Programs use API tokens (``Authorization: Bearer kpt_...``) instead and
need no CSRF token. The anonymous endpoints accept only ``application/json``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Request, Response, delete, get, patch, post, put
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from core.access import identity_of, requires_login
from core.access.audit import AuditLog
from core.access.confirmations import Challenge
from core.access.pii import mask
from core.users.middleware import CSRF_SCOPE_KEY
from core.users.pages import end_session, start_session
from core.users.service import UserRecord, Users
from core.users.sessions import Sessions
from core.web.i18n import gettext as _

Text = Annotated[str, msgspec.Meta(max_length=320)]
Password = Annotated[str, msgspec.Meta(max_length=1024)]
Code = Annotated[str, msgspec.Meta(max_length=20)]
Name = Annotated[str, msgspec.Meta(max_length=200)]
JSON_ONLY = {"json_only": True}
SIGNED_IN = {"guards": [requires_login]}
TAGS = ["auth"]
ME = ["users"]


class RegisterBody(msgspec.Struct):
    login: Text
    password: Password
    display_name: Name = ""
    locale: Literal["ru", "en"] | None = None


class ConfirmBody(msgspec.Struct):
    challenge_id: UUID
    code: Code


class LoginBody(msgspec.Struct):
    login: Text
    password: Password


class ForgotBody(msgspec.Struct):
    login: Text


class ResendBody(msgspec.Struct):
    login: Text
    password: Password


class ResetBody(msgspec.Struct):
    challenge_id: UUID
    code: Code
    new_password: Password


class ProfileBody(msgspec.Struct):
    display_name: Name | None = None
    locale: Literal["ru", "en", ""] | None = None


class PasswordBody(msgspec.Struct):
    current_password: Password
    new_password: Password


class ContactBody(msgspec.Struct):
    kind: Literal["email", "phone"]
    value: Text
    password: Password


class ContactConfirmBody(msgspec.Struct):
    challenge_id: UUID
    code: Code
    kind: Literal["email", "phone"]
    value: Text


class PersonalBody(msgspec.Struct):
    itn: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    passport: Annotated[str, msgspec.Meta(max_length=40)] | None = None


class TokenBody(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    password: Password
    days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = None


def _users(request: Request[Any, Any, Any]) -> Users:
    return request.app.state.platform.service(Users)


def _sessions(request: Request[Any, Any, Any]) -> Sessions:
    return request.app.state.platform.service(Sessions)


def challenge_view(challenge: Challenge) -> dict[str, Any]:
    return {
        "challenge_id": str(challenge.id),
        "expires_at": challenge.expires_at.isoformat(),
        "sent_to": challenge.sent_to,
    }


def user_view(user: UserRecord) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "status": user.status,
        "email": user.email,
        "phone": user.phone,
        "display_name": user.display_name,
        "locale": user.locale,
        "created_at": user.created_at.isoformat(),
        "confirmed_at": user.confirmed_at.isoformat() if user.confirmed_at else None,
        "has_itn": user.has_itn,
        "has_passport": user.has_passport,
    }


# -- anonymous: registration, sign-in, reset --------------------------------------------------------------


@post(
    "/api/v1/auth/register",
    tags=TAGS,
    summary="Register; a code goes to the address",
    opt=JSON_ONLY,
    status_code=HTTP_202_ACCEPTED,
)
async def api_register(
    request: Request[Any, Any, Any], data: Annotated[RegisterBody, Body()]
) -> dict[str, Any]:
    challenge = await _users(request).register(
        data.login, data.password, display_name=data.display_name, locale=data.locale
    )
    return challenge_view(challenge)


@post(
    "/api/v1/auth/register/confirm",
    tags=TAGS,
    summary="Confirm a registration with its code",
    opt=JSON_ONLY,
    status_code=200,
)
async def api_register_confirm(
    request: Request[Any, Any, Any], data: Annotated[ConfirmBody, Body()]
) -> dict[str, Any]:
    user = await _users(request).confirm_registration(data.challenge_id, data.code)
    return {"user": user_view(user)} if user else {}


@post(
    "/api/v1/auth/register/resend",
    tags=TAGS,
    summary="Send a new registration code (the password registered with is asked again)",
    opt=JSON_ONLY,
    status_code=HTTP_202_ACCEPTED,
)
async def api_register_resend(
    request: Request[Any, Any, Any], data: Annotated[ResendBody, Body()]
) -> dict[str, Any]:
    return challenge_view(await _users(request).resend_registration_code(data.login, data.password))


@post(
    "/api/v1/auth/login",
    tags=TAGS,
    summary="Sign in: sets the session cookie, returns the CSRF token",
    opt=JSON_ONLY,
    status_code=200,
)
async def api_login(
    request: Request[Any, Any, Any], data: Annotated[LoginBody, Body()]
) -> Response[dict[str, Any]]:
    user = await _users(request).authenticate(data.login, data.password)
    response: Response[dict[str, Any]] = Response({"user": user_view(user)})
    session = await start_session(request, user.id, response)
    response.content["csrf_token"] = session.csrf_token
    return response


@post(
    "/api/v1/auth/logout",
    tags=TAGS,
    summary="Sign out of this session",
    status_code=HTTP_204_NO_CONTENT,
    **SIGNED_IN,
)
async def api_logout(request: Request[Any, Any, Any]) -> Response[None]:
    response: Response[None] = Response(None, status_code=HTTP_204_NO_CONTENT)
    await end_session(request, response)
    return response


@post(
    "/api/v1/auth/password/forgot",
    tags=TAGS,
    summary="Send a password-reset code",
    opt=JSON_ONLY,
    status_code=HTTP_202_ACCEPTED,
)
async def api_forgot(request: Request[Any, Any, Any], data: Annotated[ForgotBody, Body()]) -> dict[str, Any]:
    return challenge_view(await _users(request).start_password_reset(data.login))


@post(
    "/api/v1/auth/password/reset",
    tags=TAGS,
    summary="Set a new password with the reset code",
    opt=JSON_ONLY,
    status_code=HTTP_204_NO_CONTENT,
)
async def api_reset(request: Request[Any, Any, Any], data: Annotated[ResetBody, Body()]) -> None:
    await _users(request).finish_password_reset(data.challenge_id, data.code, data.new_password)


# -- me ----------------------------------------------------------------------------------------------------------


@get("/api/v1/users/me", tags=ME, summary="My account", **SIGNED_IN)
async def api_me(request: Request[Any, Any, Any]) -> dict[str, Any]:
    identity = identity_of(request)
    user = await _users(request).get(identity.user_id)  # type: ignore[arg-type]
    return {
        "user": user_view(user),
        "roles": sorted(identity.roles),
        "permissions": sorted(identity.permissions),
        "csrf_token": request.scope.get(CSRF_SCOPE_KEY) if identity.via == "session" else None,
    }


@patch("/api/v1/users/me", tags=ME, summary="Change my name or language", **SIGNED_IN)
async def api_me_update(
    request: Request[Any, Any, Any], data: Annotated[ProfileBody, Body()]
) -> dict[str, Any]:
    user = await _users(request).update_profile(
        identity_of(request).user_id,  # type: ignore[arg-type]
        display_name=data.display_name,
        locale=data.locale,
    )
    return {"user": user_view(user)}


@post(
    "/api/v1/users/me/password",
    tags=ME,
    summary="Change my password (other sessions end)",
    status_code=HTTP_204_NO_CONTENT,
    **SIGNED_IN,
)
async def api_password(request: Request[Any, Any, Any], data: Annotated[PasswordBody, Body()]) -> None:
    await _users(request).change_password(identity_of(request), data.current_password, data.new_password)


@post(
    "/api/v1/users/me/contact",
    tags=ME,
    summary="Change my e-mail or phone: a code goes to the new one",
    status_code=HTTP_202_ACCEPTED,
    **SIGNED_IN,
)
async def api_contact(
    request: Request[Any, Any, Any], data: Annotated[ContactBody, Body()]
) -> dict[str, Any]:
    challenge = await _users(request).start_contact_change(
        identity_of(request), data.password, data.kind, data.value
    )
    return challenge_view(challenge)


@post(
    "/api/v1/users/me/contact/confirm",
    tags=ME,
    summary="Confirm the new e-mail or phone with its code",
    status_code=200,
    **SIGNED_IN,
)
async def api_contact_confirm(
    request: Request[Any, Any, Any], data: Annotated[ContactConfirmBody, Body()]
) -> dict[str, Any]:
    user = await _users(request).finish_contact_change(
        identity_of(request), data.challenge_id, data.code, data.kind, data.value
    )
    return {"user": user_view(user)}


@get(
    "/api/v1/users/me/personal-data", tags=ME, summary="My taxpayer number and passport (masked)", **SIGNED_IN
)
async def api_personal(request: Request[Any, Any, Any]) -> dict[str, Any]:
    found = await _users(request).personal_data(identity_of(request).user_id)  # type: ignore[arg-type]
    return {"itn": mask(found.itn), "passport": mask(found.passport)}


@put(
    "/api/v1/users/me/personal-data",
    tags=ME,
    summary='Set my taxpayer number or passport ("" clears)',
    **SIGNED_IN,
)
async def api_personal_set(
    request: Request[Any, Any, Any], data: Annotated[PersonalBody, Body()]
) -> dict[str, Any]:
    users = _users(request)
    user_id = identity_of(request).user_id
    await users.set_personal_data(user_id, itn=data.itn, passport=data.passport)  # type: ignore[arg-type]
    found = await users.personal_data(user_id)  # type: ignore[arg-type]
    return {"itn": mask(found.itn), "passport": mask(found.passport)}


@get("/api/v1/users/me/sessions", tags=ME, summary="My signed-in sessions", **SIGNED_IN)
async def api_sessions(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    identity = identity_of(request)
    found = await _sessions(request).list(identity.user_id)  # type: ignore[arg-type]
    return [{**_iso(asdict(s)), "current": str(s.id) == identity.session_id} for s in found]


@delete(
    "/api/v1/users/me/sessions",
    tags=ME,
    summary="End all my sessions but this one",
    status_code=200,
    **SIGNED_IN,
)
async def api_sessions_end_others(request: Request[Any, Any, Any]) -> dict[str, int]:
    return {"ended": await _users(request).end_other_sessions(identity_of(request))}


@delete(
    "/api/v1/users/me/sessions/{session_id:uuid}",
    tags=ME,
    summary="End one of my sessions",
    status_code=HTTP_204_NO_CONTENT,
    **SIGNED_IN,
)
async def api_session_revoke(request: Request[Any, Any, Any], session_id: FromPath[UUID]) -> None:
    if not await _sessions(request).revoke(session_id, user_id=identity_of(request).user_id):
        raise NotFoundException(_("you have no session %(id)s", id=session_id))


@get("/api/v1/users/me/tokens", tags=ME, summary="My API tokens", **SIGNED_IN)
async def api_tokens(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    found = await _sessions(request).list_tokens(identity_of(request).user_id)  # type: ignore[arg-type]
    return [_iso(asdict(t)) for t in found]


@post("/api/v1/users/me/tokens", tags=ME, summary="Make an API token (shown once)", **SIGNED_IN)
async def api_token_create(
    request: Request[Any, Any, Any], data: Annotated[TokenBody, Body()]
) -> dict[str, Any]:
    token, token_id = await _users(request).create_api_token(
        identity_of(request), data.password, data.name, days=data.days
    )
    return {"id": str(token_id), "token": token}


@delete(
    "/api/v1/users/me/tokens/{token_id:uuid}",
    tags=ME,
    summary="Revoke one of my API tokens",
    status_code=HTTP_204_NO_CONTENT,
    **SIGNED_IN,
)
async def api_token_revoke(request: Request[Any, Any, Any], token_id: FromPath[UUID]) -> None:
    identity = identity_of(request)
    if not await _sessions(request).revoke_token(identity.user_id, token_id):  # type: ignore[arg-type]
        raise NotFoundException(_("you have no API token %(id)s", id=token_id))
    await request.app.state.platform.service(AuditLog).record(
        action="users.token_revoked", target=f"user:{identity.user_id}", details={"token": str(token_id)}
    )


def _iso(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, dt.datetime) else str(v) if isinstance(v, UUID) else v)
        for k, v in values.items()
    }


ROUTES = [
    api_register,
    api_register_confirm,
    api_register_resend,
    api_login,
    api_logout,
    api_forgot,
    api_reset,
    api_me,
    api_me_update,
    api_password,
    api_contact,
    api_contact_confirm,
    api_personal,
    api_personal_set,
    api_sessions,
    api_session_revoke,
    api_sessions_end_others,
    api_tokens,
    api_token_create,
    api_token_revoke,
]
