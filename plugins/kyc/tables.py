"""Tables of the kyc plugin (created by the hand-written migration; keep the two in sync)."""

from piccolo.columns import UUID, Array, BigSerial, Bytea, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class Submission(Table, tablename="kyc_submissions"):
    """What a customer gave to be verified; personal data are AES-GCM ciphertexts, ``*_bidx`` blind indexes."""

    id = UUID(primary_key=True)
    user_id = UUID()
    state = Varchar(length=16)
    round = Integer(default=1)
    checks = Array(base_column=Text())
    documents = Array(base_column=Text())
    flags = Array(base_column=Text())
    person_enc = Bytea(null=True, default=None)
    itn_enc = Bytea(null=True, default=None)
    itn_bidx = Bytea(null=True, default=None)
    passport_enc = Bytea(null=True, default=None)
    passport_bidx = Bytea(null=True, default=None)
    snils_enc = Bytea(null=True, default=None)
    snils_bidx = Bytea(null=True, default=None)
    consent_at = Timestamptz()
    created_at = Timestamptz()
    updated_at = Timestamptz()
    next_attempt_at = Timestamptz(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    decided_by = UUID(null=True, default=None)
    decision_reason = Text(null=True, default=None)
    erased_at = Timestamptz(null=True, default=None)


class CheckResult(Table, tablename="kyc_check_results"):
    """One answer of one check (append-only: a trigger refuses changes but to the ciphertext)."""

    id = BigSerial(primary_key=True)
    submission_id = UUID()
    round = Integer()
    check_name = Varchar(length=100)
    attempt = Integer()
    status = Varchar(length=10)
    reasons = Array(base_column=Text())
    reference = Varchar(length=500, default="")
    retry_at = Timestamptz(null=True, default=None)
    details_enc = Bytea(null=True, default=None)
    created_at = Timestamptz()
