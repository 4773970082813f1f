from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow

ID = "2026-11-22T01:00:00"
VERSION = "1.38.0"
DESCRIPTION = "Tips"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="example", description=DESCRIPTION)
    manager.add_table(class_name="Tip", tablename="example_tips")
    manager.add_column(table_class_name="Tip", tablename="example_tips", column_name="text",
                       db_column_name="text", column_class_name="Text", column_class=Text, params={"default": ""})
    manager.add_column(table_class_name="Tip", tablename="example_tips", column_name="created_at",
                       db_column_name="created_at", column_class_name="Timestamptz", column_class=Timestamptz,
                       params={"default": TimestamptzNow()})
    return manager
