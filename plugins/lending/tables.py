"""Tables of lending (created by the hand-written migration; keep the two in sync)."""

from piccolo.columns import (
    UUID,
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class Product(Table, tablename="lending_products"):
    """A loan offer configured by an administrator: amounts, terms, rates, who it is for."""

    code = Varchar(length=40, unique=True)
    name = Text()
    audience = Varchar(length=10, default="any")
    schedule_kind = Varchar(length=20, default="single")
    currency = Varchar(length=3)
    min_amount_minor = BigInt()
    max_amount_minor = BigInt()
    min_term_days = Integer()
    max_term_days = Integer()
    period_days = Integer(default=14)
    daily_rate = Numeric(digits=(12, 8))
    penalty_annual_rate = Numeric(digits=(12, 8))
    extension_days = Integer(default=0)
    active = Boolean(default=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Application(Table, tablename="lending_applications"):
    user_id = UUID()
    product_id = ForeignKey(references=Product)
    amount_minor = BigInt()
    term_days = Integer()
    currency = Varchar(length=3)
    status = Varchar(length=12, default="submitted")
    decision_reason = Text(default="")
    decided_by = Text(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    challenge_id = UUID(null=True, default=None)
    psk = Numeric(digits=(9, 3))
    interest_minor = BigInt()
    idempotency_key = Varchar(length=100, null=True, default=None)
    created_at = Timestamptz()


class Loan(Table, tablename="lending_loans"):
    application_id = ForeignKey(references=Application, unique=True)
    user_id = UUID()
    product_id = ForeignKey(references=Product)
    currency = Varchar(length=3)
    principal_minor = BigInt()
    schedule_kind = Varchar(length=20)
    term_days = Integer()
    daily_rate = Numeric(digits=(12, 8))
    penalty_annual_rate = Numeric(digits=(12, 8))
    extension_days = Integer(default=0)
    psk = Numeric(digits=(9, 3))
    cost_cap_minor = BigInt()
    interest_account_id = BigInt()
    penalty_account_id = BigInt()
    disbursed_on = Date()
    due_on = Date()
    status = Varchar(length=10, default="active")
    principal_paid_minor = BigInt(default=0)
    interest_accrued_minor = BigInt(default=0)
    interest_paid_minor = BigInt(default=0)
    penalty_accrued_minor = BigInt(default=0)
    penalty_paid_minor = BigInt(default=0)
    interest_exact = Numeric(digits=(30, 12))
    penalty_exact = Numeric(digits=(30, 12))
    accrued_through = Date(null=True, default=None)
    overdue_days = Integer(default=0)
    max_overdue_days = Integer(default=0)
    extensions = Integer(default=0)
    repaid_on = Date(null=True, default=None)
    created_at = Timestamptz()


class Instalment(Table, tablename="lending_instalments"):
    loan_id = ForeignKey(references=Loan)
    number = Integer()
    due_on = Date()
    principal_minor = BigInt()
    interest_minor = BigInt()


class Payment(Table, tablename="lending_payments"):
    loan_id = ForeignKey(references=Loan)
    kind = Varchar(length=10)
    amount_minor = BigInt()
    penalty_minor = BigInt(default=0)
    interest_minor = BigInt(default=0)
    principal_minor = BigInt(default=0)
    business_date = Date()
    new_due_on = Date(null=True, default=None)
    idempotency_key = Varchar(length=100)
    created_at = Timestamptz()
