import os

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="core_ledger",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=table_finder(modules=["core.ledger.tables"], exclude_imported=True),
    # Value dates default to the business date kept by core.jobs.
    migration_dependencies=["core.jobs.piccolo_app"],
)
