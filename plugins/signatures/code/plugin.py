"""signatures.code: sign documents with a one-time code sent by SMS or e-mail (a simple electronic signature)."""

from core import hookimpl
from plugins.signatures.code.method import CodeSignatureMethod


@hookimpl
def register_signature_methods(register, platform):
    register(CodeSignatureMethod(platform))
