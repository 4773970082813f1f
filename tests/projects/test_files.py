"""The file store: real types from the bytes, keys that cannot escape the folder."""

import pytest

from core.files import FileError, Files, LocalDiskStore, clean_filename, sniff
from tests.projects.helpers import PDF, PNG


async def test_local_store_keeps_and_returns_files(tmp_path):
    files = Files(store=LocalDiskStore(tmp_path), max_bytes=1000)
    stored = await files.put(PDF, "../../etc/Акт №1.pdf", folder="projects")
    assert stored.key.startswith("projects/") and stored.key.endswith(".pdf")
    assert stored.filename == "Акт №1.pdf" and stored.content_type == "application/pdf"
    assert await files.get(stored.key) == PDF
    assert (tmp_path / stored.key).exists() and not list(tmp_path.rglob("*.part"))
    await files.remove(stored.key)
    with pytest.raises(LookupError):
        await files.get(stored.key)


async def test_refuses_bad_uploads_and_bad_keys(tmp_path):
    files = Files(store=LocalDiskStore(tmp_path), max_bytes=40)
    with pytest.raises(FileError, match="over the limit"):
        files.check(PNG + b"x" * 40, "big.png")
    with pytest.raises(FileError, match="only PDF and images"):
        files.check(b"<script>alert(1)</script>", "fake.pdf")
    with pytest.raises(FileError, match="not a file key"):
        await files.store.read("../../etc/passwd")
    assert sniff(PNG) == ("image/png", ".png")
    assert clean_filename('C:\\temp\\"x".pdf') == "x.pdf"


async def test_the_platform_store_lives_under_the_data_folder(platform):
    files = platform.service(Files)
    assert isinstance(files.store, LocalDiskStore)
    assert files.store.root == platform.data_dir / "files"
