"""eSputnik: SMS and e-mail through ``/v1/message/sms`` and ``/v1/message/email``."""
