"""gRPC adapter: protobench.v1.InferenceService, grpc.health.v1.Health and server reflection
on one grpcio server.

The server is grpcio's synchronous flavour, a thread pool of ``settings.grpc_workers``: side
by side with ``grpc.aio`` on this machine it answered about 1.2x the predicts per second with a
pure-CPU model, and as many with a model that waits, as long as the pool has a thread for every
call in flight (docs/grpc.md, benchmarks/grpc_flavour.py). SO_REUSEPORT, which grpcio turns on
by default, is off unless the launcher asks for it (``--reuse-port``), so a second server on a
busy port fails instead of silently sharing it.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from protobench.v1 import inference_pb2_grpc as pb_grpc
from servers.grpc_guard import CallGuard
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
    settings = service.settings
    return [
        ("grpc.max_receive_message_length", settings.max_body_bytes),
        ("grpc.max_send_message_length", settings.max_body_bytes),
        ("grpc.max_concurrent_streams", settings.grpc_max_concurrent_streams),
        ("grpc.so_reuseport", int(listen.reuse_port)),
    ]


def credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS credentials from the settings' PEM files, or None to listen in plain text."""
    if settings.tls_cert_file is None or settings.tls_key_file is None:
        return None
    pair = (settings.tls_key_file.read_bytes(), settings.tls_cert_file.read_bytes())
    return grpc.ssl_server_credentials([pair])


Register = Callable[[grpc.Server], str]
"""Adds a protocol's servicer to a server and returns the service's full name."""


def add_inference_service(service: InferenceService) -> Register:
    def register(server: grpc.Server) -> str:
        servicer = InferenceServicer(service)
        pb_grpc.add_InferenceServiceServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
        return SERVICE_NAME

    return register


def build_server(
    service: InferenceService, listen: Listen, register: Register | None = None
) -> tuple[grpc.Server, health.HealthServicer, int]:
    """A bound, not yet started server with the protocol's service (protobench's unless
    ``register`` adds another), health (every name NOT_SERVING) and reflection, its health
    servicer and the bound port."""
    workers = ThreadPoolExecutor(
        max_workers=service.settings.grpc_workers, thread_name_prefix="protobench-grpc"
    )
    server = grpc.server(
        workers,
        options=server_options(service, listen),
        interceptors=[CallGuard(service.settings.api_key)],
    )
    name = (register or add_inference_service(service))(server)
    health_servicer = health.HealthServicer()
    for health_name in ("", name):
        health_servicer.set(health_name, health_pb2.HealthCheckResponse.NOT_SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (name, HEALTH_SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    try:
        tls = credentials(service.settings)
        if tls is None:
            port = server.add_insecure_port(address(listen))
        else:
            port = server.add_secure_port(address(listen), tls)
    except RuntimeError:
        port = 0
    if not port:
        hint = "" if listen.reuse_port else ", or pass --reuse-port to share it on purpose"
        raise SystemExit(
            f"cannot listen on {address(listen)}: the address is in use or not available. "
            f"Choose another --port (0 picks a free one){hint}."
        )
    return server, health_servicer, port


def start_loading(
    service: InferenceService,
    health_servicer: health.HealthServicer,
    names: tuple[str, ...] = HEALTH_NAMES,
) -> None:
    """Load the models in the background; health reports SERVING once they are in."""
    loader = service.load_in_background()

    def report() -> None:
        loader.join()
        if not service.ready:
            log.error("the models did not load; health stays NOT_SERVING")
            return
        for name in names:
            health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)

    threading.Thread(target=report, name="protobench-health", daemon=True).start()


def serve(service: InferenceService, listen: Listen) -> None:
    run_server(service, listen, "grpc", add_inference_service(service))


def run_server(
    service: InferenceService, listen: Listen, protocol: str, register: Register
) -> None:
    """Serve until SIGINT/SIGTERM, then stop accepting calls and give in-flight ones
    ``GRACEFUL_SHUTDOWN_S`` to finish."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    names = [""]

    def registering(server: grpc.Server) -> str:
        names.append(register(server))
        return names[-1]

    server, health_servicer, port = build_server(service, listen, registering)
    server.start()
    start_loading(service, health_servicer, tuple(names))
    announce(listen, protocol, port)
    stop.wait()
    health_servicer.enter_graceful_shutdown()
    server.stop(GRACEFUL_SHUTDOWN_S).wait()
