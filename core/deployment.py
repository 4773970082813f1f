"""Deployment files: which plugins are enabled and how each is set up.

A deployment file is TOML::

    [platform]
    name = "Kopilka demo"
    plugins = ["payments", "payments.fondy"]

    [database]            # optional; the default is an embedded PostgreSQL
    url = { env = "DATABASE_URL" }

    [plugins."payments.fondy"]
    merchant_id = 1396424
    secret_key = { env = "FONDY_SECRET" }

Any value may be a reference to a secret, ``{ env = "NAME" }`` or ``{ file = "path" }``;
references are resolved when the file is loaded and their values are redacted wherever
settings are shown. ``KOPILKA_DEPLOYMENT`` names the file (a path, or a name looked up
as ``deployments/<name>.toml``); ``DATABASE_URL`` overrides ``[database].url``.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from core.errors import ConfigError

REDACTED = "********"
#: The ``web.secret_key`` of a deployment that sets none: public, so for sandboxes only.
DEVELOPMENT_SECRET = "kopilka-development-secret-change-me"
DEFAULT_DEPLOYMENT = "demo"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlatformSection(_Section):
    name: str = "kopilka"
    plugins: list[str] = Field(default_factory=list)
    #: Site-specific plugins that are not installed as distributions: name -> module path.
    #: They still have to be listed in ``plugins`` to be enabled.
    local_plugins: dict[str, str] = Field(default_factory=dict)
    #: Where the platform keeps files: the embedded database, uploads, generated documents.
    data_dir: Path = Path("var")
    #: The currency of balances shown by default, ISO 4217.
    currency: str = "RUB"
    timezone: str = "Europe/Moscow"
    #: Start provider emulators inside the server so the demo works offline.
    sandbox: bool = False


class DatabaseSection(_Section):
    url: SecretStr | None = None
    #: Data folder of the embedded server, relative to ``platform.data_dir``.
    embedded_dir: str = "pgdata"
    pool_min: int = Field(1, ge=0)
    pool_max: int = Field(8, ge=1, le=200)
    #: How long a statement may run before PostgreSQL cancels it.
    statement_timeout_ms: int = Field(30_000, ge=0)


class JobsSection(_Section):
    #: ``postgres`` (the platform database) or a broker URL such as ``redis://host:6379/0``.
    broker: str = "postgres"
    #: A task claimed by a worker that stopped answering is delivered again after this many seconds.
    visibility_timeout_s: int = Field(60, ge=2)
    #: How often an idle worker looks for tasks whose notification it missed.
    poll_interval_ms: int = Field(1000, ge=50)
    #: Concurrent tasks per worker process.
    max_concurrency: int = Field(8, ge=1)

    @field_validator("broker")
    @classmethod
    def _known_broker(cls, value: str) -> str:
        # Checked with the rest of the file, not when the first worker builds its broker.
        from core.jobs.brokers import BUILT_IN, broker_schemes

        scheme = value.split("://", 1)[0] if "://" in value else None
        if value in BUILT_IN or (scheme and scheme in broker_schemes()):
            return value
        others = ", ".join(f"{s}://" for s in sorted(broker_schemes()))
        raise ValueError(f"use {', '.join(repr(b) for b in BUILT_IN)} or a URL of a known broker ({others})")


class WebSection(_Section):
    base_url: str = "http://127.0.0.1:8000"
    #: Every key of the platform derives from it (CSRF tokens, code hashes, personal data without
    #: pii_keys). Give it by reference; only a sandbox may run on the development default.
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    default_locale: Literal["ru", "en"] = "ru"
    #: Session cookies only over HTTPS (with the ``__Host-`` prefix). Unset: on when
    #: ``base_url`` is https. A real deployment served over https may not turn it off.
    cookie_secure: bool | None = None
    #: Trust X-Forwarded-For from these proxy addresses when finding a client's IP.
    trusted_proxies: list[str] = Field(default_factory=list)


    @property
    def secure_cookies(self) -> bool:
        return self.cookie_secure if self.cookie_secure is not None else self.base_url.startswith("https://")


class CoreSettings(_Section):
    platform: PlatformSection = Field(default_factory=PlatformSection)
    database: DatabaseSection = Field(default_factory=DatabaseSection)
    jobs: JobsSection = Field(default_factory=JobsSection)
    web: WebSection = Field(default_factory=WebSection)


@dataclass
class Deployment:
    """A loaded deployment file: core settings plus raw per-plugin sections."""

    source: str
    core: CoreSettings
    plugin_sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Dotted paths whose values came from secret references.
    secret_paths: set[str] = field(default_factory=set)

    @property
    def enabled(self) -> list[str]:
        return list(self.core.platform.plugins)

    @property
    def data_dir(self) -> Path:
        return self.core.platform.data_dir

    def database_url(self) -> str | None:
        env = os.environ.get("DATABASE_URL")
        if env:
            return env
        return self.core.database.url.get_secret_value() if self.core.database.url else None


def resolve_deployment_path(name: str | os.PathLike[str] | None = None) -> Path:
    name = name or os.environ.get("KOPILKA_DEPLOYMENT") or DEFAULT_DEPLOYMENT
    path = Path(name)
    if path.suffix != ".toml":
        path = Path("deployments") / f"{name}.toml"
    return path


def _resolve_secrets(value: Any, source: str, path: str, secret_paths: set[str]) -> Any:
    """Replace ``{env=..}`` / ``{file=..}`` references with their values, remembering where they were."""
    if isinstance(value, dict):
        if set(value) in ({"env"}, {"file"}):
            secret_paths.add(path)
            plugin, key = _split_path(path)
            if "env" in value:
                resolved = os.environ.get(value["env"])
                if resolved is None:
                    raise ConfigError(source, plugin, key, f"environment variable {value['env']} is not set")
                return resolved
            file_path = Path(value["file"])
            try:
                return file_path.read_text().strip()
            except OSError as exc:
                raise ConfigError(source, plugin, key, f"cannot read secret file {file_path}: {exc.strerror}") from None
        return {k: _resolve_secrets(v, source, f"{path}.{k}" if path else k, secret_paths) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_secrets(v, source, f"{path}[{i}]", secret_paths) for i, v in enumerate(value)]
    return value


def _split_path(path: str) -> tuple[str, str]:
    """Map a dotted path in the file to (plugin, key) for error messages."""
    parts = path.split(".")
    if parts[0] == "plugins" and len(parts) > 2:
        return parts[1], ".".join(parts[2:])
    return "core", path


def validation_error(
    source: str,
    plugin: str,
    exc: ValidationError,
    prefix: str = "",
    *,
    schema: type[BaseModel] | None = None,
    secret_paths: set[str] | frozenset[str] = frozenset(),
) -> ConfigError:
    """Turn the first pydantic error into a one-line ConfigError.

    The offending value is quoted to help, unless it is a secret: a value given by reference
    (``secret_paths``, dotted as in the file) or one the ``schema`` declares ``SecretStr``.
    """
    first = exc.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(section)"
    if prefix:
        key = f"{prefix}.{key}"
    message = first["msg"]
    if first["type"] == "missing":
        message = "missing required setting"
    elif first["type"] == "extra_forbidden":
        message = "unknown setting"
    elif "input" in first and not isinstance(first["input"], dict | list):
        in_file = key if plugin == "core" else f"plugins.{plugin}.{key}"
        secret = in_file in secret_paths or _declared_secret(schema, first["loc"])
        message = f"{message} (got {REDACTED if secret else repr(first['input'])})"
    return ConfigError(source, plugin, key, message)


def _declared_secret(schema: type[BaseModel] | None, loc: tuple[Any, ...]) -> bool:
    """True when the field at ``loc`` in ``schema`` (nested models followed) is a ``SecretStr``."""
    model: Any = schema
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return False
        annotation = fields[part].annotation
        if annotation is SecretStr or SecretStr in getattr(annotation, "__args__", ()):
            return True
        model = annotation
    return False


def load_deployment(path: str | os.PathLike[str] | None = None, *, text: str | None = None) -> Deployment:
    """Read, resolve and validate the core part of a deployment file."""
    file_path = resolve_deployment_path(path)
    source = str(file_path)
    if text is None:
        try:
            text = file_path.read_text()
        except FileNotFoundError:
            raise ConfigError(source, "core", "(file)", "deployment file not found") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "core", "(file)", f"not valid TOML: {exc}") from None
    secret_paths: set[str] = set()
    resolved = _resolve_secrets(raw, source, "", secret_paths)
    plugin_sections = resolved.pop("plugins", {}) or {}
    if not isinstance(plugin_sections, dict):
        raise ConfigError(source, "core", "plugins", "must be a table of per-plugin sections")
    try:
        core = CoreSettings.model_validate(resolved)
    except ValidationError as exc:
        raise validation_error(source, "core", exc, schema=CoreSettings, secret_paths=secret_paths) from None
    return Deployment(source=source, core=core, plugin_sections=plugin_sections, secret_paths=secret_paths)


def redact(value: Any, path: str = "", secret_paths: set[str] | frozenset[str] = frozenset()) -> Any:
    """Make settings safe to show: secrets and referenced values become ``********``."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="python")
    if isinstance(value, SecretStr) or path in secret_paths:
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v, f"{path}.{k}" if path else k, secret_paths) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, f"{path}[{i}]", secret_paths) for i, v in enumerate(value)]
    if isinstance(value, Path):
        return str(value)
    return value
