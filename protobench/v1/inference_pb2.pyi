from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TensorSpec(_message.Message):
    __slots__ = ("name", "dtype", "shape")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    dtype: str
    shape: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, name: _Optional[str] = ..., dtype: _Optional[str] = ..., shape: _Optional[_Iterable[int]] = ...) -> None: ...

class ModelMetadata(_message.Message):
    __slots__ = ("name", "task", "description", "versions", "default_version", "input", "labels")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VERSION_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    name: str
    task: str
    description: str
    versions: _containers.RepeatedScalarFieldContainer[str]
    default_version: str
    input: TensorSpec
    labels: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., task: _Optional[str] = ..., description: _Optional[str] = ..., versions: _Optional[_Iterable[str]] = ..., default_version: _Optional[str] = ..., input: _Optional[_Union[TensorSpec, _Mapping]] = ..., labels: _Optional[_Iterable[str]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ModelMetadata]
    def __init__(self, models: _Optional[_Iterable[_Union[ModelMetadata, _Mapping]]] = ...) -> None: ...

class GetModelRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class Instance(_message.Message):
    __slots__ = ("features",)
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, features: _Optional[_Iterable[float]] = ...) -> None: ...

class PredictRequest(_message.Message):
    __slots__ = ("model", "instances", "version", "caller")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    model: str
    instances: _containers.RepeatedCompositeFieldContainer[Instance]
    version: str
    caller: str
    def __init__(self, model: _Optional[str] = ..., instances: _Optional[_Iterable[_Union[Instance, _Mapping]]] = ..., version: _Optional[str] = ..., caller: _Optional[str] = ...) -> None: ...

class PredictImageRequest(_message.Message):
    __slots__ = ("model", "image", "version")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    model: str
    image: bytes
    version: str
    def __init__(self, model: _Optional[str] = ..., image: _Optional[bytes] = ..., version: _Optional[str] = ...) -> None: ...

class Prediction(_message.Message):
    __slots__ = ("label", "probabilities")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    label: str
    probabilities: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, label: _Optional[str] = ..., probabilities: _Optional[_Iterable[float]] = ...) -> None: ...

class PredictResponse(_message.Message):
    __slots__ = ("model", "version", "served_by", "predictions", "prediction_id", "arm")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SERVED_BY_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_ID_FIELD_NUMBER: _ClassVar[int]
    ARM_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: str
    served_by: str
    predictions: _containers.RepeatedCompositeFieldContainer[Prediction]
    prediction_id: str
    arm: str
    def __init__(self, model: _Optional[str] = ..., version: _Optional[str] = ..., served_by: _Optional[str] = ..., predictions: _Optional[_Iterable[_Union[Prediction, _Mapping]]] = ..., prediction_id: _Optional[str] = ..., arm: _Optional[str] = ...) -> None: ...

class PredictStreamResponse(_message.Message):
    __slots__ = ("response", "error")
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    response: PredictResponse
    error: StreamError
    def __init__(self, response: _Optional[_Union[PredictResponse, _Mapping]] = ..., error: _Optional[_Union[StreamError, _Mapping]] = ...) -> None: ...

