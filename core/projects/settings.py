from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ProjectsSettings(BaseModel):
    """``[plugins."core.projects"]`` in the deployment file."""

    model_config = ConfigDict(extra="forbid")

    #: The file store for receipts and published documents (``local``: under the data folder).
    file_store: str = "local"
    #: Largest document accepted, in megabytes.
    max_document_mb: int = Field(20, ge=1, le=500)
    #: When stage k+1 may open: after stage k is completed (its report accepted), funded, or at any time.
    next_stage_opens_after: Literal["completed", "funded", "any"] = "completed"
    #: A collection window, when opening a stage does not give one, in days.
    default_collection_days: int = Field(60, ge=1, le=730)
    #: How often stages whose window has ended are closed (funded or failed).
    close_due_stages_cron: str = "*/5 * * * *"
    #: The person who recorded a spending entry may not approve it.
    four_eyes_spending: bool = True
