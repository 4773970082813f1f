"""Tables of the cooperative (created by the hand-written migration; keep the two in sync)."""

from piccolo.columns import (
    UUID,
    BigInt,
    BigSerial,
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


class Program(Table, tablename="coop_programs"):
    """A savings program: the target price range and the queue's parameters."""

    id = UUID(primary_key=True)
    code = Varchar(length=40, unique=True)
    name = Text()
    currency = Varchar(length=3)
    min_target_minor = BigInt()
    max_target_minor = BigInt()
    min_share = Numeric(digits=(7, 6))
    min_membership_days = Integer()
    reserve_ratio = Numeric(digits=(7, 6))
    strict_queue = Boolean(default=True)
    valuation_day = Integer(default=0)
    instalment_count = Integer()
    instalment_days = Integer()
    active = Boolean(default=True)
    created_at = Timestamptz()


class Member(Table, tablename="coop_members"):
    """A user's membership of one program, with what they save for and, once allotted, what they owe."""

    id = UUID(primary_key=True)
    program_id = ForeignKey(references=Program)
    user_id = UUID()
    target_minor = BigInt()
    joined_on = Date()
    status = Varchar(length=10, default="saving")
    in_arrears = Boolean(default=False)
    allotted_on = Date(null=True, default=None)
    obligation_minor = BigInt(default=0)
    repaid_minor = BigInt(default=0)
    created_at = Timestamptz()


class Movement(Table, tablename="coop_movements"):
    """Money between a member's wallet and the pool: a share contribution or withdrawal, a repayment after allotment."""

    id = UUID(primary_key=True)
    member_id = ForeignKey(references=Member)
    kind = Varchar(length=12)
    amount_minor = BigInt()
    value_date = Date()
    idempotency_key = Varchar(length=100)
    created_at = Timestamptz()


class Valuation(Table, tablename="coop_valuations"):
    """One valuation of a program at a business date: the pool state and what was allotted."""

    id = UUID(primary_key=True)
    program_id = ForeignKey(references=Program)
    valuation_date = Date()
    cash_minor = BigInt()
    liabilities_minor = BigInt()
    available_minor = BigInt()
    allotted_minor = BigInt()
    allotted_count = Integer()
    created_at = Timestamptz()


class QueuePlace(Table, tablename="coop_queue"):
    """The published queue of a valuation (one place per member and per rank)."""

    id = BigSerial(primary_key=True)

    valuation_id = ForeignKey(references=Valuation)
    member_id = ForeignKey(references=Member)
    rank = Integer()
    score = Numeric(digits=(30, 6))
    balance_minor = BigInt()
    eligible = Boolean()
    allotted = Boolean()


class Instalment(Table, tablename="coop_instalments"):
    """An allotted member's repayment plan (one row per member and number)."""

    id = BigSerial(primary_key=True)

    member_id = ForeignKey(references=Member)
    number = Integer()
    due_on = Date()
    amount_minor = BigInt()
