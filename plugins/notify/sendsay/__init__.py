"""Sendsay: e-mail through the single RPC endpoint (``login``, then ``issue.send``)."""
