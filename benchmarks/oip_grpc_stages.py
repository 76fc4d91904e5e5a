"""Where the time of one OIP gRPC ``ModelInfer`` goes, stage by stage, beside our gRPC ``Predict``.

In process, no network: the same iris row (version 1) is taken through each stage of both
servicers many times, and the CPU time per call is printed in microseconds, side by side:

  parse      the request bytes into the message (what grpcio's deserializer does)
  decode     the message into the core's arguments (tensor header and bytes, checks)
  core       ``InferenceService.predict`` with those arguments
  answer     the core's answer into the response message
  serialise  the response message into bytes (what grpcio's serializer does)
  servicer   the servicer method, whole (decode, core and answer, with the error mapping),
             against a stand-in context

Both bodies are what ``benchmarks/peers.py`` sends: ``ModelInfer`` as tritonclient.grpc sends
it by default (``raw_input_contents``), ``Predict`` with one instance. Each stage is timed in
batches of ``--calls`` calls, the two servicers alternating batch by batch, ``--rounds``
times; the table shows the best round (the least disturbed by other processes, the steadiest
figure on a shared machine) and the median round.

    flock /tmp/protobench-bench.lock .venv/bin/python benchmarks/oip_grpc_stages.py

About 20 s. Numbers go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

import grpc
import numpy as np

from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from protobench.proto_convert import (
    caller_from_pb,
    instances_from_pb,
    predict_request_to_pb,
    predict_response_to_pb,
    version_from_pb,
)
from protobench.v1 import inference_pb2 as pb
from protobench.v1 import open_inference_pb2 as oip
from servers.grpc_servicer import InferenceServicer
from servers.oip_grpc_server import OipServicer, decode_request, encode_response
from servers.oip_infer import plan

ROW = [5.1, 3.5, 1.4, 0.2]
VERSION = "1"
STAGES = ("parse", "decode", "core", "answer", "serialise")


class StandIn:
    """The parts of ``grpc.ServicerContext`` the servicers touch on a good call."""

    def time_remaining(self) -> float | None:
        return None

    def is_active(self) -> bool:
        return True

    def set_trailing_metadata(self, metadata: Any) -> None:
        pass

    def abort(self, code: grpc.StatusCode, details: str) -> NoReturn:
        raise RuntimeError(f"{code.name}: {details}")


@dataclass
class Path:
    """One servicer's stages: each a call on the previous stage's (precomputed) output."""

    name: str
    stages: dict[str, Callable[[], object]]
    servicer: Callable[[], object]
    seconds: dict[str, list[float]] = field(default_factory=dict)


def oip_path(service: InferenceService) -> Path:
    tensor = oip.ModelInferRequest.InferInputTensor(name="features", datatype="FP64", shape=[1, 4])
    message = oip.ModelInferRequest(model_name="iris", model_version=VERSION, inputs=[tensor])
    message.raw_input_contents.append(np.asarray([ROW], dtype="<f8").tobytes())
    body = message.SerializeToString()
    request = oip.ModelInferRequest.FromString(body)
    call = plan(service, decode_request(request))
    assert call.features is not None
    features = call.features
    answer = service.predict("iris", features, VERSION, None, probabilities=call.probabilities)
    response = encode_response(call, answer)
    servicer, context = OipServicer(service), StandIn()
    return Path(
        "oip-grpc ModelInfer",
        {
            "parse": lambda: oip.ModelInferRequest.FromString(body),
            "decode": lambda: plan(service, decode_request(request)),
            "core": lambda: service.predict(
                "iris", features, VERSION, None, probabilities=call.probabilities
            ),
            "answer": lambda: encode_response(call, answer),
            "serialise": response.SerializeToString,
        },
        lambda: servicer.ModelInfer(request, context),  # type: ignore[arg-type]
    )


def grpc_path(service: InferenceService) -> Path:
    body = predict_request_to_pb("iris", [ROW], VERSION).SerializeToString()
    request = pb.PredictRequest.FromString(body)
    instances = instances_from_pb(request)
    answer = service.predict("iris", instances, VERSION, None)
    response = predict_response_to_pb(answer)
    servicer, context = InferenceServicer(service), StandIn()
    predict: Callable[[Any, Any], object] = servicer.Predict  # type: ignore[attr-defined]
    return Path(
        "grpc Predict",
        {
            "parse": lambda: pb.PredictRequest.FromString(body),
            "decode": lambda: (
                instances_from_pb(request),
                version_from_pb(request),
                caller_from_pb(request),
            ),
            "core": lambda: service.predict("iris", instances, VERSION, None),
            "answer": lambda: predict_response_to_pb(answer),
            "serialise": response.SerializeToString,
        },
        lambda: predict(request, context),
    )


def per_call(work: Callable[[], object], calls: int) -> float:
    """CPU seconds per call: the process's CPU clock, which does not run while other processes
    hold the core (wall time on a shared machine swung 1.5x between runs)."""
    started = time.process_time()
    for _ in range(calls):
        work()
    return (time.process_time() - started) / calls


def measure(paths: list[Path], calls: int, rounds: int) -> None:
    for path in paths:  # warm-up: caches, branch predictors, lazily built descriptors
        for work in (*path.stages.values(), path.servicer):
            per_call(work, calls)
    for round_ in range(rounds):
        order = paths if round_ % 2 == 0 else paths[::-1]  # A B, then B A
        for stage in (*STAGES, "servicer"):
            for path in order:
                work = path.servicer if stage == "servicer" else path.stages[stage]
                path.seconds.setdefault(stage, []).append(per_call(work, calls))


def table(paths: list[Path]) -> list[str]:
    names = " | ".join(f"{p.name} best | median" for p in paths)
    lines = [f"| µs per call | {names} | difference (best) |", "|---" * (2 * len(paths) + 2) + "|"]

    def cells(stage: str) -> tuple[list[float], str]:
        best = [min(p.seconds[stage]) * 1e6 for p in paths]
        shown = " | ".join(
            f"{min(p.seconds[stage]) * 1e6:.1f} | {statistics.median(p.seconds[stage]) * 1e6:.1f}"
            for p in paths
        )
        return best, shown

    totals = [0.0] * len(paths)
    for stage in (*STAGES, "servicer"):
        best, shown = cells(stage)
        if stage != "servicer":
            totals = [t + b for t, b in zip(totals, best, strict=True)]
        lines.append(f"| {stage} | {shown} | {best[0] - best[1]:+.1f} |")
    sums = " | ".join(f"{t:.1f} | –" for t in totals)
    lines.append(f"| sum of the stages | {sums} | {totals[0] - totals[1]:+.1f} |")
    adapter = [min(p.seconds["servicer"]) * 1e6 - min(p.seconds["core"]) * 1e6 for p in paths]
    shares = " | ".join(f"{a:.1f} | –" for a in adapter)
    lines.append(f"| servicer − core (the adapter) | {shares} | {adapter[0] - adapter[1]:+.1f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per timed batch (2000)")
    parser.add_argument("--rounds", type=int, default=9, help="batches per stage and side (9)")
    args = parser.parse_args()
    service = InferenceService(Settings())
    service.load()  # trains and stores the models on first use
    paths = [oip_path(service), grpc_path(service)]
    measure(paths, args.calls, args.rounds)
    load = os.getloadavg()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()}; load average {load[0]:.1f} {load[1]:.1f} "
        f"{load[2]:.1f}; {args.rounds} rounds of {args.calls} calls per stage and side"
    )
    print("", *table(paths), sep="\n")


if __name__ == "__main__":
    main()
