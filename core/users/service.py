"""Users: registration, sign-in, passwords, contacts, personal data and the admin's tools.

``platform.service(Users)`` is the one place accounts change. Every change that matters
for security is written to the audit log, and the answers never tell a stranger whether
an account exists: registering a taken address and resetting the password of an
unknown login look exactly like the real thing (a decoy challenge, the same timing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import asyncpg
from litestar.exceptions import (
    ClientException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.ru import inn as ru_inn

from core.access import Identity
from core.access import context as request_context
from core.access.audit import AuditLog
from core.access.confirmations import Challenge, CodeRejected, Confirmations
from core.access.inputs import plain_text
from core.access.pii import PiiCipher, PiiField
from core.access.ratelimit import Limit, RateLimiter, TooManyRequests
from core.access.roles import CUSTOMER, Roles
from core.contracts.notifications import EMAIL, PHONE, Address, Recipient
from core.users.contacts import ContactError, normalize, normalize_phone, parse_login
from core.users.passwords import Hasher, PasswordRejected, check_policy
from core.users.sessions import Sessions
from core.web.i18n import gettext as _

if TYPE_CHECKING:
    from core.platform import Platform
    from core.users.settings import UsersSettings

PHONE_FIELD = PiiField("users_users", "id", "phone_enc", "phone_bidx", normalize_phone)
ITN_FIELD = PiiField("users_users", "id", "itn_enc", "itn_bidx", lambda v: re.sub(r"[^0-9]", "", v))
PASSPORT_FIELD = PiiField("users_users", "id", "passport_enc")

REGISTER = "users.register"
PASSWORD_RESET = "users.password_reset"
CONTACT_CHANGE = "users.contact_change"
STATUSES = ("pending", "active", "blocked", "deleted")
_PASSPORT = re.compile(r"^[A-Z0-9][A-Z0-9 -]{4,28}[A-Z0-9]$")


class LoginFailed(NotAuthorizedException):
    def __init__(self) -> None:
        super().__init__(_("wrong login or password"))


def _locked() -> str:
    """The same words whether or not the login has an account."""
    return _("this login is locked after too many failed sign-ins")


class AccountBlocked(PermissionDeniedException):
    def __init__(self) -> None:
        super().__init__(_("this account is blocked; contact support"))


class NotConfirmed(PermissionDeniedException):
    def __init__(self, challenge: Challenge | None) -> None:
        super().__init__(_("confirm your address first: we sent you a code"))
        self.challenge = challenge


def invalid(key: str, message: str) -> ValidationException:
    """A 400 naming the field that is wrong (shown next to it on forms)."""
    return ValidationException(
        f"{key}: {message}", extra=[{"key": key, "message": message, "source": "body"}]
    )


@dataclass(frozen=True)
class UserRecord:
    id: UUID
    status: str
    email: str | None
    phone: str | None
    display_name: str
    locale: str | None
    created_at: dt.datetime
    confirmed_at: dt.datetime | None
    last_login_at: dt.datetime | None
    blocked_at: dt.datetime | None
    blocked_reason: str | None
    deleted_at: dt.datetime | None
    failed_logins: int
    locked_until: dt.datetime | None
    has_itn: bool
    has_passport: bool

    @property
    def login(self) -> str:
        return self.email or self.phone or ""

    @property
    def name(self) -> str:
        return self.display_name or (self.email or "").split("@")[0] or self.phone or str(self.id)[:8]

    @property
    def owner(self) -> str:
        """The ledger owner string of this user."""
        return f"user:{self.id}"


@dataclass(frozen=True)
class PersonalData:
    itn: str | None
    passport: str | None


@dataclass(frozen=True)
class DayStats:
    day: dt.date
    registrations: int
    active: int


def clean_name(value: str) -> str:
    """A display name without control characters, at most 100 characters."""
    return plain_text(value, 100)


class Users:
    def __init__(self, platform: Platform, settings: UsersSettings) -> None:
        self.platform = platform
        self.settings = settings
        self.hasher = Hasher(settings)
        window = settings.login_window_minutes * 60
        self.login_per_account = Limit("login.failed.account", settings.login_failures_per_account, window)
        self.login_per_ip = Limit("login.failed.ip", settings.login_failures_per_ip, window)
        # A flood of refused attempts is audited once a minute per login or address, not per attempt.
        self.refusals_audited = Limit("login.refusal.audited", 1, 60)
        # Logins with no account lock like accounts do, so a lock tells nobody an account exists.
        self.unknown_login_lockout = Limit(
            "login.failed.unknown", settings.lockout_after, settings.lockout_minutes * 60
        )
        self.registrations_per_ip = Limit("register.ip", settings.registrations_per_ip_hour, 3600)

    # -- collaborators -----------------------------------------------------------------

    @property
    def db(self):
        return self.platform.db

    @property
    def cipher(self) -> PiiCipher:
        return self.platform.service(PiiCipher)

    @property
    def audit(self) -> AuditLog:
        return self.platform.service(AuditLog)

    @property
    def confirmations(self) -> Confirmations:
        return self.platform.service(Confirmations)

    @property
    def limiter(self) -> RateLimiter:
        return self.platform.service(RateLimiter)

    @property
    def roles(self) -> Roles:
        return self.platform.service(Roles)

    @property
    def sessions(self) -> Sessions:
        return self.platform.service(Sessions)

    @property
    def notifications(self):
        from core.notifications.service import NotificationService

        return self.platform.service(NotificationService)

    # -- reading -----------------------------------------------------------------------

    def _record(self, row: Any) -> UserRecord:
        phone = self.cipher.maybe_decrypt(row["phone_enc"], context=PHONE_FIELD.context)
        return UserRecord(
            row["id"],
            row["status"],
            row["email"],
            phone,
            row["display_name"],
            row["locale"],
            row["created_at"],
            row["confirmed_at"],
            row["last_login_at"],
            row["blocked_at"],
            row["blocked_reason"],
            row["deleted_at"],
            row["failed_logins"],
            row["locked_until"],
            row["itn_enc"] is not None,
            row["passport_enc"] is not None,
        )

    async def get(self, user_id: UUID) -> UserRecord:
        row = await self.db.fetchrow("SELECT * FROM users_users WHERE id = $1", user_id)
        if row is None:
            raise NotFoundException(_("no user %(id)s", id=user_id))
        return self._record(row)

    def phone_index(self, phone: str) -> bytes:
        return self.cipher.blind_index(normalize_phone(phone), context=PHONE_FIELD.context)

    async def _row_by_address(self, address: Address) -> Any:
        if address.kind == EMAIL:
            return await self.db.fetchrow("SELECT * FROM users_users WHERE email = $1", address.value)
        return await self.db.fetchrow(
            "SELECT * FROM users_users WHERE phone_bidx = $1", self.phone_index(address.value)
        )

    async def find(self, login: str) -> UserRecord | None:
        """The account signed in with ``login`` (an e-mail address or a phone number), if any."""
        try:
            row = await self._row_by_address(parse_login(login))
        except ContactError:
            return None
        return self._record(row) if row is not None else None

    async def recipient(self, user_id: UUID) -> Recipient | None:
        row = await self.db.fetchrow(
            "SELECT id, email, phone_enc, display_name, locale, status FROM users_users WHERE id = $1",
            user_id,
        )
        if row is None or row["status"] == "deleted":
            return None
        addresses = []
        if row["email"]:
            addresses.append(Address(EMAIL, row["email"]))
        if row["phone_enc"] is not None:
            addresses.append(
                Address(PHONE, self.cipher.decrypt(row["phone_enc"], context=PHONE_FIELD.context))
            )
        return Recipient(row["id"], row["display_name"], row["locale"], tuple(addresses))

    def _login_key(self, login: str) -> str:
        """A rate-limit subject for a login that does not name anyone in plain text."""
        try:
            address = parse_login(login)
            text = f"{address.kind}:{address.value}"
        except ContactError:
            text = f"raw:{login.strip().lower()[:320]}"
        return self.cipher.blind_index(text, context="ratelimit").hex()[:32]

    def _address(self, login: str) -> Address:
        try:
            return parse_login(login, self.settings.login_kinds)
        except ContactError as exc:
            raise invalid("login", str(exc)) from None

    def _check_password(self, password: str, *context: str | None) -> None:
        try:
            check_policy(password, self.settings, context=tuple(c for c in context if c))
        except PasswordRejected as exc:
            raise invalid("password", str(exc)) from None

    # -- creating accounts ------------------------------------------------------------------

    async def create(
        self,
        login: str,
        password: str | None,
        *,
        display_name: str = "",
        locale: str | None = None,
        status: str = "active",
        roles: tuple[str, ...] = (CUSTOMER,),
    ) -> UserRecord:
        """Create an account directly (the command line, demo data, tests); no code is sent."""
        address = self._address(login)
        if password is not None:
            self._check_password(password, address.value)
        password_hash = await self.hasher.hash(password) if password is not None else None
        async with self.db.transaction():
            user_id = await self._insert(address, password_hash, display_name, locale, status)
            for role in roles:
                await self.roles.grant(user_id, role, by=None)
            await self.audit.record(
                action="users.created", target=f"user:{user_id}", details={"status": status}
            )
        return await self.get(user_id)

    async def _insert(
        self, address: Address, password_hash: str | None, display_name: str, locale: str | None, status: str
    ) -> UUID:
        user_id = uuid4()
        email = address.value if address.kind == EMAIL else None
        phone_enc = (
            self.cipher.encrypt(address.value, context=PHONE_FIELD.context) if address.kind == PHONE else None
        )
        phone_bidx = self.phone_index(address.value) if address.kind == PHONE else None
        try:
            await self.db.execute(
                """INSERT INTO users_users (id, status, email, phone_enc, phone_bidx, display_name, locale,
                                            password_hash, password_changed_at, confirmed_at)
                   VALUES ($1, $2::varchar, $3, $4, $5, $6, $7, $8, clock_timestamp(),
                           CASE WHEN $2::varchar = 'active' THEN clock_timestamp() END)""",
                user_id,
                status,
                email,
                phone_enc,
                phone_bidx,
                clean_name(display_name),
                _locale(locale),
                password_hash,
            )
        except asyncpg.UniqueViolationError:
            raise ClientException(_("this address belongs to another account"), status_code=409) from None
        return user_id

    async def register(
        self, login: str, password: str, *, display_name: str = "", locale: str | None = None
    ) -> Challenge:
        """Start a registration: a pending account and a code sent to its address."""
        if not self.settings.registration_open:
            raise PermissionDeniedException(
                _("registration is closed here; ask an administrator for an account")
            )
        address = self._address(login)
        self._check_password(password, address.value)
        ip = request_context.current().ip
        if ip:
            (await self.limiter.hit(self.registrations_per_ip, ip)).raise_if_denied(
                _("too many registrations")
            )
        # Hash before looking the address up, so a taken address answers as slowly as a new one.
        password_hash = await self.hasher.hash(password)
        existing = await self._row_by_address(address)
        if existing is not None and existing["status"] != "pending":
            return await self._registered_already(existing["id"], address)
        try:
            async with self.db.transaction():
                if existing is not None:
                    user_id = existing["id"]
                    await self.db.execute(
                        """UPDATE users_users SET password_hash = $2, display_name = $3, locale = $4,
                                  password_changed_at = clock_timestamp() WHERE id = $1 AND status = 'pending'""",
                        user_id,
                        password_hash,
                        clean_name(display_name),
                        _locale(locale),
                    )
                else:
                    user_id = await self._insert(address, password_hash, display_name, locale, "pending")
                await self.audit.record(
                    action="users.registration.started",
                    target=f"user:{user_id}",
                    details={"address_kind": address.kind},
                )
        except ClientException:  # a parallel registration took the address a moment ago
            return await self._registered_already(None, address)
        return await self._send_registration_code(user_id, address, password_hash)

    async def _send_registration_code(
        self, user_id: UUID, address: Address, password_hash: str | None
    ) -> Challenge:
        return await self.confirmations.issue(
            purpose=REGISTER,
            payload=_registration_payload(user_id, address, password_hash),
            user_id=user_id,
            to=address,
        )

    async def _registered_already(self, user_id: UUID | None, address: Address) -> Challenge:
        """Someone registers an address that has an account: tell its owner, not the visitor."""
        # The decoy first: its sending limits also spare the owner a flood of warnings.
        challenge = await self.confirmations.decoy(purpose=REGISTER, to=address)
        if user_id is not None:
            await self.notifications.send(address, "users.already_registered", {}, user_id=user_id)
        await self.audit.record(
            action="users.registration.duplicate",
            target=f"user:{user_id}" if user_id else "",
            details={"address_kind": address.kind},
        )
        return challenge

    async def confirm_registration(self, challenge_id: UUID, code: str) -> UserRecord | None:
        """Check the registration code; the account becomes active and a customer."""
        user_id = await self.confirmations.owner(challenge_id)
        payload: dict[str, Any] = {}
        row = None
        if user_id is not None:
            row = await self.db.fetchrow("SELECT * FROM users_users WHERE id = $1", user_id)
            if row is not None:
                payload = _registration_payload(user_id, self._primary_address(row), row["password_hash"])
        await self.confirmations.verify(
            challenge_id, code, purpose=REGISTER, payload=payload, user_id=user_id
        )
        if row is None or user_id is None:  # cannot happen: a decoy's code is never right
            raise CodeRejected(_("this code is not valid"))
        async with self.db.transaction():
            activated = await self.db.fetchval(
                """UPDATE users_users SET status = 'active', confirmed_at = clock_timestamp()
                   WHERE id = $1 AND status = 'pending' RETURNING id""",
                user_id,
            )
            if activated is None:
                raise ClientException(_("this account is already confirmed"), status_code=409)
            await self.roles.grant(user_id, CUSTOMER, by=None)
            await self.audit.record(action="users.registered", actor=user_id, target=f"user:{user_id}")
        user = await self.get(user_id)
        await self.notifications.notify(user_id, "users.welcome", {}, via=())
        await self.platform.plugins.emit("on_user_registered", platform=self.platform, user=user)
        return user

    def _primary_address(self, row: Any) -> Address:
        if row["email"]:
            return Address(EMAIL, row["email"])
        return Address(PHONE, self.cipher.decrypt(row["phone_enc"], context=PHONE_FIELD.context))

    async def resend_registration_code(self, login: str, password: str) -> Challenge:
        """A new code for a pending account, for whoever knows the password it was registered with.

        Anyone may register a pending address again with a password of their own; without
        the password check they could then have the owner sent a code that confirms it.
        Wrong passwords count like failed sign-ins.
        """
        row = await self._check_credentials(login, password)
        if row["status"] == "blocked":
            raise AccountBlocked()
        if row["status"] != "pending":
            raise ClientException(_("this account is already confirmed"), status_code=409)
        return await self._send_registration_code(row["id"], self._primary_address(row), row["password_hash"])

    # -- signing in ------------------------------------------------------------------------

    async def authenticate(self, login: str, password: str) -> UserRecord:
        """The account for ``login`` and ``password``, or a 401/403/429 saying why not.

        Failures count per account and per IP address; past the limit answers are 429
        until the window passes, and ``lockout_after`` consecutive failures lock the
        account for ``lockout_minutes`` (its owner is told). Every attempt is audited.
        """
        row = await self._check_credentials(login, password)
        user_id = row["id"]
        if row["status"] == "blocked":
            await self.audit.record(
                action="auth.login.refused", target=f"user:{user_id}", details={"reason": "blocked"}
            )
            raise AccountBlocked()
        if row["status"] == "pending":
            await self.audit.record(
                action="auth.login.refused", target=f"user:{user_id}", details={"reason": "not confirmed"}
            )
            challenge = None
            try:
                challenge = await self._send_registration_code(
                    user_id, self._primary_address(row), row["password_hash"]
                )
            except TooManyRequests:
                pass
            raise NotConfirmed(challenge)
        new_hash = (
            await self.hasher.hash(password) if self.hasher.needs_rehash(row["password_hash"]) else None
        )
        await self.db.execute(
            """UPDATE users_users SET failed_logins = 0, locked_until = NULL, last_login_at = clock_timestamp(),
                      password_hash = coalesce($2, password_hash) WHERE id = $1""",
            user_id,
            new_hash,
        )
        await self.limiter.reset(self.login_per_account, self._login_key(login))
        await self.audit.record(action="auth.login", actor=user_id, target=f"user:{user_id}")
        return await self.get(user_id)

    async def _check_credentials(self, login: str, password: str) -> Any:
        """The account row for ``login`` if ``password`` is its password, whatever its status.

        Refuses with 429 while the login, the IP address or the account is throttled or
        locked, and with 401 for a wrong password or an unknown login (counted and audited).
        """
        subject = self._login_key(login)
        ip = request_context.current().ip or "-"
        for limit, key in ((self.login_per_account, subject), (self.login_per_ip, ip)):
            decision = await self.limiter.peek(limit, key)
            if not decision.allowed:
                await self._audit_refusal(f"{limit.name}:{key}", details={"login": subject, "limit": limit.name})
                raise TooManyRequests(_("too many failed sign-ins"), decision.retry_after_s)
        try:
            row = await self._row_by_address(parse_login(login))
        except ContactError:
            row = None
        if row is not None and row["status"] == "deleted":
            row = None
        now = dt.datetime.now(dt.UTC)
        if row is not None and row["locked_until"] is not None and row["locked_until"] > now:
            await self._audit_refusal(
                f"lockout:{subject}", target=f"user:{row['id']}", details={"login": subject, "limit": "lockout"}
            )
            seconds = int((row["locked_until"] - now).total_seconds())
            raise TooManyRequests(_locked(), seconds)
        if row is None:
            locked = await self.limiter.peek(self.unknown_login_lockout, subject)
            if not locked.allowed:
                await self._audit_refusal(f"lockout:{subject}", details={"login": subject, "limit": "lockout"})
                raise TooManyRequests(_locked(), locked.retry_after_s)
        if not await self.hasher.verify(row["password_hash"] if row is not None else None, password):
            await self._failed_login(row, subject, ip)
            raise LoginFailed()
        return row

    async def _audit_refusal(self, episode: str, **entry: Any) -> None:
        """Audit a refused sign-in, at most once a minute per throttled login or address."""
        if (await self.limiter.hit(self.refusals_audited, episode)).allowed:
            await self.audit.record(action="auth.login.throttled", **entry)

    async def _failed_login(self, row: Any, subject: str, ip: str) -> None:
        await self.limiter.hit(self.login_per_account, subject)
        await self.limiter.hit(self.login_per_ip, ip)
        if row is None:
            await self.limiter.hit(self.unknown_login_lockout, subject)
            await self.audit.record(
                action="auth.login.failed", details={"login": subject, "reason": "unknown login"}
            )
            return
        user_id = row["id"]
        failures = await self.db.fetchval(
            """UPDATE users_users SET failed_logins = failed_logins + 1,
                      locked_until = CASE WHEN failed_logins + 1 >= $2
                                          THEN clock_timestamp() + make_interval(mins => $3) END
               WHERE id = $1 RETURNING failed_logins""",
            user_id,
            self.settings.lockout_after,
            self.settings.lockout_minutes,
        )
        await self.audit.record(
            action="auth.login.failed",
            target=f"user:{user_id}",
            details={"login": subject, "reason": "wrong password", "failures": failures},
        )
        if failures >= self.settings.lockout_after:
            # Failures in a row past the threshold lock again each time a lock runs out.
            await self.audit.record(
                action="auth.login.locked",
                target=f"user:{user_id}",
                details={"minutes": self.settings.lockout_minutes, "failures": failures},
            )
        if failures == self.settings.lockout_after:  # the owner hears once, not every half hour
            await self.notifications.notify_everywhere(
                user_id, "users.locked", {"minutes": self.settings.lockout_minutes}
            )

    # -- passwords ------------------------------------------------------------------------------

    async def start_password_reset(self, login: str) -> Challenge:
        """Send a reset code to ``login``; an unknown login gets a decoy that looks the same."""
        address = self._address(login)
        row = await self._row_by_address(address)
        await self.audit.record(
            action="users.password_reset.requested",
            target=f"user:{row['id']}" if row is not None else "",
            details={"login": self._login_key(login)},
        )
        if row is None or row["status"] != "active":
            return await self.confirmations.decoy(purpose=PASSWORD_RESET, to=address)
        return await self.confirmations.issue(
            purpose=PASSWORD_RESET, payload={"user_id": str(row["id"])}, user_id=row["id"], to=address
        )

    async def finish_password_reset(self, challenge_id: UUID, code: str, new_password: str) -> None:
        user_id = await self.confirmations.owner(challenge_id)
        user = await self.get(user_id) if user_id is not None else None
        self._check_password(new_password, user.email if user else None, user.phone if user else None)
        payload = {"user_id": str(user_id)} if user_id is not None else {}
        await self.confirmations.verify(
            challenge_id, code, purpose=PASSWORD_RESET, payload=payload, user_id=user_id
        )
        assert user_id is not None  # a decoy's code is never right
        await self._set_password(user_id, new_password, action="users.password_reset")

    async def change_password(self, identity: Identity, current: str, new: str) -> None:
        """Change one's own password; other sessions and all API tokens end."""
        user = await self._reauthenticate(identity, current)
        self._check_password(new, user.email, user.phone)
        await self._set_password(
            user.id, new, action="users.password_changed", keep_session=identity.session_id
        )

    async def _set_password(
        self, user_id: UUID, password: str, *, action: str, keep_session: str | None = None
    ) -> None:
        password_hash = await self.hasher.hash(password)
        async with self.db.transaction():
            await self.db.execute(
                """UPDATE users_users SET password_hash = $2, password_changed_at = clock_timestamp(),
                          failed_logins = 0, locked_until = NULL WHERE id = $1""",
                user_id,
                password_hash,
            )
            ended = await self.sessions.revoke_all(user_id, keep=keep_session)
            await self.sessions.revoke_all_tokens(user_id)
            await self.audit.record(
                action=action, target=f"user:{user_id}", details={"sessions_ended": ended}
            )
        await self.notifications.notify_everywhere(user_id, "users.password_changed", {})

    async def create_api_token(
        self, identity: Identity, password: str, name: str, days: int | None = None
    ) -> tuple[str, UUID]:
        """A new API token for oneself (it can do all one can): the password is asked again."""
        user = await self._reauthenticate(identity, password)
        token, token_id = await self.sessions.create_token(user.id, name, days=days)
        await self.audit.record(
            action="users.token_created", target=f"user:{user.id}", details={"token": str(token_id)}
        )
        return token, token_id

    async def end_other_sessions(self, identity: Identity) -> int:
        """Sign out everywhere but here."""
        ended = await self.sessions.revoke_all(identity.user_id, keep=identity.session_id)  # type: ignore[arg-type]
        await self.audit.record(
            action="users.sessions_ended",
            target=f"user:{identity.user_id}",
            details={"sessions_ended": ended},
        )
        return ended

    async def _reauthenticate(self, identity: Identity, password: str) -> UserRecord:
        """Ask for the password again before a sensitive change; failures count like sign-in failures."""
        if identity.user_id is None:
            raise NotAuthorizedException(_("sign in to continue"))
        row = await self.db.fetchrow("SELECT * FROM users_users WHERE id = $1", identity.user_id)
        if row is None:
            raise NotFoundException(_("your account no longer exists"))
        subject = f"user:{identity.user_id}"
        (await self.limiter.peek(self.login_per_account, subject)).raise_if_denied(
            _("too many wrong passwords")
        )
        if not await self.hasher.verify(row["password_hash"], password):
            await self.limiter.hit(self.login_per_account, subject)
            await self.audit.record(action="auth.reauth.failed", target=subject)
            raise invalid("current_password", _("wrong password"))
        return self._record(row)

    # -- contacts -------------------------------------------------------------------------------------

    async def start_contact_change(
        self, identity: Identity, password: str, kind: str, value: str
    ) -> Challenge:
        """Send a code to the new address; the change happens when it comes back."""
        await self._reauthenticate(identity, password)
        try:
            address = Address(kind, normalize(kind, value))
        except ContactError as exc:
            raise invalid("value", str(exc)) from None
        holder = await self._row_by_address(address)
        if holder is not None and holder["id"] != identity.user_id:
            raise ClientException(_("this address belongs to another account"), status_code=409)
        return await self.confirmations.issue(
            purpose=CONTACT_CHANGE,
            payload={"user_id": str(identity.user_id), "address": str(address)},
            user_id=identity.user_id,
            to=address,
        )

    async def finish_contact_change(
        self, identity: Identity, challenge_id: UUID, code: str, kind: str, value: str
    ) -> UserRecord:
        try:
            address = Address(kind, normalize(kind, value))
        except ContactError as exc:
            raise invalid("value", str(exc)) from None
        user_id = identity.user_id
        await self.confirmations.verify(
            challenge_id,
            code,
            purpose=CONTACT_CHANGE,
            user_id=user_id,
            payload={"user_id": str(user_id), "address": str(address)},
        )
        # The old addresses hear about it: if this was not the owner, they can react.
        await self.notifications.notify_everywhere(
            user_id, "users.contact_changed", {"kind": kind}, in_app=False
        )
        try:
            async with self.db.transaction():
                if kind == EMAIL:
                    await self.db.execute(
                        "UPDATE users_users SET email = $2 WHERE id = $1", user_id, address.value
                    )
                else:
                    await self.db.execute(
                        "UPDATE users_users SET phone_enc = $2, phone_bidx = $3 WHERE id = $1",
                        user_id,
                        self.cipher.encrypt(address.value, context=PHONE_FIELD.context),
                        self.phone_index(address.value),
                    )
                await self.audit.record(
                    action="users.contact_changed", target=f"user:{user_id}", details={"kind": kind}
                )
        except asyncpg.UniqueViolationError:
            raise ClientException(_("this address belongs to another account"), status_code=409) from None
        return await self.get(user_id)

    # -- profile and personal data ---------------------------------------------------------------------

    async def update_profile(
        self, user_id: UUID, *, display_name: str | None = None, locale: str | None = None
    ) -> UserRecord:
        sets, args = [], [user_id]
        if display_name is not None:
            args.append(clean_name(display_name))
            sets.append(f"display_name = ${len(args)}")
        if locale is not None:
            if locale not in ("ru", "en", ""):
                raise invalid("locale", _("choose ru or en"))
            args.append(locale or None)
            sets.append(f"locale = ${len(args)}")
        if sets:
            await self.db.execute(f"UPDATE users_users SET {', '.join(sets)} WHERE id = $1", *args)
            await self.audit.record(
                action="users.profile_changed",
                target=f"user:{user_id}",
                details={"fields": [s.split(" ")[0] for s in sets]},
            )
        return await self.get(user_id)

    async def set_personal_data(
        self, user_id: UUID, *, itn: str | None = None, passport: str | None = None
    ) -> None:
        """Store the taxpayer number (ITN) and passport, encrypted; ``""`` clears one, ``None`` leaves it."""
        sets, args, changed = [], [user_id], []
        if itn is not None:
            digits = re.sub(r"[^0-9]", "", itn)
            if digits:
                try:
                    ru_inn.validate(digits)
                except StdnumError:
                    raise invalid("itn", _("not a valid taxpayer number (INN): check the digits")) from None
                if len(digits) != 12:
                    raise invalid("itn", _("a person's taxpayer number (INN) has 12 digits"))
            args += [
                self.cipher.maybe_encrypt(digits, context=ITN_FIELD.context),
                self.cipher.blind_index(digits, context=ITN_FIELD.context) if digits else None,
            ]
            sets.append(f"itn_enc = ${len(args) - 1}, itn_bidx = ${len(args)}")
            changed.append("itn")
        if passport is not None:
            cleaned = " ".join(passport.upper().split())
            if cleaned and not _PASSPORT.match(cleaned):
                raise invalid("passport", _("use the series and number as printed, e.g. 4510 123456"))
            args.append(self.cipher.maybe_encrypt(cleaned, context=PASSPORT_FIELD.context))
            sets.append(f"passport_enc = ${len(args)}")
            changed.append("passport")
        if sets:
            await self.db.execute(f"UPDATE users_users SET {', '.join(sets)} WHERE id = $1", *args)
            await self.audit.record(
                action="users.personal_data_changed", target=f"user:{user_id}", details={"fields": changed}
            )

    async def personal_data(self, user_id: UUID, *, viewer: Identity | None = None) -> PersonalData:
        """Decrypt a user's ITN and passport; a viewer other than the user is audited."""
        row = await self.db.fetchrow("SELECT itn_enc, passport_enc FROM users_users WHERE id = $1", user_id)
        if row is None:
            raise NotFoundException(_("no user %(id)s", id=user_id))
        if viewer is not None and viewer.user_id != user_id:
            await self.audit.record(
                action="users.personal_data_viewed", actor=viewer, target=f"user:{user_id}"
            )
        return PersonalData(
            self.cipher.maybe_decrypt(row["itn_enc"], context=ITN_FIELD.context),
            self.cipher.maybe_decrypt(row["passport_enc"], context=PASSPORT_FIELD.context),
        )

    async def find_by_itn(self, itn: str) -> list[UserRecord]:
        digits = re.sub(r"[^0-9]", "", itn)
        rows = await self.db.fetch(
            "SELECT * FROM users_users WHERE itn_bidx = $1",
            self.cipher.blind_index(digits, context=ITN_FIELD.context),
        )
        return [self._record(r) for r in rows]

    # -- administration ------------------------------------------------------------------------------------

    async def search(
        self,
        *,
        q: str = "",
        status: str | None = None,
        role: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[UserRecord], int]:
        """Users matching a text (e-mail part, name, exact phone/ITN/id) and filters; newest first."""
        clauses, args = ["true"], []

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        q = plain_text(q, 200)
        role = plain_text(role, 64) or None
        if q:
            options = [
                f"display_name ILIKE {arg('%' + _like(q) + '%')}",
                f"email LIKE {arg('%' + _like(q.lower()) + '%')}",
            ]
            try:
                options.append(f"id = {arg(UUID(q))}")
            except ValueError:
                pass
            digits = re.sub(r"[^0-9]", "", q)
            if len(digits) >= 10:
                try:
                    options.append(f"phone_bidx = {arg(self.phone_index(q))}")
                except ContactError:
                    pass
                options.append(
                    f"itn_bidx = {arg(self.cipher.blind_index(digits, context=ITN_FIELD.context))}"
                )
            clauses.append("(" + " OR ".join(options) + ")")
        if status:
            if status not in STATUSES:
                raise invalid("status", _("choose one of %(values)s", values=", ".join(STATUSES)))
            clauses.append(f"status = {arg(status)}")
        if role:
            clauses.append(
                f"EXISTS (SELECT 1 FROM access_user_roles r WHERE r.user_id = u.id AND r.role_code = {arg(role)})"
            )
        if since:
            clauses.append(f"created_at >= {arg(since)}::date")
        if until:
            clauses.append(f"created_at < {arg(until)}::date + 1")
        where = " AND ".join(clauses)
        total = await self.db.fetchval(f"SELECT count(*) FROM users_users u WHERE {where}", *args)
        rows = await self.db.fetch(
            f"SELECT * FROM users_users u WHERE {where} ORDER BY created_at DESC, id "
            f"OFFSET {arg(min(max(0, offset), 10**9))} LIMIT {arg(max(1, min(limit, 200)))}",
            *args,
        )
        return [self._record(r) for r in rows], total

    async def admin_update(
        self, user_id: UUID, *, by: Identity, display_name: str | None = None, locale: str | None = None
    ) -> UserRecord:
        await self.roles.check_can_manage_user(by, user_id)
        return await self.update_profile(user_id, display_name=display_name, locale=locale)

    async def block(self, user_id: UUID, reason: str, *, by: Identity) -> UserRecord:
        if by.user_id == user_id:
            raise ClientException(_("you cannot block yourself"), status_code=409)
        await self.roles.check_can_manage_user(by, user_id)
        reason = clean_name(reason)[:500]
        if not reason:
            raise invalid("reason", _("say why the account is blocked"))
        async with self.db.transaction():
            done = await self.db.fetchval(
                """UPDATE users_users SET status = 'blocked', blocked_at = clock_timestamp(), blocked_reason = $2
                   WHERE id = $1 AND status IN ('active', 'pending') RETURNING id""",
                user_id,
                reason,
            )
            if done is None:
                raise ClientException(
                    _(
                        "only an active account can be blocked (it is %(status)s)",
                        status=_((await self.get(user_id)).status),
                    ),
                    status_code=409,
                )
            await self.sessions.revoke_all(user_id)
            await self.sessions.revoke_all_tokens(user_id)
            await self.audit.record(
                action="users.blocked", actor=by, target=f"user:{user_id}", details={"reason": reason}
            )
        await self.notifications.notify_everywhere(user_id, "users.blocked", {"reason": reason})
        return await self.get(user_id)

    async def unblock(self, user_id: UUID, *, by: Identity) -> UserRecord:
        await self.roles.check_can_manage_user(by, user_id)
        async with self.db.transaction():
            done = await self.db.fetchval(
                """UPDATE users_users SET status = CASE WHEN confirmed_at IS NULL THEN 'pending' ELSE 'active' END,
                          blocked_at = NULL, blocked_reason = NULL, failed_logins = 0, locked_until = NULL
                   WHERE id = $1 AND status = 'blocked' RETURNING id""",
                user_id,
            )
            if done is None:
                raise ClientException(_("this account is not blocked"), status_code=409)
            await self.audit.record(action="users.unblocked", actor=by, target=f"user:{user_id}")
        await self.notifications.notify_everywhere(user_id, "users.unblocked", {})
        return await self.get(user_id)

    async def delete(self, user_id: UUID, *, by: Identity | None) -> None:
        """Anonymise an account: personal data and access go; the id, and so the ledger, stay."""
        if by is not None:
            if by.user_id == user_id:
                raise ClientException(_("you cannot delete your own account here"), status_code=409)
            await self.roles.check_can_manage_user(by, user_id)
        async with self.db.transaction():
            done = await self.db.fetchval(
                """UPDATE users_users SET status = 'deleted', deleted_at = clock_timestamp(), email = NULL,
                          phone_enc = NULL, phone_bidx = NULL, itn_enc = NULL, itn_bidx = NULL, passport_enc = NULL,
                          display_name = '', locale = NULL, password_hash = NULL, blocked_reason = NULL
                   WHERE id = $1 AND status <> 'deleted' RETURNING id""",
                user_id,
            )
            if done is None:
                raise ClientException(_("this account is already deleted"), status_code=409)
            await self.db.execute("DELETE FROM access_user_roles WHERE user_id = $1", user_id)
            await self.sessions.revoke_all(user_id)
            await self.sessions.revoke_all_tokens(user_id)
            await self.notifications.forget_user(user_id)
            await self.audit.record(action="users.deleted", actor=by, target=f"user:{user_id}")

    async def stats(self, days: int = 30) -> list[DayStats]:
        """Registrations (confirmed) and active users per day, the last ``days`` days, oldest first."""
        rows = await self.db.fetch(
            """SELECT d::date AS day,
                      (SELECT count(*) FROM users_users WHERE confirmed_at >= d AND confirmed_at < d + interval '1 day')
                        AS registrations,
                      (SELECT count(*) FROM users_activity a WHERE a.day = d::date) AS active
               FROM generate_series(current_date - ($1::int - 1), current_date, interval '1 day') AS d
               ORDER BY d""",
            max(1, min(days, 366)),
        )
        return [DayStats(r["day"], r["registrations"], r["active"]) for r in rows]

    async def purge_abandoned(self, older_than: dt.timedelta = dt.timedelta(days=7)) -> int:
        """Forget registrations never confirmed (they hold nothing but an address)."""
        status = await self.db.execute(
            "DELETE FROM users_users WHERE status = 'pending' AND created_at < clock_timestamp() - $1::interval",
            older_than,
        )
        return int(status.split()[-1])


def _registration_payload(user_id: UUID, address: Address, password_hash: str | None) -> dict[str, str]:
    """What a registration code confirms: this account at this address, with this password.

    Binding the password means that when someone registers the pending address again with
    another password, codes sent before no longer confirm anything.
    """
    fingerprint = hashlib.sha256((password_hash or "").encode()).hexdigest()
    return {"user_id": str(user_id), "address": str(address), "password": fingerprint}


def _locale(locale: str | None) -> str | None:
    return locale if locale in ("ru", "en") else None


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
