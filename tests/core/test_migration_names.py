"""Two apps may have migration files with the same name (the same timestamp)."""

from core.db.migrations import _Manager


def test_same_file_name_in_two_apps_gives_two_modules(tmp_path):
    for app in ("first", "second"):
        folder = tmp_path / app
        folder.mkdir()
        (folder / "2026-11-22T01-00-00.py").write_text(f'ID = "2026-11-22T01:00:00"\nAPP = "{app}"\n')
    manager = _Manager()
    first = manager.get_migration_modules(str(tmp_path / "first"))
    second = manager.get_migration_modules(str(tmp_path / "second"))
    assert first["2026-11-22T01:00:00"].APP == "first"
    assert second["2026-11-22T01:00:00"].APP == "second"
