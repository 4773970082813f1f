"""Files the platform keeps: uploaded receipts, published documents, generated reports.

A :class:`FileStore` keeps bytes under a key and gives them back; :class:`Files` is the
service the rest of the platform uses (``platform.service(Files)``). It checks what is
uploaded (size, and the real type from the file's first bytes, never the name a browser
sends), names files, and hands the bytes to the store the deployment chose.

The default store is :class:`LocalDiskStore`, under ``<data_dir>/files``. Another store (S3,
a WebDAV share) is a plugin that implements ``register_file_stores`` and is picked by
``[plugins."core.projects"] file_store = "<name>"``.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from core.platform import Platform

#: What may be uploaded as a document, recognised by the file's first bytes.
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"GIF87a", "image/gif", ".gif"),
    (b"GIF89a", "image/gif", ".gif"),
)
_KEY = re.compile(r"^[a-z0-9_-]{1,40}/[0-9a-f]{2}/[0-9a-f-]{36}\.[a-z]{2,5}$")


class FileError(ValueError):
    """An upload that cannot be kept: too big, empty, or of a type that is not allowed."""


@dataclass(frozen=True)
class StoredFile:
    """What the platform remembers about a kept file; the bytes stay in the store."""

    key: str
    filename: str
    content_type: str
    size: int
    sha256: str


@runtime_checkable
class FileStore(Protocol):
    """Where bytes live. Keys are made by :class:`Files`; a store never invents them."""

    name: str

    async def write(self, key: str, data: bytes) -> None: ...

    async def read(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...


class LocalDiskStore:
    """Files in a folder on the local disk; written to a temporary name, then renamed."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):  # keys come from Files, but a path must never escape the root
            raise FileError(f"not a file key: {key!r}")
        return self.root / key

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.part")
        with open(partial, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, path)

    async def write(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    async def read(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise LookupError(f"no file {key!r} in the {self.name} store") from None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)

    async def exists(self, key: str) -> bool:
        return self._path(key).exists()


def sniff(data: bytes) -> tuple[str, str] | None:
    """The content type and extension of ``data`` from its first bytes, or None."""
    for magic, content_type, extension in SIGNATURES:
        if data.startswith(magic):
            return content_type, extension
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", ".webp"
    return None


def clean_filename(filename: str) -> str:
    """The name to show and offer on download: no folders, no control characters."""
    name = Path(filename.replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>|:*?')
    return name[:200] or "document"


class Files:
    """The platform's file service: validates uploads and keeps them in the chosen store."""

    def __init__(self, platform: Platform | None = None, *, store: FileStore | None = None,
                 store_name: str = "local", max_bytes: int = 20 * 1024 * 1024) -> None:
        self.platform = platform
        self.store_name = store_name
        self.max_bytes = max_bytes
        self._store = store

    async def start(self) -> None:
        if self._store is None:
            self._store = self._choose_store()

    def _choose_store(self) -> FileStore:
        assert self.platform is not None
        stores: dict[str, FileStore] = {}
        owners: dict[str, str] = {}
        for plugin, store in self.platform.plugins.collect_registered("register_file_stores", platform=self.platform):
            if store.name in stores:  # silently taking one would put documents where nobody looks for them
                raise ValueError(f"plugin {plugin!r}: file store {store.name!r} is already registered by "
                                 f"{owners[store.name]!r}")
            stores[store.name] = store
            owners[store.name] = plugin
        if self.store_name in stores:
            return stores[self.store_name]
        if self.store_name == "local":
            return LocalDiskStore(Path(self.platform.data_dir) / "files")
        known = ", ".join(["local", *stores]) or "local"
        raise LookupError(f"no file store named {self.store_name!r}; available: {known}")

    @property
    def store(self) -> FileStore:
        if self._store is None:
            self._store = self._choose_store()
        return self._store

    def check(self, data: bytes, filename: str) -> tuple[str, str]:
        """Refuse what may not be kept; return the real content type and extension."""
        if not data:
            raise FileError(f"{clean_filename(filename)}: the file is empty")
        if len(data) > self.max_bytes:
            raise FileError(f"{clean_filename(filename)}: {len(data)} bytes is over the limit of {self.max_bytes}")
        found = sniff(data)
        if found is None:
            raise FileError(f"{clean_filename(filename)}: only PDF and images (PNG, JPEG, GIF, WebP) are accepted")
        return found

    async def put(self, data: bytes, filename: str, *, folder: str = "files") -> StoredFile:
        """Keep ``data``; returns what to remember about it. ``folder`` groups files by use."""
        content_type, extension = self.check(data, filename)
        file_id = str(uuid.uuid4())
        key = f"{folder}/{file_id[:2]}/{file_id}{extension}"
        await self.store.write(key, data)
        return StoredFile(key=key, filename=clean_filename(filename), content_type=content_type,
                          size=len(data), sha256=hashlib.sha256(data).hexdigest())

    async def get(self, key: str) -> bytes:
        return await self.store.read(key)

    async def remove(self, key: str) -> None:
        await self.store.delete(key)
