"""Where the time of one OIP gRPC ``ModelInfer`` goes, stage by stage, beside our gRPC ``Predict``.

In process, no network: the same iris row (version 1) is taken through each stage of both
servicers many times, and the CPU time per call is printed in microseconds, side by side:

  parse      the request bytes into the message (what grpcio's deserializer does)
  decode     the message into the core's arguments (tensor header and bytes, checks)
  core       ``InferenceService.predict`` with those arguments, answering plain values
             (``PredictAnswer``) as both servicers ask it to
  answer     the core's answer into the response message
  serialise  the response message into bytes (what grpcio's serializer does)
  servicer   the servicer method, whole (decode, core and answer, with the error mapping),
             against a stand-in context

The bodies are what ``benchmarks/peers.py`` sends: ``ModelInfer`` as tritonclient.grpc sends
it by default (``raw_input_contents``) and with typed ``fp64_contents``, ``Predict`` with one
instance. Each stage is timed in batches of ``--calls`` calls, the three bodies alternating
batch by batch (forwards, then backwards), ``--rounds`` times; the table shows the best round
(the least disturbed by other processes, the steadiest figure on a shared machine), the median
round, and each ``ModelInfer``'s best minus ``Predict``'s.

    flock /tmp/protobench-bench.lock .venv/bin/python benchmarks/oip_grpc_stages.py

About 30 s. Numbers go to docs/performance.md.
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
    predict_answer_to_pb,
    predict_request_to_pb,
    version_from_pb,
)
from protobench.v1 import inference_pb2 as pb
from protobench.v1 import open_inference_pb2 as oip
from servers.grpc_servicer import InferenceServicer
from servers.oip_grpc_server import OipServicer, decode_request, encode_response
from servers.oip_infer import plan
from servers.oip_infer import predict as oip_predict

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


def oip_path(service: InferenceService, raw: bool) -> Path:
    """``ModelInfer`` with the row in ``raw_input_contents`` (tritonclient.grpc's default) or in
    the typed ``fp64_contents`` (what peers.py also sends MLServer)."""
    tensor = oip.ModelInferRequest.InferInputTensor(name="features", datatype="FP64", shape=[1, 4])
    if not raw:
        tensor.contents.fp64_contents.extend(ROW)
    message = oip.ModelInferRequest(model_name="iris", model_version=VERSION, inputs=[tensor])
    if raw:
        message.raw_input_contents.append(np.asarray([ROW], dtype="<f8").tobytes())
    body = message.SerializeToString()
    request = oip.ModelInferRequest.FromString(body)
    call = plan(service, decode_request(request))
    answer = oip_predict(service, call)
    response = encode_response(call, answer)
    servicer, context = OipServicer(service), StandIn()
    return Path(
        f"ModelInfer {'raw' if raw else 'typed'}",
        {
            "parse": lambda: oip.ModelInferRequest.FromString(body),
            "decode": lambda: plan(service, decode_request(request)),
            "core": lambda: oip_predict(service, call),
            "answer": lambda: encode_response(call, answer),
            "serialise": response.SerializeToString,
        },
        lambda: servicer.ModelInfer(request, context),  # type: ignore[arg-type]
    )


def grpc_path(service: InferenceService) -> Path:
    body = predict_request_to_pb("iris", [ROW], VERSION).SerializeToString()
    request = pb.PredictRequest.FromString(body)
    instances = instances_from_pb(request)
    answer = service.predict("iris", instances, VERSION, None, plain=True)
    response = predict_answer_to_pb(answer)
    servicer, context = InferenceServicer(service), StandIn()
    predict: Callable[[Any, Any], object] = servicer.Predict
    return Path(
        "Predict",
        {
            "parse": lambda: pb.PredictRequest.FromString(body),
            "decode": lambda: (
                instances_from_pb(request),
                version_from_pb(request),
                caller_from_pb(request),
            ),
            "core": lambda: service.predict("iris", instances, VERSION, None, plain=True),
            "answer": lambda: predict_answer_to_pb(answer),
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
        order = paths if round_ % 2 == 0 else paths[::-1]  # A B C, then C B A
        for stage in (*STAGES, "servicer"):
            for path in order:
                work = path.servicer if stage == "servicer" else path.stages[stage]
                path.seconds.setdefault(stage, []).append(per_call(work, calls))


def table(paths: list[Path]) -> list[str]:
    """Best and median of each path per stage, and each ModelInfer's best minus Predict's."""
    *oip_paths, reference = paths
    names = " | ".join(f"{p.name} best | median" for p in paths)
    differences = " | ".join(f"{p.name} − {reference.name}" for p in oip_paths)
    columns = 2 * len(paths) + len(oip_paths) + 1
    lines = [f"| µs per call | {names} | {differences} |", "|---" * columns + "|"]

    def row(stage: str, best: list[float], medians: list[str]) -> str:
        shown = " | ".join(f"{b:.1f} | {m}" for b, m in zip(best, medians, strict=True))
        gaps = " | ".join(f"{b - best[-1]:+.1f}" for b in best[:-1])
        return f"| {stage} | {shown} | {gaps} |"

    totals = [0.0] * len(paths)
    for stage in (*STAGES, "servicer"):
        best = [min(p.seconds[stage]) * 1e6 for p in paths]
        medians = [f"{statistics.median(p.seconds[stage]) * 1e6:.1f}" for p in paths]
        if stage != "servicer":
            totals = [t + b for t, b in zip(totals, best, strict=True)]
        lines.append(row(stage, best, medians))
    lines.append(row("sum of the stages", totals, ["–"] * len(paths)))
    adapter = [min(p.seconds["servicer"]) * 1e6 - min(p.seconds["core"]) * 1e6 for p in paths]
    lines.append(row("servicer − core (the adapter)", adapter, ["–"] * len(paths)))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per timed batch (2000)")
    parser.add_argument("--rounds", type=int, default=9, help="batches per stage and side (9)")
    args = parser.parse_args()
    service = InferenceService(Settings())
    service.load()  # trains and stores the models on first use
    paths = [oip_path(service, raw=True), oip_path(service, raw=False), grpc_path(service)]
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
