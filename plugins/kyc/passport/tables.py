"""Tables of kyc.passport (created by the hand-written migration; keep the two in sync)."""

from piccolo.columns import BigInt, BigSerial, SmallInt, Text, Timestamptz, Varchar
from piccolo.table import Table


class InvalidPassport(Table, tablename="kyc_invalid_passports"):
    """A passport the MVD lists as invalid: series and number as one number ``SSSSNNNNNN``."""

    passport = BigInt(primary_key=True)  # not a key in the database (the list repeats itself); piccolo needs one
    reason = SmallInt(null=True, default=None)


class ListImport(Table, tablename="kyc_passport_list_imports"):
    """One download of the list: how it went and what it held."""

    id = BigSerial(primary_key=True)
    source = Varchar(length=1000)
    status = Varchar(length=10)
    started_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)
    etag = Varchar(length=500, null=True, default=None)
    last_modified = Varchar(length=100, null=True, default=None)
    bytes = BigInt(default=0)
    rows = BigInt(default=0)
    skipped = BigInt(default=0)
    error = Text(null=True, default=None)
