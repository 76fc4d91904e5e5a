"""gRPC adapter: protobench.v1.InferenceService, grpc.health.v1.Health and server reflection
on one ``grpc.aio`` server.

Why grpc.aio and not grpcio's thread pool: side by side on this machine (docs/grpc.md,
benchmarks/grpc_flavour.py) the two are close when the model is pure CPU and the server is
pinned to one core, the thread pool falls behind when its threads spread over cores, and with a
model that waits the pool is capped at threads / wait while aio is not. SO_REUSEPORT, which
grpcio turns on by default, is off unless the launcher asks for it (``--reuse-port``), so a
second server on a busy port fails instead of silently sharing it.
"""

from __future__ import annotations

import asyncio
import logging
import signal

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer  # what grpc_health.v1.health.aio names
from grpc_reflection.v1alpha import reflection

from protobench.core.service import InferenceService
from protobench.v1 import inference_pb2_grpc as pb_grpc
from servers.grpc_servicer import SERVICE_NAME, InferenceServicer
from servers.listen import Listen, announce

log = logging.getLogger(__name__)

GRACEFUL_SHUTDOWN_S = 10.0
HEALTH_SERVICE_NAME: str = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
# The names a health check may ask about: "" is the whole server.
HEALTH_NAMES = ("", SERVICE_NAME)


def address(listen: Listen) -> str:
    host = f"[{listen.host}]" if ":" in listen.host else listen.host
    return f"{host}:{listen.port}"


def server_options(service: InferenceService, listen: Listen) -> list[tuple[str, int]]:
    max_bytes = service.settings.max_body_bytes
    return [
        ("grpc.max_receive_message_length", max_bytes),
        ("grpc.max_send_message_length", max_bytes),
        ("grpc.so_reuseport", int(listen.reuse_port)),
    ]


async def build_server(
    service: InferenceService, listen: Listen
) -> tuple[grpc.aio.Server, HealthServicer, int]:
    """A bound, not yet started server with every service added, its health servicer (every
    name NOT_SERVING) and the bound port. Call it on the loop that will run the server."""
    server = grpc.aio.server(options=server_options(service, listen))
    servicer = InferenceServicer(service)
    pb_grpc.add_InferenceServiceServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
    health_servicer = HealthServicer()
    for name in HEALTH_NAMES:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, HEALTH_SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    try:
        port = server.add_insecure_port(address(listen))
    except RuntimeError:
        port = 0
    if not port:
        hint = "" if listen.reuse_port else ", or pass --reuse-port to share it on purpose"
        raise SystemExit(
            f"cannot listen on {address(listen)}: the address is in use or not available. "
            f"Choose another --port (0 picks a free one){hint}."
        )
    return server, health_servicer, port


async def serve_once_loaded(service: InferenceService, health_servicer: HealthServicer) -> None:
    """Load the models in the background (training may take seconds); then report SERVING."""
    loader = service.load_in_background()
    while loader.is_alive():
        await asyncio.sleep(0.05)
    if not service.ready:
        log.error("the models did not load; health stays NOT_SERVING")
        return
    for name in HEALTH_NAMES:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)


async def _serve(service: InferenceService, listen: Listen) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server, health_servicer, port = await build_server(service, listen)
    await server.start()
    loading = asyncio.create_task(serve_once_loaded(service, health_servicer))
    announce(listen, "grpc", port)
    await stop.wait()
    await health_servicer.enter_graceful_shutdown()
    await server.stop(GRACEFUL_SHUTDOWN_S)
    loading.cancel()


def serve(service: InferenceService, listen: Listen) -> None:
    """Serve until SIGINT/SIGTERM, then stop accepting calls and give in-flight ones
    ``GRACEFUL_SHUTDOWN_S`` to finish."""
    asyncio.run(_serve(service, listen))
