"""The model's resource options, shared by ``serve`` and ``bench`` (docs/scaling.md)."""

from __future__ import annotations

import argparse
from typing import Any

# option -> the Settings field it sets
MODEL_OPTIONS = {
    "--model-workers": "model_workers",
    "--model-service-ms": "model_service_ms",
    "--model-cpu-ms": "model_cpu_ms",
}


def add_model_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Defaults are None, so ``serve`` falls back to PROTOBENCH_* variables; unset = off."""
    parser.add_argument(
        "--model-workers",
        type=int,
        metavar="K",
        help="capacity-limited model: at most K predictions at a time per replica, the rest "
        "queue in arrival order (env PROTOBENCH_MODEL_WORKERS; 0 = no limit)",
    )
    parser.add_argument(
        "--model-service-ms",
        type=float,
        metavar="S",
        help="each prediction holds one of the K workers for S ms without burning CPU, so a "
        "replica serves at most K x 1000 / S per second (needs --model-workers)",
    )
    parser.add_argument(
        "--model-cpu-ms",
        type=float,
        metavar="C",
        help="CPU-bound model: each prediction burns C ms of CPU time (pair it with "
        "--replica-cpus to give each replica a fixed share of the machine)",
    )


def model_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The Settings fields the options set (the ones given)."""
    return {
        field: value
        for option, field in MODEL_OPTIONS.items()
        if (value := getattr(args, field)) is not None
    }


def model_serve_args(args: argparse.Namespace) -> list[str]:
    """The options again, as a replica's command line."""
    return [
        item
        for option, field in MODEL_OPTIONS.items()
        if (value := getattr(args, field)) is not None
        for item in (option, str(value))
    ]


def model_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the options together (checked before any replica starts)."""
    from pydantic import ValidationError

    from protobench.core.settings import Settings, settings_problem

    try:
        Settings(**model_overrides(args))
    except ValidationError as exc:
        return settings_problem(exc)
    return None
