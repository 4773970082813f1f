"""Loan products as administrators configure them, and the quote of a loan under one.

A product is checked against the cap rule in force when it is saved (daily rate, penalty rate,
and the PSK of its most expensive loan) and every quote is checked again on the contract date,
so a product that was legal when configured cannot issue an illegal loan after the law changes.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from core.money import format_money
from core.projects.errors import Conflict, Invalid, NotFound
from plugins.lending import schedule as maths

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.lending.settings import LendingSettings

AUDIENCES = ("any", "first", "repeat")
KINDS = ("single", "annuity", "equal_principal")
PRODUCT_COLUMNS = ("code", "name", "audience", "schedule_kind", "min_amount_minor", "max_amount_minor",
                   "min_term_days", "max_term_days", "period_days", "daily_rate", "penalty_annual_rate",
                   "extension_days", "active")


@dataclass(frozen=True)
class Product:
    id: uuid.UUID
    code: str
    name: str
    audience: str
    schedule_kind: str
    currency: str
    min_amount_minor: int
    max_amount_minor: int
    min_term_days: int
    max_term_days: int
    period_days: int
    daily_rate: Decimal
    penalty_annual_rate: Decimal
    extension_days: int
    active: bool

    @classmethod
    def of(cls, row: Any) -> Product:
        return cls(**{k: row[k] for k in cls.__dataclass_fields__})

    def as_json(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data.update(id=str(self.id), daily_rate=str(self.daily_rate), penalty_annual_rate=str(self.penalty_annual_rate))
        return data


@dataclass(frozen=True)
class Quote:
    product: Product
    amount_minor: int
    term_days: int
    start: dt.date
    schedule: maths.Schedule
    psk: Decimal
    cost_cap_minor: int
    cap_rule: maths.CapRule

    def as_json(self) -> dict[str, Any]:
        currency = self.product.currency
        return {
            "product": self.product.code, "currency": currency, "amount_minor": self.amount_minor,
            "term_days": self.term_days, "interest_minor": self.schedule.interest, "total_minor": self.schedule.total,
            "total": format_money(self.schedule.total, currency), "psk_percent": str(self.psk),
            "daily_rate": str(self.product.daily_rate), "cost_cap_minor": self.cost_cap_minor,
            "cap_rule": self.cap_rule.name,
            "schedule": [{"number": i.number, "due_on": i.due_on.isoformat() if i.due_on else None,
                          "principal_minor": i.principal, "interest_minor": i.interest, "total_minor": i.total,
                          "balance_minor": i.balance} for i in self.schedule.instalments],
        }


def build_schedule(kind: str, principal: int, daily_rate: Decimal, term_days: int, period_days: int,
                   start: dt.date, cap: int) -> maths.Schedule:
    """The planned schedule: a single payment, or instalments every ``period_days`` within the term."""
    if kind == "single":
        return maths.single_payment(principal, daily_rate, term_days, start=start, cap=cap)
    periods = max(term_days // period_days, 1)
    build = maths.annuity if kind == "annuity" else maths.equal_principal
    return build(principal, daily_rate * period_days, periods, start=start, period_days=period_days)


CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def text_field(value: Any, field: str, limit: int) -> str | None:
    """A short text as typed (None when empty); 400 for non-text, control characters or too long."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Invalid("a text is expected", field=field)
    text = str(value).strip()
    if any(unicodedata.category(ch)[0] == "C" for ch in text):
        raise Invalid("control characters are not allowed", field=field)
    if len(text) > limit:
        raise Invalid(f"at most {limit} characters", field=field)
    return text or None


def _decimal(value: Any, field: str) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise Invalid(f"{value!r} is not a number", field=field) from None
    if not number.is_finite() or number < 0:
        raise Invalid("a non-negative number", field=field)
    return number


def _int(value: Any, field: str, low: int = 0, high: int = 10**15) -> int:
    if isinstance(value, bool):
        raise Invalid("a whole number", field=field)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise Invalid(f"{value!r} is not a whole number", field=field) from None
    if not low <= number <= high:
        raise Invalid(f"between {low} and {high}", field=field)
    return number


