from pydantic import BaseModel, ConfigDict, Field


class ExampleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Shown above the tips.
    greeting: str = "Save a little every day"
    #: How often the scheduled task adds a tip, in minutes.
    tip_every_minutes: int = Field(10, ge=1, le=59)
