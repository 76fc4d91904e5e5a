"""Settings read from arguments or PROTOBENCH_* environment variables, passed in explicitly."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_models_dir() -> Path:
    """``$XDG_DATA_HOME/protobench/models`` (``~/.local/share/...`` when unset)."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "protobench" / "models"


def default_replica_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PROTOBENCH_", extra="ignore")

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

    # -- gRPC ---------------------------------------------------------------------------------
    grpc_workers: int = Field(default=16, ge=1, description="Threads serving gRPC calls.")

    # -- GraphQL ------------------------------------------------------------------------------
    graphql_introspection: bool = Field(default=True, description="Allow schema introspection.")
    graphql_max_depth: int = Field(default=8, ge=1, description="Deepest query accepted.")
    graphql_max_tokens: int = Field(default=1000, ge=10, description="Most tokens in a query.")
    graphql_max_aliases: int = Field(default=10, ge=0, description="Most aliases in a query.")
    graphql_max_query_bytes: int = Field(
        default=16 * 1024, ge=256, description="Longest query document accepted (bytes)."
    )

    # -- JSON-RPC -----------------------------------------------------------------------------
    jsonrpc_max_batch: int = Field(default=100, ge=1, description="Most calls in one batch.")