class Products:
    def __init__(self, platform: Platform, settings: LendingSettings) -> None:
        self.platform = platform
        self.settings = settings

    @property
    def db(self):
        return self.platform.db

    async def business_date(self) -> dt.date:
        from core.jobs.runtime import Jobs

        return await self.platform.service(Jobs).calendar.today()

    def cap_rule(self, contract_date: dt.date) -> maths.CapRule:
        rule = maths.rule_for(self.settings.caps(), contract_date)
        if rule is None:
            raise Conflict(f"no cap rule is in force on {contract_date}; configure [plugins.lending] cap_rules")
        return rule

    async def all(self, *, active_only: bool = False) -> list[Product]:
        rows = await self.db.fetch(
            "SELECT * FROM lending_products WHERE active OR NOT $1 ORDER BY min_amount_minor, code", active_only)
        return [Product.of(r) for r in rows]

    async def get(self, key: str | uuid.UUID) -> Product:
        try:
            key = uuid.UUID(str(key))
            row = await self.db.fetchrow("SELECT * FROM lending_products WHERE id = $1", key)
        except ValueError:
            code = str(key)
            row = None
            if CODE.match(code):
                row = await self.db.fetchrow("SELECT * FROM lending_products WHERE code = $1", code)
        if row is None:
            raise NotFound(f"no loan product {key}")
        return Product.of(row)

    def clean(self, fields: dict[str, Any], current: Product | None = None) -> dict[str, Any]:
        """Validated product fields (422 naming the field), merged over ``current`` for an update."""
        from core.projects.forms import amount_minor

        values: dict[str, Any] = {k: getattr(current, k) for k in PRODUCT_COLUMNS} if current else {}
        unknown = set(fields) - set(PRODUCT_COLUMNS) - {"min_amount", "max_amount", "currency", "id"}
        if unknown:
            raise Invalid("unknown field", field=sorted(unknown)[0])
        for name in ("min_amount", "max_amount"):
            if name in fields:
                values[f"{name}_minor"] = amount_minor(fields[name], self.settings.currency, name)
        for name in ("min_amount_minor", "max_amount_minor"):
            if name in fields:
                values[name] = _int(fields[name], name, 1)
        for name, low, high in (("min_term_days", 1, 366), ("max_term_days", 1, 366), ("period_days", 1, 366),
                                ("extension_days", 0, 366)):
            if name in fields:
                values[name] = _int(fields[name], name, low, high)
        for name in ("daily_rate", "penalty_annual_rate"):
            if name in fields:
                values[name] = _decimal(fields[name], name)
        if "code" in fields:
            code = (text_field(fields["code"], "code", 40) or "").lower()
            if not CODE.match(code):
                raise Invalid("latin letters, digits, - and _ (at most 40), starting with a letter or digit",
                              field="code")
            values["code"] = code
        if "name" in fields:
            name = text_field(fields["name"], "name", 200)
            if not name:
                raise Invalid("give the product a name", field="name")
            values["name"] = name
        for name, allowed in (("audience", AUDIENCES), ("schedule_kind", KINDS)):
            if name in fields:
                if not isinstance(fields[name], str) or fields[name] not in allowed:
                    raise Invalid(f"one of {', '.join(allowed)}", field=name)
                values[name] = fields[name]
        if "active" in fields:
            values["active"] = str(fields["active"]).lower() in ("1", "true", "on", "yes")
        values.setdefault("audience", "any")
        values.setdefault("schedule_kind", "single")
        values.setdefault("period_days", 14)
        values.setdefault("extension_days", 0)
        values.setdefault("active", True)
        values.setdefault("penalty_annual_rate", Decimal("0.2"))
        for name in ("code", "name", "min_amount_minor", "max_amount_minor", "min_term_days", "max_term_days",
                     "daily_rate"):
            if name not in values:
                raise Invalid("required", field=name.removesuffix("_minor"))
        if values["max_amount_minor"] < values["min_amount_minor"]:
            raise Invalid("must be at least the minimum amount", field="max_amount")
        if values["max_term_days"] < values["min_term_days"]:
            raise Invalid("must be at least the minimum term", field="max_term_days")
        return values

    def check_caps(self, values: dict[str, Any], contract_date: dt.date) -> None:
        """Refuse (422, naming the field) a product whose rates or dearest loan break the rule in force."""
        rule = self.cap_rule(contract_date)
        if values["daily_rate"] > rule.daily_rate_max:
            raise Invalid(f"at most {rule.daily_rate_max} per day ({rule.name})", field="daily_rate")
        if values["penalty_annual_rate"] > rule.penalty_annual_max:
            raise Invalid(f"at most {rule.penalty_annual_max} per year ({rule.name})", field="penalty_annual_rate")
        for term in {values["min_term_days"], values["max_term_days"]}:
            principal = values["max_amount_minor"]
            plan = build_schedule(values["schedule_kind"], principal, values["daily_rate"], term,
                                  values["period_days"], contract_date, rule.cost_cap(principal))
            if plan.interest == 0:
                continue
            cost = maths.psk(maths.schedule_flows(plan, contract_date)).percent
            if cost > rule.psk_max:
                raise Invalid(f"a {term}-day loan would cost {cost} % a year, over the {rule.psk_max} % cap "
                              f"({rule.name})", field="daily_rate")

    async def save(self, fields: dict[str, Any], product_id: uuid.UUID | None = None) -> Product:
        current = await self.get(product_id) if product_id else None
        values = self.clean(fields, current)
        self.check_caps(values, await self.business_date())
        taken = await self.db.fetchval("SELECT id FROM lending_products WHERE code = $1", values["code"])
        if taken is not None and (current is None or taken != current.id):
            raise Invalid(f"a product with code {values['code']} exists", field="code")
        async with self.db.transaction() as conn:
            if current is None:
                row = await conn.fetchrow(
                    f"INSERT INTO lending_products (id, currency, {', '.join(PRODUCT_COLUMNS)}) "
                    f"VALUES ($1, $2, {', '.join(f'${i + 3}' for i in range(len(PRODUCT_COLUMNS)))}) RETURNING *",
                    uuid.uuid4(), self.settings.currency, *[values[c] for c in PRODUCT_COLUMNS])
            else:
                row = await conn.fetchrow(
                    f"UPDATE lending_products SET {', '.join(f'{c} = ${i + 2}' for i, c in enumerate(PRODUCT_COLUMNS))},"
                    " updated_at = now() WHERE id = $1 RETURNING *", current.id, *[values[c] for c in PRODUCT_COLUMNS])
        return Product.of(row)

    async def for_applicant(self, user_id: uuid.UUID | None, code: str | None = None) -> Product:
        """The product an applicant gets: the one named, or the first/repeat-customer offer that fits them."""
        if code:
            product = await self.get(code)
            if not product.active:
                raise Invalid(f"the product {code} is not offered now", field="product")
        else:
            repaid = 0
            if user_id is not None:
                repaid = await self.db.fetchval(
                    "SELECT count(*) FROM lending_loans WHERE user_id = $1 AND status = 'repaid'", user_id)
            wanted = ("repeat", "any") if repaid else ("first", "any")
            offers = [p for p in await self.all(active_only=True) if p.audience in wanted]
            if not offers:
                raise NotFound("no loan product is offered now")
            offers.sort(key=lambda p: wanted.index(p.audience))
            product = offers[0]
        if user_id is not None and product.audience != "any":
            repaid = await self.db.fetchval(
                "SELECT count(*) FROM lending_loans WHERE user_id = $1 AND status = 'repaid'", user_id)
            if (product.audience == "repeat") != bool(repaid):
                raise Invalid(f"the product {product.code} is for "
                              f"{'returning' if product.audience == 'repeat' else 'first-time'} customers",
                              field="product")
        return product

    async def quote(self, product: Product, amount_minor: int, term_days: int,
                    start: dt.date | None = None) -> Quote:
        """The loan ``product`` gives for ``amount_minor`` over ``term_days``, or 422 naming what is out of range."""
        currency = product.currency
        if not product.min_amount_minor <= amount_minor <= product.max_amount_minor:
            raise Invalid(f"from {format_money(product.min_amount_minor, currency)} to "
                          f"{format_money(product.max_amount_minor, currency)}", field="amount")
        if not product.min_term_days <= term_days <= product.max_term_days:
            raise Invalid(f"from {product.min_term_days} to {product.max_term_days} days", field="term_days")
        start = start or await self.business_date()
        rule = self.cap_rule(start)
        cap = rule.cost_cap(amount_minor)
        plan = build_schedule(product.schedule_kind, amount_minor, product.daily_rate, term_days,
                              product.period_days, start, cap)
        if plan.interest > cap:
            raise Invalid(f"the interest would exceed {rule.total_cost_multiple:%} of the amount ({rule.name})",
                          field="term_days")
        cost = maths.psk(maths.schedule_flows(plan, start)).percent if plan.interest else Decimal("0.000")
        if cost > rule.psk_max:
            raise Invalid(f"the full cost of credit {cost} % is over the {rule.psk_max} % cap", field="term_days")
        return Quote(product, amount_minor, term_days, start, plan, cost, cap, rule)
