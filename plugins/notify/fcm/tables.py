"""Tables of notify.fcm (kept in step with ``piccolo_migrations``)."""

from piccolo.columns import UUID, BigInt, BigSerial, Text, Timestamptz, Varchar
from piccolo.table import Table


class PushDevice(Table, tablename="notify_fcm_devices"):
    """A device (app install or browser) a user registered for push: its FCM registration token."""

    id = BigSerial(primary_key=True)
    user_id = UUID()
    token = Varchar(length=1024, unique=True)
    platform = Varchar(length=16)
    created_at = Timestamptz()
    last_sent_at = Timestamptz(null=True, default=None)


class PushSend(Table, tablename="notify_fcm_sends"):
    """One delivery accepted by FCM for one device: a retry of the delivery skips that device."""

    delivery_id = UUID()
    device_id = BigInt()
    message_name = Text()
    sent_at = Timestamptz()
