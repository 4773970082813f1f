"""The invoice of a bank-transfer top-up, as a PDF (WeasyPrint renders our HTML template)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from core.money import format_money

TEMPLATES = Path(__file__).parent / "templates"
_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))


def invoice_context(*, payment: Any, settings: Any, reference: str, platform_name: str) -> dict[str, Any]:
    return {
        "platform_name": platform_name,
        "payment": payment,
        "bank": settings,
        "reference": reference,
        "amount_text": format_money(payment.amount.minor, payment.amount.currency, "ru"),
        "issued": payment.created_at.date(),
        "due": payment.created_at.date() + dt.timedelta(days=settings.invoice_days),
        "purpose": f"Пополнение баланса по счёту {reference}. Без НДС",
    }


def _render(context: dict[str, Any]) -> bytes:
    from weasyprint import HTML

    html = _env.get_template("bank_transfer/invoice_pdf.html").render(**context)
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()


async def invoice_pdf(context: dict[str, Any]) -> bytes:
    """The PDF bytes (rendered in a thread: WeasyPrint is CPU-bound)."""
    return await asyncio.to_thread(_render, context)
