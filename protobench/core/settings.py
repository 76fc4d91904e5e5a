"""Settings read from arguments or PROTOBENCH_* environment variables, passed in explicitly."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from pydantic import Field, FilePath, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "PROTOBENCH_"


def default_models_dir() -> Path:
    """``$XDG_DATA_HOME/protobench/models`` (``~/.local/share/...`` when unset)."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "protobench" / "models"


def default_replica_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    models_dir: Path = Field(
        default_factory=default_models_dir,
        description="Where trained model artifacts are stored, one folder per model and version.",
    )
    replica_name: str = Field(
        default_factory=default_replica_name,
        description="The identity every prediction reports as `served_by`.",
    )
    model_delay_ms: float = Field(
        default=0.0,
        ge=0.0,
        le=60_000.0,
        description="A synthetic wait added to every prediction (emulates a slow model).",
    )
    model_workers: int = Field(
        default=0,
        ge=0,
        le=10_000,
        description="Most predictions computed at a time; more wait in arrival order "
        "(0: no limit). With model_service_ms, a replica's capacity is K x 1000 / S per second.",
    )
    model_service_ms: float = Field(
        default=0.0,
        ge=0.0,
        le=60_000.0,
        description="How long each prediction holds one of the model_workers, without "
        "burning CPU (emulates a model on a fixed pool of cores or one GPU).",
    )
    model_cpu_ms: float = Field(
        default=0.0,
        ge=0.0,
        le=10_000.0,
        description="CPU time each prediction burns (emulates a CPU-bound model).",
    )
    max_batch: int = Field(default=1000, ge=1, description="Most instances in one predict call.")
    max_image_bytes: int = Field(
        default=2 * 1024 * 1024, ge=1, description="Largest encoded image accepted."
    )
    max_image_pixels: int = Field(
        default=4096 * 4096, ge=64, description="Largest decoded image (width x height) accepted."
    )
    max_body_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        description="Largest request body (HTTP) or message (gRPC) accepted.",
    )

    # -- deployment strategies and batch predictions ---------------------------------------------
    predictions_db: str | None = Field(
        default=None,
        description="Where get_prediction and list_predictions read the batch predictions: a "
        "SQLAlchemy URL or redis://host:port/db; default sqlite:///<models_dir's "
        "parent>/predictions.db.",
    )
    shadow_queue: int = Field(
        default=1000, ge=1, description="Shadow copies waiting to be scored before new ones drop."
    )

    @property
    def predictions_url(self) -> str:
        return self.predictions_db or f"sqlite:///{self.models_dir.parent / 'predictions.db'}"

    # -- security -----------------------------------------------------------------------------
    api_key: SecretStr | None = Field(
        default=None,
        description="When set, every operation except health needs 'Authorization: Bearer <key>' "
        "(gRPC: metadata 'authorization'). Off by default.",
    )
    tls_cert_file: FilePath | None = Field(
        default=None, description="PEM certificate (chain) to serve TLS with; needs tls_key_file."
    )
    tls_key_file: FilePath | None = Field(default=None, description="PEM private key of the cert.")

    # -- HTTP servers (REST, GraphQL, JSON-RPC) ---------------------------------------------------
    http_max_header_bytes: int = Field(
        default=32 * 1024,
        ge=1024,
        description="Largest request line and headers accepted (431 above).",
    )
    http_header_timeout_s: float = Field(
        default=10.0, gt=0, description="Time a request's headers may take to arrive (408)."
    )
    http_body_timeout_s: float = Field(
        default=30.0, gt=0, description="Time a request's body may take after its headers (408)."
    )
    http_keep_alive_s: int = Field(
        default=5,
        ge=1,
        description="Seconds an idle keep-alive connection stays open (a balancer in front "
        "closes its idle connections to the replica sooner, so none is reused as it closes).",
    )
    http_max_connections: int = Field(
        default=1000,
        ge=1,
        description="Open connections per replica; more are answered 503 at once (kept below "
        "the file-descriptor limit).",
    )

    # -- gRPC ---------------------------------------------------------------------------------
    grpc_workers: int = Field(default=64, ge=1, description="Threads serving gRPC calls.")
    grpc_max_concurrent_streams: int = Field(
        default=100, ge=1, description="Most calls in flight on one HTTP/2 connection."
    )

    # -- GraphQL ------------------------------------------------------------------------------
    graphql_introspection: bool = Field(default=True, description="Allow schema introspection.")
    graphql_max_depth: int = Field(default=8, ge=1, description="Deepest query accepted.")
    graphql_max_tokens: int = Field(default=1000, ge=10, description="Most tokens in a query.")
    graphql_max_aliases: int = Field(default=10, ge=0, description="Most aliases in a query.")
    graphql_max_fields: int = Field(
        default=1000,
        ge=1,
        description="Most fields a query selects once its fragments are expanded (a query "
        "without fragments stays under it by the token limit; reused fragments multiply).",
    )
    graphql_max_query_bytes: int = Field(
        default=16 * 1024, ge=256, description="Longest query document accepted (bytes)."
    )

    # -- MQTT ---------------------------------------------------------------------------------
    mqtt_broker: str | None = Field(
        default=None,
        description="mqtt://host:port of the broker the MQTT adapter uses; unset: it starts an "
        "embedded broker (amqtt, MQTT 3.1.1) on its own port.",
    )

    # -- JSON-RPC -----------------------------------------------------------------------------
    jsonrpc_max_batch: int = Field(default=100, ge=1, description="Most calls in one batch.")

    @field_validator("api_key", mode="before")
    @classmethod
    def _empty_key_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _service_time_needs_workers(self) -> Settings:
        if self.model_service_ms and not self.model_workers:
            raise ValueError(
                "model_service_ms is the time a prediction holds one of model_workers; "
                "set model_workers too (for a plain wait without a worker limit, use "
                "model_delay_ms)"
            )
        return self

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("TLS needs both a certificate and a key file")
        return self


def settings_problem(error: ValidationError) -> str:
    """What is wrong with the settings, for a person: each bad field with its environment
    variable (where a setting usually comes from) and the value given, e.g.
    ``http_keep_alive_s (PROTOBENCH_HTTP_KEEP_ALIVE_S) is '0': Input should be greater than or
    equal to 1``; a check across fields by its message alone."""
    problems = []
    for problem in error.errors():
        message = str(problem["msg"]).removeprefix("Value error, ")
        if problem["loc"]:
            field = ".".join(map(str, problem["loc"]))
            given = problem["input"]
            message = f"{field} ({ENV_PREFIX}{field.upper()}) is {given!r}: {message}"
        problems.append(message)
    return "; ".join(problems)
