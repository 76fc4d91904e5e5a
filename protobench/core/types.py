"""The values the service takes and returns; every protocol encodes exactly these fields."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

Task = Literal["tabular-classification", "image-classification"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TensorSpec(_Frozen):
    """The input a model expects: a name, an element type and a shape (-1 is the batch axis)."""

    name: str
    dtype: str
    shape: list[int]


class ModelMetadata(_Frozen):
    name: str
    task: Task
    description: str
    versions: list[str] = Field(description="Versions this server can serve, oldest first.")
    default_version: str = Field(description="The version used when a request names none.")
    input: TensorSpec
    labels: list[str] = Field(description="Class names, in the order of every probabilities list.")


class Prediction(_Frozen):
    label: str
    probabilities: list[float] = Field(description="One per class, in the order of `labels`.")


class PredictResponse(_Frozen):
    model: str
    version: str
    served_by: str = Field(description="The replica that answered (host:pid or a given name).")
    predictions: list[Prediction]
    prediction_id: str = Field(
        default="", description="Names this answer for `feedback`; unique per call."
    )
    arm: str = Field(
        default="",
        description="Why this version answered: `requested`, `single`, or `<strategy>:<arm>` "
        "such as `canary:candidate` or `bandit:explore`.",
    )


class PredictAnswer(NamedTuple):
    """One prediction's fields as plain values, before any pydantic model.

    ``predict`` validates them into a ``PredictResponse`` once; an adapter that writes its own
    wire format (protobuf, JSON bytes) can take these instead and skip building, then reading,
    a model per row. ``probabilities`` holds one row per instance, empty rows when they were
    not asked for; floats are the model's doubles, unrounded. A named tuple: a third of
    the cost of building a frozen dataclass, on every predict."""

    model: str
    version: str
    served_by: str
    labels: list[str]
    probabilities: list[list[float]]
    prediction_id: str
    arm: str

    def predictions(self) -> list[dict[str, Any]]:
        return [
            {"label": label, "probabilities": row}
            for label, row in zip(self.labels, self.probabilities, strict=True)
        ]

    def fields(self) -> dict[str, Any]:
        """The ``PredictResponse`` fields, in its order, as plain JSON-ready values."""
        return {
            "model": self.model,
            "version": self.version,
            "served_by": self.served_by,
            "predictions": self.predictions(),
            "prediction_id": self.prediction_id,
            "arm": self.arm,
        }

    def response(self) -> PredictResponse:
        # One validation pass over plain values: cheaper than building each model by hand.
        return PredictResponse.model_validate(self.fields())

    @classmethod
    def of(cls, response: PredictResponse) -> PredictAnswer:
        """The plain fields of an answer the core built as a model (an image predict)."""
        rows = response.predictions
        return cls(
            response.model,
            response.version,
            response.served_by,
            [p.label for p in rows],
            [p.probabilities for p in rows],
            response.prediction_id,
            response.arm,
        )


class DeleteVersionResponse(_Frozen):
    model: str
    deleted_version: str
    versions: list[str] = Field(description="Versions still served after the deletion.")


class Health(_Frozen):
    live: bool
    ready: bool
    served_by: str
    models: list[str] = Field(description="Models loaded and ready to serve.")


# -- deployment strategies ----------------------------------------------------------------------

StrategyKind = Literal["single", "shadow", "ab", "canary", "bandit"]
BanditAlgorithm = Literal["epsilon_greedy", "thompson"]


class StrategyConfig(_Frozen):
    """How a model's requests that name no version are routed (checked by the core, not here,
    so every protocol reports a bad configuration the same way)."""

    kind: StrategyKind = "single"
    versions: list[str] = Field(
        default_factory=list,
        description="single: [version] or [] (the default version); shadow and canary: "
        "[stable, candidate]; ab and bandit: the arms (two or more).",
    )
    weights: list[float] = Field(
        default_factory=list, description="ab: one weight per version; [] splits evenly."
    )
    canary_percent: float = Field(default=10.0, description="canary: % of calls to the candidate.")
    max_error_rate: float = Field(
        default=0.2, description="canary: rolled back once the candidate's error rate passes this."
    )
    min_calls: int = Field(
        default=20, description="canary: calls to the candidate before its error rate is judged."
    )
    bandit: BanditAlgorithm = "epsilon_greedy"
    epsilon: float = Field(default=0.1, description="bandit epsilon_greedy: exploration share.")
    seed: int = Field(default=0, description="Seeds every random choice: runs are repeatable.")


class VersionStats(_Frozen):
    """What one version did since the model's strategy was last set."""

    version: str
    calls: int
    errors: int
    latency_ms_mean: float
    feedback: int = Field(description="Rewards received through `feedback`.")
    reward_mean: float
    shadow_calls: int = Field(description="Copies of requests this version scored as a shadow.")
    shadow_errors: int
    shadow_agreement: float = Field(
        description="Share of shadowed rows where this version's label equals the primary's."
    )
    shadow_latency_ms_mean: float


class StrategyStatus(_Frozen):
    model: str
    strategy: StrategyConfig
    stats: list[VersionStats]
    event: str = Field(
        description="The last change not made by set_strategy (promote, rollback, automatic "
        "rollback), or empty."
    )
    shadow_dropped: int = Field(description="Shadow copies dropped because the queue was full.")


class FeedbackResponse(_Frozen):
    prediction_id: str
    model: str
    version: str
    reward: float


class StoredPrediction(_Frozen):
    """One row a batch job wrote; its id is ``<job>/<input_id>``."""

    prediction_id: str
    job: str
    input_id: str
    model: str
    version: str
    label: str
    probabilities: list[float]
    created_at: str = Field(description="When the row was scored, ISO 8601 in UTC.")
