"""Background jobs: the task queue, the scheduler and the business date."""

from core import hookimpl
from core.jobs import commands
from core.jobs.runtime import Jobs


@hookimpl
def piccolo_apps():
    return ["core.jobs.piccolo_app"]


@hookimpl
def register_services(register, platform):
    register(Jobs(platform))


@hookimpl
def register_tasks(tasks):
    from core.jobs import tasks as core_tasks

    tasks.task(core_tasks.close_of_day, name="core.close_of_day", schedule=[{"cron": "5 0 * * *"}])


@hookimpl
def register_commands(cli):
    cli.add_command(commands.business_date)


@hookimpl
def permissions(register):
    register("jobs.view", "See queued, running and dead background tasks")
    register("jobs.close_day", "Close the business day by hand", sensitive=True)
