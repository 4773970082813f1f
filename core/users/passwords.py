"""Passwords: argon2id hashes, and a policy that asks for length rather than symbols.

Hashing runs in a worker thread (it takes ~0.1 s and 64 MiB by design) so the event
loop keeps serving. An unknown login is checked against a dummy hash, so the answer
takes as long whether or not the account exists.
"""

from __future__ import annotations

import asyncio
import unicodedata

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core.access.inputs import is_text
from core.users.settings import UsersSettings
from core.web.i18n import gettext as _

#: The most common passwords long enough to pass the length rule (from public breach lists).
COMMON = frozenset(
    """
    123456789012 1234567890123 12345678901234 password1234 passwordpassword qwertyuiop12 qwertyuiopasdf
    1q2w3e4r5t6y 1q2w3e4r5t6y7u 1qaz2wsx3edc 1qaz2wsx3edc4rfv qwerty123456 123456qwerty 111111111111
    000000000000 123123123123 iloveyou1234 administrator adminadmin123 letmein12345 welcome12345
    monkeymonkey password12345 password123456 qwertyqwerty asdfghjkl123 zxcvbnm12345 abcdefghijkl
    abc123abc123 passw0rd1234 p@ssw0rd1234 changeme1234 trustno11234 sunshine1234 princess1234
    football1234 baseball1234 dragondragon masterkey123 superman1234 qazwsxedcrfv 1234qwerasdf
    йцукенгшщзхъ пароль123456 парольпароль qwerty1234567 0987654321098 987654321098 kopilka12345
    """.split()
)


class PasswordRejected(ValueError):
    """A password the policy does not accept (the message says why)."""


def normalize_password(password: str) -> str:
    # NFKC so the same password typed on different keyboards hashes the same (NIST 800-63B 5.1.1.2).
    return unicodedata.normalize("NFKC", password)


def check_policy(password: str, settings: UsersSettings, *, context: tuple[str, ...] = ()) -> None:
    if not is_text(password):
        raise PasswordRejected(_("the password contains characters that are not text"))
    password = normalize_password(password)
    if len(password) < settings.password_min_length:
        raise PasswordRejected(
            _("the password must be at least %(n)s characters long", n=settings.password_min_length)
        )
    if len(password) > settings.password_max_length:
        raise PasswordRejected(
            _("the password must be at most %(n)s characters long", n=settings.password_max_length)
        )
    lowered = password.lower()
    if lowered in COMMON or len(set(lowered)) < 4:
        raise PasswordRejected(_("this password is too common or too simple; choose another"))
    for word in context:
        word = word.lower().split("@")[0].lstrip("+")
        if len(word) >= 4 and word in lowered:
            raise PasswordRejected(_("the password must not contain your e-mail address or phone number"))


class Hasher:
    def __init__(self, settings: UsersSettings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        self._dummy = self._hasher.hash("kopilka dummy password for timing")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, normalize_password(password))

    async def verify(self, stored: str | None, password: str) -> bool:
        """True when ``password`` matches; checks a dummy hash when there is nothing stored."""
        target = stored or self._dummy

        def check() -> bool:
            try:
                return self._hasher.verify(target, normalize_password(password))
            except (VerifyMismatchError, VerificationError, InvalidHashError, UnicodeEncodeError):
                return False

        matched = await asyncio.to_thread(check)
        return matched and stored is not None

    def needs_rehash(self, stored: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True
