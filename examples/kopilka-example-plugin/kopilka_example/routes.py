from typing import Any

from litestar import Request, get

from core.web.templating import render
from kopilka_example.tables import Tip


async def latest() -> list[dict[str, Any]]:
    return await Tip.select(Tip.text, Tip.created_at).order_by(Tip.id, ascending=False).limit(20)


@get("/example/tips", include_in_schema=False)
async def tips_page(request: Request[Any, Any, Any]) -> Any:
    settings = request.app.state.platform.settings("example")
    return render(request, "example/tips.html", greeting=settings.greeting, tips=await latest())


@get("/api/v1/example/tips", tags=["example"], summary="The latest saving tips")
async def tips_api() -> list[dict[str, Any]]:
    return await latest()
