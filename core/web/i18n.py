"""Russian and English: message catalogs, the request's locale, and locale-aware formatting.

Messages are written in English in code and templates (``_("Balance")``,
``{% trans %}``). Each plugin may ship ``locale/<lang>/LC_MESSAGES/messages.po`` next
to its ``plugin.py``; the catalogs of the enabled plugins are merged at start-up.
The locale comes from the signed-in user's profile, then the ``lang`` cookie, then
``Accept-Language``, then the deployment's default.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from core.money import format_money

LOCALES = ("ru", "en")
_current_locale: contextvars.ContextVar[str | None] = contextvars.ContextVar("kopilka_locale", default=None)
#: The language of work done outside a request (tasks, commands): the deployment's default.
_default_locale = "ru"


class Catalogs:
    """Merged translations of every enabled plugin, per locale."""

    def __init__(self, locale_dirs: Iterable[Path]) -> None:
        self.translations: dict[str, NullTranslations] = {"en": NullTranslations()}
        for locale in LOCALES:
            if locale == "en":
                continue
            merged: Translations | None = None
            for base in locale_dirs:
                po = base / locale / "LC_MESSAGES" / "messages.po"
                if not po.exists():
                    continue
                with po.open("rb") as fh:
                    catalog = read_po(fh, locale=locale)
                buffer = io.BytesIO()
                write_mo(buffer, catalog)
                buffer.seek(0)
                loaded = Translations(fp=buffer)
                if merged is None:
                    merged = loaded
                else:
                    merged.merge(loaded)
            self.translations[locale] = merged or NullTranslations()

    def get(self, locale: str) -> NullTranslations:
        return self.translations.get(locale) or self.translations["en"]


_catalogs: Catalogs = Catalogs([])


def install_catalogs(catalogs: Catalogs) -> None:
    global _catalogs
    _catalogs = catalogs


def platform_locale_dirs(platform: Any) -> list[Path]:
    """The ``locale`` folders of a platform's plugins (next to ``plugin.py``, or one level up)."""
    dirs: list[Path] = []
    for plugin in platform.plugins:
        file = getattr(plugin.module, "__file__", None)
        if file:
            here = Path(file).parent
            dirs += [here / "locale", here.parent / "locale"]
    return [d for d in dict.fromkeys(dirs) if d.exists()]


def install_platform_catalogs(platform: Any) -> None:
    """Load the catalogs of the platform's plugins; workers need them as much as the web site.

    Work outside a request (tasks, commands) then speaks the deployment's default language.
    """
    global _default_locale
    install_catalogs(Catalogs(platform_locale_dirs(platform)))
    _default_locale = platform.core.web.default_locale


def set_locale(locale: str) -> contextvars.Token[str | None]:
    return _current_locale.set(locale if locale in LOCALES else LOCALES[0])


def current_locale() -> str:
    return _current_locale.get() or _default_locale


def gettext(message: str, **params: object) -> str:
    text = _catalogs.get(current_locale()).ugettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: object) -> str:
    text = _catalogs.get(current_locale()).ungettext(singular, plural, n)
    params.setdefault("num", n)
    return text % params


_ = gettext


def negotiate(accept_language: str | None, default: str) -> str:
    """The best of our locales for an ``Accept-Language`` header."""
    if not accept_language:
        return default
    preferred = []
    for part in accept_language.split(","):
        tag, _sep, quality = part.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0  # q-values are weights, not money
        except ValueError:
            continue
        preferred.append((weight, tag.strip().replace("-", "_")))
    preferred.sort(key=lambda item: -item[0])
    found = Locale.negotiate([tag for _w, tag in preferred], list(LOCALES))
    return str(found.language) if found else default


# -- formatting in the current locale ---------------------------------------------


def money(minor: int, currency: str) -> str:
    return format_money(minor, currency, current_locale())


def date(value: dt.date | None, format: str = "medium") -> str:
    return format_date(value, format=format, locale=current_locale()) if value else ""


def datetime(value: dt.datetime | None, format: str = "medium", tz: str | None = None) -> str:
    if not value:
        return ""
    return format_datetime(value, format=format, tzinfo=tz, locale=current_locale())


def number(value: object) -> str:
    return format_decimal(value, locale=current_locale())
