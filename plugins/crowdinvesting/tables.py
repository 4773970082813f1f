"""Tables of crowdinvesting (created by the hand-written migration; keep the two in sync)."""

from piccolo.columns import UUID, BigInt, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from core.projects.tables import Project, Stage


class Terms(Table, tablename="crowd_terms"):
    """A project's investment terms: minimum ticket, per-investor cap, expected yield for the calculator."""

    project_id = ForeignKey(references=Project, primary_key=True)
    min_investment_minor = BigInt()
    max_per_investor_minor = BigInt(null=True, default=None)
    expected_yield_bp = Integer(default=0)
    term_months = Integer(default=12)
    payout_period = Varchar(length=20, default="quarter")
    updated_at = Timestamptz()


class Investor(Table, tablename="crowd_investors"):
    user_id = UUID(primary_key=True)
    wallet_account_id = BigInt(null=True, default=None)
    qualified = Boolean(default=False)
    qualified_until = Date(null=True, default=None)
    qualified_by = UUID(null=True, default=None)
    qualified_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class InvestorYear(Table, tablename="crowd_investor_years"):
    """An investor's total for a calendar year (259-FZ), with what they declared on other platforms."""

    user_id = UUID()
    year = Integer()
    invested_minor = BigInt(default=0)
    declared_elsewhere_minor = BigInt(default=0)


class ProjectYear(Table, tablename="crowd_project_years"):
    project_id = ForeignKey(references=Project)
    year = Integer()
    raised_minor = BigInt(default=0)


class Investment(Table, tablename="crowd_investments"):
    id = UUID(primary_key=True)
    user_id = UUID()
    project_id = ForeignKey(references=Project)
    stage_id = ForeignKey(references=Stage)
    amount_minor = BigInt()
    currency = Varchar(length=3)
    source = Varchar(length=20, default="wallet")
    certificate_id = UUID(null=True, default=None)
    status = Varchar(length=20, default="active")
    year = Integer()
    idempotency_key = Varchar(length=100, null=True, default=None)
    transfer_id = UUID(unique=True)
    refund_transfer_id = UUID(null=True, default=None)
    created_at = Timestamptz()
    refunded_at = Timestamptz(null=True, default=None)


class Distribution(Table, tablename="crowd_distributions"):
    id = UUID(primary_key=True)
    project_id = ForeignKey(references=Project)
    stage_id = ForeignKey(references=Stage, null=True)
    period = Varchar(length=40)
    amount_minor = BigInt()
    currency = Varchar(length=3)
    base_minor = BigInt()
    investors = Integer()
    note = Text()
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz()


class Payout(Table, tablename="crowd_payouts"):
    distribution_id = UUID()  # no foreign key on purpose: see the migration
    user_id = UUID()
    contribution_minor = BigInt()
    amount_minor = BigInt()
    transfer_id = UUID(null=True, default=None)


class Certificate(Table, tablename="crowd_certificates"):
    id = UUID(primary_key=True)
    code_hash = Varchar(length=64, unique=True)
    code_hint = Varchar(length=8)
    buyer_id = UUID()
    amount_minor = BigInt()
    currency = Varchar(length=3)
    account_id = BigInt()
    recipient_name = Varchar(length=200)
    message = Text()
    status = Varchar(length=20, default="active")
    idempotency_key = Varchar(length=100, null=True, default=None)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    redeemed_by = UUID(null=True, default=None)
    redeemed_at = Timestamptz(null=True, default=None)
    investment_id = ForeignKey(references=Investment, null=True)
    expired_at = Timestamptz(null=True, default=None)


class ReferralCode(Table, tablename="crowd_referral_codes"):
    user_id = UUID(primary_key=True)
    code = Varchar(length=20, unique=True)


class Referral(Table, tablename="crowd_referrals"):
    referred_id = UUID(primary_key=True)
    referrer_id = UUID()
    status = Varchar(length=20, default="pending")
    reason = Text()
    first_investment_id = ForeignKey(references=Investment, null=True)
    referrer_bonus_minor = BigInt(default=0)
    referred_bonus_minor = BigInt(default=0)
    year = Integer(null=True, default=None)
    created_at = Timestamptz()
    rewarded_at = Timestamptz(null=True, default=None)
