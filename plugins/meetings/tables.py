"""Tables of meetings (created by the hand-written migration; keep the two in sync)."""

from piccolo.columns import (
    JSONB,
    UUID,
    BigInt,
    Boolean,
    Bytea,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class Case(Table, tablename="meetings_cases"):
    id = UUID(primary_key=True)
    number = Varchar(length=60, unique=True)
    court = Varchar(length=200, default="")
    debtor_name = Varchar(length=300)
    debtor_kind = Varchar(length=10)
    debtor_itn = Varchar(length=12, default="")
    debtor_address = Text(default="")
    stage = Varchar(length=30)
    organizer_id = UUID()
    organizer_name = Varchar(length=300, default="")
    currency = Varchar(length=3, default="RUB")
    created_at = Timestamptz()


class Claim(Table, tablename="meetings_claims"):
    """A line of the register of claims."""

    id = UUID(primary_key=True)
    case_id = ForeignKey(references=Case)
    creditor_name = Varchar(length=300)
    creditor_kind = Varchar(length=20)
    creditor_itn = Varchar(length=12, default="")
    user_id = UUID(null=True, default=None)
    contact_kind = Varchar(length=10, null=True, default=None)
    contact_enc = Bytea(null=True, default=None)
    principal_minor = BigInt()
    penalty_minor = BigInt(default=0)
    secured_minor = BigInt(default=0)
    pledge_waived = Boolean(default=False)
    late = Boolean(default=False)
    court_act = Text(default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Meeting(Table, tablename="meetings_meetings"):
    id = UUID(primary_key=True)
    case_id = ForeignKey(references=Case)
    title = Varchar(length=300)
    form = Varchar(length=20)
    convened_by = Varchar(length=20, default="manager")
    grounds = Text(default="")
    starts_at = Timestamptz()
    closes_at = Timestamptz()
    place = Text(default="")
    materials = Text(default="")
    notice_method = Varchar(length=20)
    ballot_visibility = Varchar(length=10, default="open")
    status = Varchar(length=20, default="draft")
    created_by = UUID()
    convened_at = Timestamptz(null=True, default=None)
    opened_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    base_sha256 = Varchar(length=64, null=True, default=None)
    quorum = JSONB(null=True, default=None)
    last_seq = Integer(default=0)
    head_hash = Varchar(length=64)
    created_at = Timestamptz()


class Item(Table, tablename="meetings_items"):
    id = UUID(primary_key=True)
    meeting_id = ForeignKey(references=Meeting)
    position = Integer()
    question = Text()
    decision = Varchar(length=40)
    form = JSONB()
    draft_resolution = Text(default="")
    document_key = Varchar(length=200, null=True, default=None)
    document_name = Varchar(length=200, null=True, default=None)
    result = JSONB(null=True, default=None)


class VoteBase(Table, tablename="meetings_vote_base"):
    meeting_id = ForeignKey(references=Meeting)
    claim_id = ForeignKey(references=Claim)
    creditor_name = Varchar(length=300)
    principal_minor = BigInt()
    penalty_minor = BigInt()
    secured_minor = BigInt()
    pledge_waived = Boolean()
    late = Boolean()
    notified = Boolean(default=True)
    weight_minor = BigInt()


class Participant(Table, tablename="meetings_participants"):
    """A line of the registration journal."""

    id = UUID(primary_key=True)
    meeting_id = ForeignKey(references=Meeting)
    claim_id = ForeignKey(references=Claim)
    user_id = UUID()
    role = Varchar(length=20)
    method = Varchar(length=30)
    status = Varchar(length=20)
    settlement_authority = Boolean(default=False)
    poa_key = Varchar(length=200, null=True, default=None)
    poa_name = Varchar(length=200, null=True, default=None)
    poa_sha256 = Varchar(length=64, null=True, default=None)
    review_note = Text(default="")
    reviewed_by = UUID(null=True, default=None)
    reviewed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    admitted_at = Timestamptz(null=True, default=None)
    joined_at = Timestamptz(null=True, default=None)
    left_at = Timestamptz(null=True, default=None)


class Ballot(Table, tablename="meetings_ballots"):
    """Append-only (a trigger refuses UPDATE and DELETE)."""

    id = UUID(primary_key=True)
    meeting_id = ForeignKey(references=Meeting)
    item_id = ForeignKey(references=Item)
    claim_id = ForeignKey(references=Claim)
    participant_id = ForeignKey(references=Participant, null=True, default=None)
    cast_by = UUID()
    choice = JSONB()
    opinion = Text(default="")
    weight_minor = BigInt()
    confirmation_id = UUID(null=True, default=None)
    source = Varchar(length=10)
    received_at = Timestamptz()
    late = Boolean(default=False)
    event_seq = Integer()
    created_at = Timestamptz()


class Event(Table, tablename="meetings_events"):
    """The hash chain of a meeting (append-only)."""

    meeting_id = ForeignKey(references=Meeting)
    seq = Integer()
    kind = Varchar(length=40)
    payload = JSONB()
    actor = Varchar(length=100)
    at = Timestamptz()
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)


class Protocol(Table, tablename="meetings_protocols"):
    id = UUID(primary_key=True)
    meeting_id = ForeignKey(references=Meeting, unique=True)
    file_key = Varchar(length=200)
    sha256 = Varchar(length=64)
    size = Integer()
    created_at = Timestamptz()


class Signature(Table, tablename="meetings_signatures"):
    protocol_id = ForeignKey(references=Protocol)
    signer_id = UUID()
    role = Varchar(length=20)
    method = Varchar(length=40)
    sha256 = Varchar(length=64)
    evidence = JSONB()
    signed_at = Timestamptz()
