"""``protobench models`` and ``protobench predict``: call a running server with its client."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from protobench.commands.common import add_client_options, open_client, show, target_of


def register(commands: Any) -> None:
    models = commands.add_parser(
        "models",
        help="list the models a server holds",
        description="List every model with its versions, input and labels.",
    )
    add_client_options(models)
    models.set_defaults(run=run_models)

    predict = commands.add_parser(
        "predict",
        help="send a prediction",
        description="Send features (repeat --features for a batch) or an image file and print "
        "the predicted label with each class probability.",
    )
    add_client_options(predict)
    predict.add_argument("--model", default="iris", help="model name (iris or digits)")
    predict.add_argument("--version", help="model version (default: the model's strategy chooses)")
    predict.add_argument("--caller", help="A/B stickiness key: one caller meets one version")
    source = predict.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--features",
        action="append",
        metavar="X1,X2,...",
        help="one instance as comma-separated numbers; repeat for a batch",
    )
    source.add_argument("--image", type=Path, help="a PNG or JPEG file (digits model)")
    predict.set_defaults(run=run_predict)


def run_models(args: argparse.Namespace) -> int:
    from rich.table import Table

    with open_client(args) as client:
        models = client.list_models()
    if args.json:
        print(json.dumps([m.model_dump() for m in models], indent=2))
        return 0
    table = Table(title=f"models at {target_of(args)} ({args.protocol})")
    for column in ("name", "task", "versions", "default", "input shape", "labels"):
        table.add_column(column)
    for m in models:
        table.add_row(
            m.name,
            m.task,
            ", ".join(m.versions),
            m.default_version,
            str(m.input.shape),
            ", ".join(m.labels),
        )
    show(table)
    return 0


def _parse_features(raw: list[str]) -> list[list[float]]:
    rows = []
    for text in raw:
        try:
            rows.append([float(x) for x in text.split(",") if x.strip()])
        except ValueError:
            raise SystemExit(
                f"protobench: --features {text!r} is not a comma-separated list of numbers"
            ) from None
    return rows


def run_predict(args: argparse.Namespace) -> int:
    from rich.table import Table

    with open_client(args) as client:
        if args.image is not None:
            try:
                image = args.image.read_bytes()
            except OSError as exc:
                raise SystemExit(f"protobench: cannot read {args.image}: {exc.strerror}") from None
            response = client.predict_image(args.model, image, args.version)
        else:
            rows = _parse_features(args.features)
            response = client.predict(args.model, rows, args.version, args.caller)
        labels = client.get_model(response.model).labels
    if args.json:
        print(response.model_dump_json(indent=2))
        return 0
    table = Table(
        title=f"{response.model} v{response.version} · served by {response.served_by} "
        f"· {args.protocol}",
        caption=f"prediction {response.prediction_id} · {response.arm}",
    )
    table.add_column("#", justify="right")
    table.add_column("label", style="bold")
    for name in labels:
        table.add_column(f"p({name})", justify="right")
    for i, prediction in enumerate(response.predictions):
        table.add_row(str(i), prediction.label, *(f"{p:.4f}" for p in prediction.probabilities))
    show(table)
    return 0
