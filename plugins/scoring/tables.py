"""Tables of the scoring plugin (created by ``piccolo_migrations/``; keep both in sync).

The service writes them with SQL (``store.py``); these declarations are for piccolo's
registry and for ad-hoc queries.
"""

from piccolo.columns import UUID, Array, BigInt, Boolean, Bytea, Integer, Text, Timestamptz, Varchar
from piccolo.columns.column_types import JSONB, BigSerial
from piccolo.table import Table


class Inquiry(Table, tablename="scoring_inquiries"):
    """One question to one provider about one applicant (append-only)."""

    id = UUID(primary_key=True)
    provider = Varchar(length=100)
    request_id = Varchar(length=200)
    reference = Varchar(length=200)
    report_type = Varchar(length=50)
    applicant_enc = Bytea()
    subject_bidx = Bytea()
    consent_ref = Varchar(length=200)
    amount_minor = BigInt(null=True, default=None)
    currency = Varchar(length=3, null=True, default=None)
    term_days = Integer(null=True, default=None)
    cached_from = UUID(null=True, default=None)
    user_id = UUID(null=True, default=None)
    requested_by = Varchar(length=200)
    created_at = Timestamptz()


class InquiryResult(Table, tablename="scoring_results"):
    """Every answer an inquiry got (append-only)."""

    id = BigSerial(primary_key=True)
    inquiry_id = UUID()
    attempt = Integer()
    source = Varchar(length=20)
    status = Varchar(length=20)
    score = Integer(null=True, default=None)
    provider_decision = Varchar(length=20, null=True, default=None)
    report_ref = Varchar(length=200)
    error_code = Varchar(length=100)
    error = Text()
    retryable = Boolean()
    report_enc = Bytea(null=True, default=None)
    duration_ms = Integer(null=True, default=None)
    received_at = Timestamptz()


class Poll(Table, tablename="scoring_polls"):
    """An inquiry still waiting for its answer."""

    inquiry_id = UUID(primary_key=True)
    report_ref = Varchar(length=200)
    polls = Integer()
    next_at = Timestamptz()
    claimed_until = Timestamptz(null=True, default=None)
    give_up_at = Timestamptz()


class Decision(Table, tablename="scoring_decisions"):
    """A decision of the policy for an application, and why (append-only)."""

    id = UUID(primary_key=True)
    reference = Varchar(length=200)
    outcome = Varchar(length=20)
    reasons = JSONB()
    inquiry_ids = Array(base_column=UUID())
    result_ids = Array(base_column=BigInt())
    policy_digest = Varchar(length=64)
    decided_by = Varchar(length=200)
    created_at = Timestamptz()
