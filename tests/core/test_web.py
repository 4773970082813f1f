"""The web frame: pages, health, schema, errors, locale, request ids."""

import re
from pathlib import Path


async def test_home_page_is_html(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>Kopilka test</title>" in response.text


async def test_health_reports_database(client):
    assert (await client.get("/healthz")).json() == {"status": "ok", "database": "reachable"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "reachable"


async def test_readyz_is_503_without_database(client, platform, monkeypatch):
    async def down():
        return False

    monkeypatch.setattr(platform.db, "ping", down)
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


async def test_openapi_schema_and_ui_are_served_without_a_cdn(client):
    schema = await client.get("/schema/openapi.json")
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")
    ui = await client.get("/schema/swagger")
    assert ui.status_code == 200
    assert not re.search(r"https?://(?!testserver)", ui.text.split("<body")[0]), "UI assets must be local"
    asset = re.search(r'src="([^"]+swagger-ui-bundle\.js)"', ui.text).group(1)
    assert (await client.get(asset)).status_code == 200


async def test_unknown_page_gets_a_styled_404_and_api_gets_json(client):
    page = await client.get("/no-such-page", headers={"accept": "text/html"})
    assert page.status_code == 404 and "kopilka.css" in page.text
    api = await client.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    body = api.json()
    assert body["status_code"] == 404 and body["request_id"]


async def test_request_id_is_kept_or_made(client):
    given = await client.get("/healthz", headers={"x-request-id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await client.get("/healthz", headers={"x-request-id": "bad id with spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])


async def test_locale_from_accept_language_and_cookie(client):
    en = await client.get("/", headers={"accept-language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in en.text
    ru = await client.get("/", headers={"accept-language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert '<html lang="ru">' in ru.text
    switched = await client.get("/lang/en?next=/", headers={"accept-language": "ru"})
    assert switched.status_code in (302, 303) and "lang=en" in switched.headers["set-cookie"]
    client.cookies.set("lang", "en")
    assert '<html lang="en">' in (await client.get("/", headers={"accept-language": "ru"})).text


async def test_language_switch_never_redirects_off_site(client):
    response = await client.get("/lang/ru?next=//evil.example/")
    assert response.headers["location"] == "/"


async def test_admin_front_page_is_guarded(client, client_as):
    assert (await client.get("/admin", headers={"accept": "application/json"})).status_code == 401
    assert (await client.get("/admin")).headers["location"].startswith("/login?next=/admin")
    customer = await client_as()
    assert (await customer.get("/admin")).status_code == 403
    admin = await client_as("admin.access")
    page = await admin.get("/admin", headers={"accept-language": "en"})
    assert page.status_code == 200 and "kopilka.css" in page.text


async def test_pages_and_errors_are_translated(client):
    ru = await client.get("/", headers={"accept-language": "ru"})
    assert "Что мы предлагаем" in ru.text or "Накопления, инвестиции и займы" in ru.text
    missing = await client.get("/nope", headers={"accept-language": "ru", "accept": "text/html"})
    assert "Страница не найдена" in missing.text
    en = await client.get("/nope", headers={"accept-language": "en", "accept": "text/html"})
    assert "Page not found" in en.text


def test_money_and_dates_follow_the_locale():
    import datetime as dt

    from core.web import i18n

    token = i18n.set_locale("en")
    try:
        assert i18n.money(123456, "RUB") == "RUB1,234.56"
        assert i18n.date(dt.date(2026, 11, 22)) == "Nov 22, 2026"
    finally:
        i18n._current_locale.reset(token)
    token = i18n.set_locale("ru")
    try:
        assert i18n.money(123456, "RUB") == "1\xa0234,56\xa0₽"
        assert i18n.date(dt.date(2026, 11, 22)) == "22 нояб. 2026\u202fг."
    finally:
        i18n._current_locale.reset(token)


def test_the_stylesheet_keeps_text_and_focus_rings_readable():
    """WCAG: text 4.5:1 against its backgrounds (AA), the focus ring 3:1 against the page (1.4.11)."""
    css = (Path(__file__).parents[2] / "core" / "web" / "static" / "kopilka.css").read_text()
    colours = {
        name: value if len(value) == 7 else "#" + "".join(c * 2 for c in value[1:])
        for name, value in re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3})\b", css)
    }

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    def contrast(a: str, b: str) -> float:
        high, low = sorted((luminance(a), luminance(b)), reverse=True)
        return (high + 0.05) / (low + 0.05)

    for text in ("ink", "muted", "accent", "danger", "ok"):
        for background in ("bg", "card"):
            assert contrast(colours[text], colours[background]) >= 4.5, (text, background)
    assert contrast(colours["accent-ink"], colours["accent"]) >= 4.5, "button text"
    ring = re.search(r":focus[^{]*\{[^}]*outline:\s*\d+px solid (#[0-9a-fA-F]{6}|var\(--([a-z-]+)\))", css)
    assert ring, "a visible focus ring"
    ring_colour = colours[ring.group(2)] if ring.group(2) else ring.group(1)
    for background in ("bg", "card"):
        assert contrast(ring_colour, colours[background]) >= 3, background


async def test_error_pages_speak_the_readers_language(client):
    for method, path in (("GET", "/no-such-page"), ("DELETE", "/")):
        page = await client.request(method, path, headers={"accept-language": "ru"})
        assert page.status_code in (404, 405)
        main = page.text.split("<main", 1)[1]
        assert "Not Found" not in main and "Method Not Allowed" not in main, main[:400]


async def test_logs_are_json_lines_with_the_request_id(client, monkeypatch):
    """Every request's access line (and anything logged while serving it) carries its request id."""
    import io
    import json
    import logging

    import structlog

    from core.web import logging as web_logging

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    monkeypatch.setattr(web_logging, "_configured", False)  # other tests' libraries may have replaced it
    monkeypatch.delenv("KOPILKA_LOG_FORMAT", raising=False)
    web_logging.configure_logging(level="INFO")  # as `kopilka serve` does: root gets one JSON handler
    handlers = [h for h in root.handlers if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter)]
    assert len(handlers) == 1
    stream = io.StringIO()
    handlers[0].setStream(stream)
    try:
        await client.get("/healthz", headers={"x-request-id": "log-probe-1"})
    finally:
        root.handlers[:], root.level = saved
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    access = [line for line in lines if line.get("event") == "request" and line.get("path") == "/healthz"]
    assert access and access[0]["request_id"] == "log-probe-1", lines
    assert access[0]["status"] == 200 and access[0]["level"] == "info" and "timestamp" in access[0]


def test_a_missing_body_field_is_keyed_by_its_name():
    from core.web.errors import _describe

    top = {"message": "Object missing required field `first_name`", "key": "data", "source": "body"}
    nested = {"message": "Object missing required field `city` - at `$.address`", "key": "address", "source": "body"}
    assert _describe(top)["key"] == "first_name"
    assert _describe(nested)["key"] == "address.city"
    assert _describe({"message": "Expected `str`, got `int`", "key": "itn"})["key"] == "itn"
