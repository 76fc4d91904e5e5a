"""The embedded MQTT broker ``serve --protocol mqtt`` starts when no ``--broker`` is given, so
``make demo`` and the tests need nothing installed: amqtt, the maintained Python broker, on its
own asyncio loop in a thread. It speaks MQTT 3.1.1 only (it refuses protocol level 5); MQTT 5
callers need an external broker such as mosquitto (``--broker mqtt://host:port``).

We bind the listening socket ourselves (``servers.listen``) and hand amqtt each connection
through its "external" listener: ``--port 0`` is resolved by the kernel, and with
``--reuse-port`` replicas share the port, each its own broker and adapter, the kernel spreading
the client connections (an L4 balancer, as for the HTTP protocols). The adapter, in the same
process, reaches its own broker through a second socket of its own on 127.0.0.1 (through the
shared port it could land on another replica's broker). With a certificate the port speaks
MQTT over TLS; the adapter's socket stays plain (encrypting between two threads of one process
would protect nothing)."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import threading
from pathlib import Path

from amqtt.adapters import StreamReaderAdapter, StreamWriterAdapter
from amqtt.broker import Broker

from servers.listen import Listen, bind_socket

START_TIMEOUT_S = 30.0
DRAIN_S = 5.0
LOOPBACK = "127.0.0.1"
LISTENER = "default"  # amqtt requires a listener of this name


class EmbeddedBroker:
    def __init__(self, listen: Listen, tls: tuple[Path, Path] | None = None) -> None:
        """``tls``: the certificate and key files to serve TLS with on ``listen``."""
        self.listen = listen
        self.tls = tls
        self.loop = asyncio.new_event_loop()
        self.broker: Broker | None = None
        self._servers: list[asyncio.Server] = []
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="mqtt-broker", daemon=True
        )

    def _tls_context(self) -> ssl.SSLContext | None:
        if self.tls is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*self.tls)
        return context

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self.broker is not None
        # asyncio sets TCP_NODELAY only on sockets created with proto=IPPROTO_TCP, which ours
        # is not; without it each QoS 1 exchange waits ~40 ms for a delayed ACK.
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await self.broker.external_connected(
            StreamReaderAdapter(reader), StreamWriterAdapter(writer), LISTENER
        )

    def start(self) -> tuple[tuple[str, int], tuple[str, int]]:
        """Start listening; where clients connect (``--port 0`` resolved) and where the
        adapter does."""
        # amqtt logs every refused MQTT 5 attempt (clients try 5, then 3.1.1) as a warning
        logging.getLogger("amqtt").setLevel(logging.ERROR)
        logging.getLogger("transitions").setLevel(logging.WARNING)
        public = bind_socket(self.listen)  # SystemExit with the reason when the port is taken
        private = socket.create_server((LOOPBACK, 0))
        self._thread.start()

        async def start() -> None:
            config = {
                # the connections come from our own sockets; "bind" is required, unused
                "listeners": {LISTENER: {"type": "external", "bind": "external"}},
                # anonymous clients only; no $SYS topics, no per-packet logging
                "plugins": {
                    "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
                },
            }
            self.broker = Broker(config, loop=self.loop)
            await self.broker.start()
            tls = self._tls_context()
            self._servers.append(await asyncio.start_server(self._connected, sock=public, ssl=tls))
            self._servers.append(await asyncio.start_server(self._connected, sock=private))

        asyncio.run_coroutine_threadsafe(start(), self.loop).result(START_TIMEOUT_S)
        return (self.listen.host, public.getsockname()[1]), (LOOPBACK, private.getsockname()[1])

    def _delivered(self) -> bool:
        """Nothing left to hand to a subscriber: amqtt's broadcast queue and delivery tasks
        are empty and every session's QoS 1 messages acknowledged (private attributes: amqtt
        has no drain of its own, and its shutdown cancels deliveries under way)."""
        broker = self.broker
        assert broker is not None
        return (
            broker._broadcast_queue.empty()
            and all(task.done() for task in broker._tasks_queue)
            and not any(session.inflight_out for session, _ in broker._sessions.values())
        )

    async def _deliver(self) -> None:
        deadline = self.loop.time() + DRAIN_S
        while not self._delivered() and self.loop.time() < deadline:
            await asyncio.sleep(0.02)

    def deliver(self) -> None:
        """Return once every message the broker holds is delivered (at most DRAIN_S)."""
        asyncio.run_coroutine_threadsafe(self._deliver(), self.loop).result(DRAIN_S + 5)

    def stop(self) -> None:
        """Take no new connections, deliver what is under way (the adapter's last answers),
        shut down."""

        async def stop() -> None:
            for server in self._servers:
                server.close()
            if self.broker is not None:
                await self._deliver()
                await self.broker.shutdown()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(START_TIMEOUT_S)
        self.loop.call_soon_threadsafe(self.loop.stop)
