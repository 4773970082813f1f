"""The JSON API a signed-in user's app calls to register and unregister its device for push."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Request, delete, get, post
from litestar.exceptions import NotFoundException
from litestar.params import JSONBody, Parameter
from pydantic import BaseModel, ConfigDict, Field

from core.access import identity_of, requires_login
from core.access.inputs import MAX_BIGINT
from plugins.notify.fcm.devices import PushDevices

TAGS = ["notify: push"]


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The FCM registration token the app got from the Firebase SDK (about 160 characters today).
    token: str = Field(min_length=20, max_length=1024, pattern=r"^[A-Za-z0-9_:\-.]+$")
    platform: Literal["android", "ios", "web"]


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=1024)


def _devices(request: Request[Any, Any, Any]) -> PushDevices:
    return request.app.state.platform.service(PushDevices)


def _user(request: Request[Any, Any, Any]) -> Any:
    user_id = identity_of(request).user_id
    assert user_id is not None  # guarded by requires_login
    return user_id


@get("/api/v1/notify/push/devices", tags=TAGS, summary="My devices registered for push", guards=[requires_login])
async def list_devices(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    return [d.public() for d in await _devices(request).of_user(_user(request))]


@post("/api/v1/notify/push/devices", tags=TAGS, summary="Register this device for push", guards=[requires_login],
      status_code=201)
async def register_device(request: Request[Any, Any, Any], data: JSONBody[DeviceIn]) -> dict[str, Any]:
    return (await _devices(request).register(_user(request), data.token, data.platform)).public()


@post("/api/v1/notify/push/devices/unregister", tags=TAGS, summary="Unregister a device by its token",
      guards=[requires_login], status_code=204)
async def unregister_by_token(request: Request[Any, Any, Any], data: JSONBody[TokenIn]) -> None:
    if not await _devices(request).unregister(_user(request), token=data.token):
        raise NotFoundException("token: no device of yours has this token")


@delete("/api/v1/notify/push/devices/{device_id:int}", tags=TAGS, summary="Unregister one of my devices",
        guards=[requires_login], status_code=204)
async def unregister_device(request: Request[Any, Any, Any],
                            device_id: Annotated[int, Parameter(ge=1, le=MAX_BIGINT)]) -> None:
    if not await _devices(request).unregister(_user(request), device_id=device_id):
        raise NotFoundException(f"device_id: you have no device {device_id}")


ROUTES = [list_devices, register_device, unregister_by_token, unregister_device]
