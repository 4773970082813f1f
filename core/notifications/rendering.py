"""Message texts: jinja2 templates that plugins ship next to their pages.

A notification of kind ``"<plugin>.<name>"`` is rendered from
``<plugin>/notifications/<name>.txt`` in the plugins' template folders, with two blocks::

    {% block subject %}{{ _("Your code") }}{% endblock %}
    {% block text %}{{ _("Code: %(code)s", code=code) }}{% endblock %}

The template sees the notification's ``params``, ``recipient`` and ``platform_name``,
and ``_()`` translates into the recipient's language.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, TemplateNotFound, select_autoescape

from core.web import i18n

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str


def template_name(kind: str) -> str:
    plugin, _dot, name = kind.partition(".")
    if not plugin or not name:
        raise ValueError(f"notification kind {kind!r} must be '<plugin>.<name>'")
    return f"{plugin}/notifications/{name}.txt"


class MessageRenderer:
    def __init__(self, template_dirs: Iterable[Path], platform_name: str) -> None:
        self.platform_name = platform_name
        self.env = Environment(
            loader=ChoiceLoader([FileSystemLoader(str(d)) for d in template_dirs]),
            autoescape=select_autoescape(["html", "xml"]),
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
        self.env.globals.update(
            _=i18n.gettext, money=i18n.money, format_date=i18n.date, format_datetime=i18n.datetime
        )

    def has_template(self, kind: str) -> bool:
        try:
            self.env.get_template(template_name(kind))
        except TemplateNotFound:
            return False
        return True

    def render(
        self, kind: str, params: Mapping[str, Any], locale: str | None, recipient: Any = None
    ) -> Rendered:
        token = i18n.set_locale(locale or i18n.current_locale())
        try:
            try:
                template = self.env.get_template(template_name(kind))
            except TemplateNotFound:
                log.warning("no template for notification kind %s", kind)
                return Rendered(kind, "")
            context = template.new_context(
                {**params, "params": params, "recipient": recipient, "platform_name": self.platform_name}
            )
            parts = {}
            for block in ("subject", "text"):
                render_block = template.blocks.get(block)
                parts[block] = "".join(render_block(context)).strip() if render_block else ""
            return Rendered(" ".join(parts["subject"].split()) or kind, parts["text"])
        finally:
            i18n._current_locale.reset(token)
