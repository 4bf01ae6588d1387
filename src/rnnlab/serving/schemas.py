"""The service's request and response bodies (pydantic: validated, and documented in the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PredictRequest(BaseModel):
    """One text (``text``), several (``texts``), or for a forecaster the history as CSV text (``csv``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "Maria Lopez flew from Madrid to Tokyo ."},
                                        {"texts": ["A fine film.", "Dull."]}, {"csv": "date,OT\n..."}]},
    )  # fmt: skip
    text: str | None = Field(None, description="One text (tagger, classifier, extractor).")
    texts: list[str] | None = Field(None, description="Several texts, answered in order.")
    csv: str | None = Field(None, description="Forecaster: CSV text with the columns the model was fitted on.")


class PredictResponse(BaseModel):
    model: str
    task: str
    results: list[Any] = Field(description="One result per text (or one per CSV), in the request's order.")
    milliseconds: float = Field(description="Time spent in the model, batching wait included.")


class ModelInfo(BaseModel):
    name: str
    task: str
    directory: str
    input: str = Field(description="The request field this model reads: texts or csv.")
    config: dict[str, Any]
    metrics: dict[str, Any] = Field(description="What was measured when the model was trained.")


class Problem(BaseModel):
    detail: str