class StreamError(_message.Message):
    __slots__ = ("code", "grpc_status", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    GRPC_STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    grpc_status: int
    message: str
    def __init__(self, code: _Optional[str] = ..., grpc_status: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class DeleteVersionRequest(_message.Message):
    __slots__ = ("model", "version")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: str
    def __init__(self, model: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class DeleteVersionResponse(_message.Message):
    __slots__ = ("model", "deleted_version", "versions")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DELETED_VERSION_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    model: str
    deleted_version: str
    versions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, model: _Optional[str] = ..., deleted_version: _Optional[str] = ..., versions: _Optional[_Iterable[str]] = ...) -> None: ...

class HealthRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class HealthResponse(_message.Message):
    __slots__ = ("live", "ready", "served_by", "models")
    LIVE_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    SERVED_BY_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    live: bool
    ready: bool
    served_by: str
    models: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, live: _Optional[bool] = ..., ready: _Optional[bool] = ..., served_by: _Optional[str] = ..., models: _Optional[_Iterable[str]] = ...) -> None: ...

class StrategyConfig(_message.Message):
    __slots__ = ("kind", "versions", "weights", "canary_percent", "max_error_rate", "min_calls", "bandit", "epsilon", "seed")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    CANARY_PERCENT_FIELD_NUMBER: _ClassVar[int]
    MAX_ERROR_RATE_FIELD_NUMBER: _ClassVar[int]
    MIN_CALLS_FIELD_NUMBER: _ClassVar[int]
    BANDIT_FIELD_NUMBER: _ClassVar[int]
    EPSILON_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    kind: str
    versions: _containers.RepeatedScalarFieldContainer[str]
    weights: _containers.RepeatedScalarFieldContainer[float]
    canary_percent: float
    max_error_rate: float
    min_calls: int
    bandit: str
    epsilon: float
    seed: int
    def __init__(self, kind: _Optional[str] = ..., versions: _Optional[_Iterable[str]] = ..., weights: _Optional[_Iterable[float]] = ..., canary_percent: _Optional[float] = ..., max_error_rate: _Optional[float] = ..., min_calls: _Optional[int] = ..., bandit: _Optional[str] = ..., epsilon: _Optional[float] = ..., seed: _Optional[int] = ...) -> None: ...

class VersionStats(_message.Message):
    __slots__ = ("version", "calls", "errors", "latency_ms_mean", "feedback", "reward_mean", "shadow_calls", "shadow_errors", "shadow_agreement", "shadow_latency_ms_mean")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CALLS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_MEAN_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    REWARD_MEAN_FIELD_NUMBER: _ClassVar[int]
    SHADOW_CALLS_FIELD_NUMBER: _ClassVar[int]
    SHADOW_ERRORS_FIELD_NUMBER: _ClassVar[int]
    SHADOW_AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    SHADOW_LATENCY_MS_MEAN_FIELD_NUMBER: _ClassVar[int]
    version: str
    calls: int
    errors: int
    latency_ms_mean: float
    feedback: int
    reward_mean: float
    shadow_calls: int
    shadow_errors: int
    shadow_agreement: float
    shadow_latency_ms_mean: float
    def __init__(self, version: _Optional[str] = ..., calls: _Optional[int] = ..., errors: _Optional[int] = ..., latency_ms_mean: _Optional[float] = ..., feedback: _Optional[int] = ..., reward_mean: _Optional[float] = ..., shadow_calls: _Optional[int] = ..., shadow_errors: _Optional[int] = ..., shadow_agreement: _Optional[float] = ..., shadow_latency_ms_mean: _Optional[float] = ...) -> None: ...

class StrategyStatus(_message.Message):
    __slots__ = ("model", "strategy", "stats", "event", "shadow_dropped")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    SHADOW_DROPPED_FIELD_NUMBER: _ClassVar[int]
    model: str
    strategy: StrategyConfig
    stats: _containers.RepeatedCompositeFieldContainer[VersionStats]
    event: str
    shadow_dropped: int
    def __init__(self, model: _Optional[str] = ..., strategy: _Optional[_Union[StrategyConfig, _Mapping]] = ..., stats: _Optional[_Iterable[_Union[VersionStats, _Mapping]]] = ..., event: _Optional[str] = ..., shadow_dropped: _Optional[int] = ...) -> None: ...

class GetStrategyRequest(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: str
    def __init__(self, model: _Optional[str] = ...) -> None: ...

class SetStrategyRequest(_message.Message):
    __slots__ = ("model", "strategy")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    model: str
    strategy: StrategyConfig
    def __init__(self, model: _Optional[str] = ..., strategy: _Optional[_Union[StrategyConfig, _Mapping]] = ...) -> None: ...

class PromoteRequest(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: str
    def __init__(self, model: _Optional[str] = ...) -> None: ...

class RollbackRequest(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: str
    def __init__(self, model: _Optional[str] = ...) -> None: ...

class FeedbackRequest(_message.Message):
    __slots__ = ("prediction_id", "reward")
    PREDICTION_ID_FIELD_NUMBER: _ClassVar[int]
    REWARD_FIELD_NUMBER: _ClassVar[int]
    prediction_id: str
    reward: float
    def __init__(self, prediction_id: _Optional[str] = ..., reward: _Optional[float] = ...) -> None: ...

class FeedbackResponse(_message.Message):
    __slots__ = ("prediction_id", "model", "version", "reward")
    PREDICTION_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    REWARD_FIELD_NUMBER: _ClassVar[int]
    prediction_id: str
    model: str
    version: str
    reward: float
    def __init__(self, prediction_id: _Optional[str] = ..., model: _Optional[str] = ..., version: _Optional[str] = ..., reward: _Optional[float] = ...) -> None: ...

class StoredPrediction(_message.Message):
    __slots__ = ("prediction_id", "job", "input_id", "model", "version", "label", "probabilities", "created_at")
    PREDICTION_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    INPUT_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    prediction_id: str
    job: str
    input_id: str
    model: str
    version: str
    label: str
    probabilities: _containers.RepeatedScalarFieldContainer[float]
    created_at: str
    def __init__(self, prediction_id: _Optional[str] = ..., job: _Optional[str] = ..., input_id: _Optional[str] = ..., model: _Optional[str] = ..., version: _Optional[str] = ..., label: _Optional[str] = ..., probabilities: _Optional[_Iterable[float]] = ..., created_at: _Optional[str] = ...) -> None: ...

class GetPredictionRequest(_message.Message):
    __slots__ = ("prediction_id",)
    PREDICTION_ID_FIELD_NUMBER: _ClassVar[int]
    prediction_id: str
    def __init__(self, prediction_id: _Optional[str] = ...) -> None: ...

class ListPredictionsRequest(_message.Message):
    __slots__ = ("job", "limit", "offset")
    JOB_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    job: str
    limit: int
    offset: int
    def __init__(self, job: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class ListPredictionsResponse(_message.Message):
    __slots__ = ("predictions",)
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    predictions: _containers.RepeatedCompositeFieldContainer[StoredPrediction]
    def __init__(self, predictions: _Optional[_Iterable[_Union[StoredPrediction, _Mapping]]] = ...) -> None: ...
