"""Google service-account auth for FCM: an RS256-signed JWT exchanged for an access token.

``POST {token_uri}`` form ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>``,
the JWT's claims ``{iss: client_email, scope, aud: token_uri, iat, exp <= iat + 3600}``, answers
``{"access_token", "expires_in", "token_type": "Bearer"}``. :class:`AccessTokens` keeps the
token until a minute before it expires, and forgets it when FCM says it is no longer good.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from plugins.notify.provider import ProviderHttp, Transient, json_of

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
PRODUCTION_TOKEN_URI = "https://oauth2.googleapis.com/token"
SANDBOX_PROJECT = "kopilka-sandbox"
SANDBOX_EMAIL = "push@kopilka-sandbox.iam.gserviceaccount.com"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class ServiceAccount:
    """The fields of a Google service-account JSON key that FCM needs."""

    project_id: str
    client_email: str
    private_key_pem: str
    token_uri: str = PRODUCTION_TOKEN_URI

    @classmethod
    def from_json(cls, text: str) -> ServiceAccount:
        data = json.loads(text)
        missing = [k for k in ("project_id", "client_email", "private_key") if not data.get(k)]
        if missing:
            raise ValueError(f"the service-account JSON lacks {', '.join(missing)}")
        return cls(data["project_id"], data["client_email"], data["private_key"],
                   data.get("token_uri") or PRODUCTION_TOKEN_URI)

    @classmethod
    def generated(cls, project_id: str, client_email: str, token_uri: str) -> ServiceAccount:
        """A throwaway account with a fresh key (the sandbox, tests)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        return cls(project_id, client_email, pem, token_uri)

    def to_json(self) -> str:
        """The account as a service-account JSON key (the fields this module reads)."""
        return json.dumps({"type": "service_account", "project_id": self.project_id,
                           "client_email": self.client_email, "private_key": self.private_key_pem,
                           "token_uri": self.token_uri})

    def public_key_pem(self) -> str:
        key = serialization.load_pem_private_key(self.private_key_pem.encode(), password=None)
        return key.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def assertion(self, token_uri: str, now: float | None = None, lifetime_s: int = 3600) -> str:
        """The signed JWT for the token endpoint at ``token_uri``."""
        issued = int(now if now is not None else time.time())
        header = {"alg": "RS256", "typ": "JWT"}
        claims = {"iss": self.client_email, "scope": SCOPE, "aud": token_uri, "iat": issued,
                  "exp": issued + lifetime_s}
        signing_input = ".".join(b64url(json.dumps(part, separators=(",", ":")).encode())
                                 for part in (header, claims))
        key = serialization.load_pem_private_key(self.private_key_pem.encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey), "a service account's key is RSA"
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"


@functools.cache
def sandbox_account(data_dir: Path | None = None) -> ServiceAccount:
    """The service account the sandbox's channel and emulator share.

    With ``data_dir`` the key is kept in ``<data_dir>/sandbox/fcm-service-account.json``, so
    the web server (whose app serves the emulator) and the worker (which retries deliveries)
    sign with the same key; without it, a fresh key for this process (tests).
    """
    if data_dir is None:
        return ServiceAccount.generated(SANDBOX_PROJECT, SANDBOX_EMAIL, PRODUCTION_TOKEN_URI)
    path = data_dir / "sandbox" / "fcm-service-account.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = ServiceAccount.generated(SANDBOX_PROJECT, SANDBOX_EMAIL, PRODUCTION_TOKEN_URI)
        spare = path.with_suffix(f".{os.getpid()}.tmp")
        spare.write_text(fresh.to_json())
        spare.chmod(0o600)
        with contextlib.suppress(FileExistsError):  # another process was first: use its key
            os.link(spare, path)
        spare.unlink()
    return ServiceAccount.from_json(path.read_text())


def verified_claims(assertion: str, public_key_pem: str) -> dict[str, Any]:
    """The claims of an RS256 JWT signed by the key; ``ValueError`` when it is not."""
    from cryptography.exceptions import InvalidSignature

    try:
        header_b64, claims_b64, signature_b64 = assertion.split(".")
        header = json.loads(b64url_decode(header_b64))
        claims = json.loads(b64url_decode(claims_b64))
        signature = b64url_decode(signature_b64)
    except (ValueError, TypeError) as exc:
        raise ValueError("not a JWT") from exc
    if header.get("alg") != "RS256":
        raise ValueError("the JWT is not RS256")
    key = serialization.load_pem_public_key(public_key_pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    try:
        key.verify(signature, f"{header_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise ValueError("the JWT's signature does not match the key") from None
    if not isinstance(claims, dict):
        raise ValueError("the JWT's claims are not an object")
    return claims


class AccessTokens:
    """OAuth2 access tokens for one service account, fetched when needed and kept until near expiry."""

    def __init__(self, account: ServiceAccount, http: ProviderHttp, clock: Callable[[], float] = time.time
                 ) -> None:
        self.account = account
        self.http = http  # based at the token endpoint itself
        self.clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    @property
    def token_uri(self) -> str:
        return self.http.base_url

    def forget(self) -> None:
        self._token = None

    async def get(self) -> str:
        async with self._lock:
            if self._token is None or self.clock() >= self._expires_at - 60:
                await self._fetch()
            assert self._token is not None
            return self._token

    async def _fetch(self) -> None:
        now = self.clock()
        form = {"grant_type": GRANT_TYPE, "assertion": self.account.assertion(self.token_uri, now)}
        response = await self.http.request("POST", "", data=form)
        body = json_of(response, "fcm token")
        if response.status_code >= 400 or not isinstance(body, dict) or not body.get("access_token"):
            error = body.get("error_description") or body.get("error") if isinstance(body, dict) else body
            raise Transient(f"fcm: the token endpoint refused the service account: {error}")
        self._token = str(body["access_token"])
        self._expires_at = now + float(body.get("expires_in") or 3600)
