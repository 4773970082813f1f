"""The whole extension surface of kopilka.

Every hook a plugin can implement is declared here, as a documented function that
does nothing. ``docs/hooks.md`` has a section for each, headed by its exact
signature; ``tests/core/test_docs.py`` fails when one is missing.

Conventions:

* Hooks are called by keyword. An implementation may accept fewer arguments than
  the spec declares, so new arguments can be added without breaking plugins.
* Every hook but :func:`plugin_requires` and :func:`settings_schema` (called before
  settings exist) takes ``settings``: the calling plugin's own validated settings (an
  instance of the model it returned from :func:`settings_schema`, or ``None``). The
  platform calls each plugin's implementation with that plugin's settings.
* Composition and registration hooks are synchronous. What they hand over (gateways,
  channels, drivers, services) has ``async`` methods.
* Event hooks (``on_*``) may be ``async def``; the platform awaits them after the
  database transaction that caused the event has committed. A listener that raises is
  logged and the other listeners still run (``on_startup`` excepted: it stops start-up).
* No hook here is ``firstresult``: an ``async`` implementation of such a hook would
  always "win" because a coroutine is never ``None``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pluggy import HookimplMarker, HookspecMarker

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    import click
    from pydantic import BaseModel

    from core.platform import Platform

hookspec = HookspecMarker("kopilka")
hookimpl = HookimplMarker("kopilka")


# ---------------------------------------------------------------------------
# Identity: what a plugin is and what it needs
# ---------------------------------------------------------------------------


@hookspec
def plugin_requires() -> Sequence[str]:
    """Return the names of the plugins this plugin cannot work without.

    The platform refuses to start when one of them is not enabled.
    """


@hookspec
def sandbox_only(settings: Any) -> str:
    """Return why this plugin must never run in a real deployment, if it must not.

    Development stand-ins (an outbox that shows every message, one-time codes included, to
    admins; a fake provider) say so here. ``serve``, ``worker`` and ``scheduler`` refuse to
    start a deployment that enables one unless ``[platform] sandbox = true``.
    """


@hookspec
def settings_schema() -> type[BaseModel]:
    """Return the pydantic model of this plugin's section in the deployment file.

    The section ``[plugins."<name>"]`` is validated against it at start-up. Secret
    values may be given by reference (``{ env = "NAME" }`` or ``{ file = "path" }``);
    declare them as ``pydantic.SecretStr`` so they are never printed.
    """


# ---------------------------------------------------------------------------
# Composition: what a plugin brings to the platform (synchronous, called once)
# ---------------------------------------------------------------------------


@hookspec
def piccolo_apps(settings: Any) -> Sequence[str]:
    """Return the module paths of this plugin's piccolo apps (``"plugins.x.piccolo_app"``).

    Each module defines ``APP_CONFIG``. ``kopilka db migrate`` migrates the apps of
    the enabled plugins, in the order their ``migration_dependencies`` give.
    """


@hookspec
def register_services(register: Callable[[object], None], platform: Platform, settings: Any) -> None:
    """Create this plugin's long-lived services and hand them over with ``register(service)``.

    Other plugins and routes fetch them by type with ``platform.service(ServiceType)``.
    Services with ``async def start()`` / ``async def stop()`` are started after the
    database and stopped before it.
    """


@hookspec
def routes(platform: Platform, settings: Any) -> Sequence[Any]:
    """Return litestar route handlers, controllers or routers to mount.

    JSON endpoints live under ``/api/v1/<plugin>/``, pages under ``/<plugin>/`` and
    admin pages under ``/admin/<plugin>/``. Guard them with ``core.access`` guards.
    """


@hookspec
def middleware(platform: Platform, settings: Any) -> Sequence[Any]:
    """Return litestar middleware to wrap every request (sessions, rate limits).

    They run inside the core's request-id and logging middleware and outside its
    locale middleware, in the order the plugins were loaded.
    """


@hookspec
def template_context(request: Any, settings: Any) -> dict[str, Any]:
    """Return extra variables for every page rendered for ``request`` (e.g. the signed-in user)."""


@hookspec
def template_dirs(settings: Any) -> Sequence[Path]:
    """Return folders of jinja2 templates.

    Templates are namespaced by their first folder: a plugin ships
    ``templates/<plugin>/page.html`` and renders ``"<plugin>/page.html"``.
    """


@hookspec
def static_dirs(settings: Any) -> dict[str, Path]:
    """Return static folders to serve, keyed by URL prefix under ``/static/``."""


@hookspec
def register_tasks(tasks: Any, settings: Any) -> None:
    """Register background tasks and schedules on the task registry.

    Call ``tasks.task(fn, name="plugin.task_name", schedule=[{"cron": "*/10 * * * *"}])``.
    Names are explicit so that moving a function never renames its queue; a schedule
    gets a stable id from the task name. ``tasks.close_of_day(fn, name=...)`` adds a job
    that runs exactly once per business date. ``tasks.worker_loop(fn, name=...)`` runs
    ``fn(platform, stop)`` in every worker process for as long as it runs (work that keeps
    something open, such as a serial line).
    """


@hookspec
def permissions(register: Callable[..., None], settings: Any) -> None:
    """Declare this plugin's permissions with ``register(code, description, sensitive=False)``.

    Codes are ``"<plugin>.<action>"``. A sensitive permission makes its admin action
    wait for a second person's approval (maker-checker).
    """


@hookspec
def admin_menu(platform: Platform, settings: Any) -> Sequence[Any]:
    """Return ``core.web.menu.MenuItem`` entries for the admin menu.

    Each item names the permission it needs; users without it do not see it.
    """


@hookspec
def site_menu(platform: Platform, settings: Any) -> Sequence[Any]:
    """Return ``core.web.menu.MenuItem`` entries for the customer site.

    They appear in the navigation bar and, with a description, on the home page as
    what this deployment offers.
    """


@hookspec
def register_commands(cli: click.Group, settings: Any) -> None:
    """Add click commands or groups to the ``kopilka`` command line."""


@hookspec
def load_demo_data(platform: Platform, settings: Any, progress: Any) -> Any:
    """Create the demo records that show this plugin working (may be ``async``).

    Called by ``kopilka demo load`` after every plugin this one requires has loaded
    its own demo data. Must be idempotent: a second run creates nothing new.
    ``progress(description)`` reports a step.
    """


# ---------------------------------------------------------------------------
# Domain registries (synchronous registration; the registered objects are async)
# ---------------------------------------------------------------------------


@hookspec
def register_payment_gateways(register: Callable[[Any], None], platform: Platform, settings: Any) -> None:
    """Hand over payment gateways (``core.contracts.payments.PaymentGateway``)."""


@hookspec
def register_scoring_providers(register: Callable[[Any], None], platform: Platform, settings: Any) -> None:
    """Hand over credit-bureau and scoring providers (``core.contracts.scoring.ScoringProvider``)."""


@hookspec
def register_kyc_checks(register: Callable[[Any], None], platform: Platform, settings: Any) -> None:
    """Hand over identity checks (``core.contracts.kyc.KycCheck``).

    The ``kyc`` plugin runs every check whose ``document_kinds`` a customer's submission
    has, polls those that answer PENDING and asks again after an ERROR.
    """


@hookspec
def register_notification_channels(register: Callable[[Any], None], platform: Platform, settings: Any) -> None:
    """Hand over message channels (``core.contracts.notifications.NotificationChannel``)."""


@hookspec
def register_terminal_drivers(register: Callable[[Any], None], platform: Platform, settings: Any) -> None:
    """Hand over cash-terminal drivers (``core.contracts.terminals.TerminalDriver``).

    A driver speaks one bill validator protocol over a serial line; the ``terminals``
    plugin opens its sessions, credits stacked notes and records faults.
    """


@hookspec
def register_file_stores(register: Callable[[Any], None], platform: Platform, settings: Any) -> None:
    """Hand over file stores (``core.files.FileStore``) for uploaded and generated documents.

    The deployment picks one by name with ``[plugins."core.projects"] file_store``; the
    built-in ``local`` store keeps files under the data folder.
    """


@hookspec
def register_signature_methods(register: Callable[[Any], None], platform: Platform, settings: Any) -> None:
    """Hand over document-signature methods (``core.contracts.signatures.SignatureMethod``)."""


@hookspec
def register_approval_actions(register: Callable[[Any], None], platform: Platform, settings: Any) -> None:
    """Hand over maker-checker actions (``core.access.approvals.ApprovalAction``).

    An action names the permission it needs; when that permission is declared
    ``sensitive``, ``Approvals.perform`` queues the action until a second person holding
    the permission approves it, then runs it.
    """


@hookspec
def register_pii_fields(register: Callable[[Any], None], platform: Platform, settings: Any) -> None:
    """Declare encrypted personal-data columns (``core.access.pii.PiiField``).

    ``kopilka pii rotate`` re-encrypts them under the active key and ``kopilka pii
    reindex`` recomputes their blind indexes.
    """


# ---------------------------------------------------------------------------
# Events (may be async; called after the causing transaction has committed)
# ---------------------------------------------------------------------------


@hookspec
def on_startup(platform: Platform, settings: Any) -> Any:
    """The platform has started: database reachable, services started. Raising stops start-up."""


@hookspec
def on_shutdown(platform: Platform, settings: Any) -> Any:
    """The platform is stopping; services are still running."""


@hookspec
def on_transfers_committed(platform: Platform, transfers: Sequence[Any], settings: Any) -> Any:
    """Ledger transfers (``core.ledger.Transfer``) were committed; for notifications and projections."""


@hookspec
def on_user_registered(platform: Platform, user: Any, settings: Any) -> Any:
    """A user confirmed their registration."""


@hookspec
def on_stage_changed(platform: Platform, stage: Any, old_status: str, new_status: str, settings: Any) -> Any:
    """A project stage moved from ``old_status`` to ``new_status``."""


@hookspec
def on_publication(platform: Platform, publication: Any, settings: Any) -> Any:
    """A project publication (news, report, document) was published."""


@hookspec
def on_kyc_status_changed(platform: Platform, verification: Any, old_status: str, new_status: str, settings: Any) -> Any:
    """A customer's identity verification (``plugins.kyc.service.Verification``) changed state.

    States: ``none``, ``checking``, ``review``, ``verified``, ``rejected``.
    """


@hookspec
def on_payment_status_changed(
    platform: Platform, payment: Any, old_status: str, new_status: str, settings: Any
) -> Any:
    """A payment (top-up, withdrawal, charge) changed status."""


@hookspec
def on_scoring_completed(platform: Platform, inquiry: Any, settings: Any) -> Any:
    """A scoring inquiry (``plugins.scoring.records.Inquiry``) got its final answer.

    Fires after the answer is committed: when a provider answers at once, when the
    polling task gets a PENDING inquiry's result, and when an inquiry reuses a cached
    report. ``platform.service(ScoringService).assessment(inquiry.reference)`` decides again.
    """
