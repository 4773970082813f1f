"""Tables of the job system."""

from piccolo.columns import JSONB, Boolean, Date, Integer, Text, Timestamptz, Varchar
from piccolo.columns.column_types import BigSerial
from piccolo.table import Table


class TaskMessage(Table, tablename="taskiq_messages"):
    """A queued task (the taskiq-postgres table, with claim and delay columns)."""

    id = BigSerial(primary_key=True)
    task_id = Varchar(length=64)
    task_name = Varchar(length=200)
    message = Text()
    labels = JSONB()
    status = Varchar(length=20, default="pending")
    created_at = Timestamptz()
    available_at = Timestamptz()
    claimed_at = Timestamptz(null=True, default=None)
    claimed_by = Varchar(length=200, null=True, default=None)
    attempts = Integer(default=0)


class BusinessDate(Table, tablename="core_business_date"):
    """The single row holding the platform's current business date."""

    singleton = Boolean(primary_key=True, default=True)
    business_date = Date()


class JobRun(Table, tablename="core_job_runs"):
    """A close-of-day job that ran for a business date; a unique key makes it run once."""

    id = BigSerial(primary_key=True)
    job_name = Varchar(length=200)
    business_date = Date()
    finished_at = Timestamptz()
