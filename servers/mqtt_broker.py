"""The embedded MQTT broker ``serve --protocol mqtt`` starts when no ``--broker`` is given, so
``make demo`` and the tests need nothing installed: amqtt, the maintained Python broker, on its
own asyncio loop in a thread. It speaks MQTT 3.1.1 only (it refuses protocol level 5); MQTT 5
callers need an external broker such as mosquitto (``--broker mqtt://host:port``).

With a certificate it serves MQTT over TLS on the port, and the adapter, in the same process,
reaches it through a second, plain listener bound to 127.0.0.1 only (encrypting between two
threads of one process would protect nothing)."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Any

from amqtt.broker import Broker

from servers.listen import Listen

START_TIMEOUT_S = 30.0
LOOPBACK = "127.0.0.1"


class EmbeddedBroker:
    def __init__(self, listen: Listen, tls: tuple[Path, Path] | None = None) -> None:
        """``tls``: the certificate and key files to serve TLS with on ``listen``."""
        self.listen = listen
        self.tls = tls
        self.loop = asyncio.new_event_loop()
        self.broker: Broker | None = None
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="mqtt-broker", daemon=True
        )

    def _config(self) -> dict[str, Any]:
        host = f"[{self.listen.host}]" if ":" in self.listen.host else self.listen.host
        public = {"type": "tcp", "bind": f"{host}:{self.listen.port}"}
        # amqtt requires a listener named "default" and copies its settings into the others
        # where they leave a setting at its default: the plain one is "default", so the TLS
        # listener keeps ssl on and the plain one does not inherit it.
        listeners: dict[str, Any] = {"default": public}
        if self.tls is not None:
            cert, key = self.tls
            listeners = {
                "default": {"type": "tcp", "bind": f"{LOOPBACK}:0"},
                "tls": {**public, "ssl": True, "certfile": str(cert), "keyfile": str(key)},
            }
        return {
            "listeners": listeners,
            # anonymous clients only; no $SYS topics, no per-packet logging
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }

    def start(self) -> tuple[tuple[str, int], tuple[str, int]]:
        """Start listening; where clients connect (``--port 0`` resolved) and where the
        adapter does."""
        # amqtt logs every refused MQTT 5 attempt (clients try 5, then 3.1.1) as a warning
        logging.getLogger("amqtt").setLevel(logging.ERROR)
        logging.getLogger("transitions").setLevel(logging.WARNING)
        self._thread.start()

        async def start() -> dict[str, int]:
            self.broker = Broker(self._config(), loop=self.loop)
            await self.broker.start()
            # amqtt keeps its listening servers by listener name; ask each socket its port
            return {
                name: server.instance.sockets[0].getsockname()[1]
                for name, server in self.broker._servers.items()
            }

        ports = asyncio.run_coroutine_threadsafe(start(), self.loop).result(START_TIMEOUT_S)
        public = (self.listen.host, ports["tls" if self.tls else "default"])
        adapter = (LOOPBACK, ports["default"]) if self.tls else public
        return public, adapter

    def stop(self) -> None:
        if self.broker is not None:
            future = asyncio.run_coroutine_threadsafe(self.broker.shutdown(), self.loop)
            future.result(START_TIMEOUT_S)
        self.loop.call_soon_threadsafe(self.loop.stop)
