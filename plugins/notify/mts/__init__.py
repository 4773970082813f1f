"""MTS Exolve: SMS through ``POST /messaging/v1/SendSMS``."""
