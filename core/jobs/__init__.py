"""Background jobs: the task registry, the PostgreSQL broker, workers, the scheduler and the business date."""
