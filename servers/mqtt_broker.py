"""The embedded MQTT broker ``serve --protocol mqtt`` starts when no ``--broker`` is given, so
``make demo`` and the tests need nothing installed: amqtt, the maintained Python broker, on its
own asyncio loop in a thread. It speaks MQTT 3.1.1 only (it refuses protocol level 5); MQTT 5
callers need an external broker such as mosquitto (``--broker mqtt://host:port``)."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from amqtt.broker import Broker

from servers.listen import Listen

START_TIMEOUT_S = 30.0


class EmbeddedBroker:
    def __init__(self, listen: Listen) -> None:
        self.listen = listen
        self.loop = asyncio.new_event_loop()
        self.broker: Broker | None = None
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="mqtt-broker", daemon=True
        )

    def _config(self) -> dict[str, Any]:
        host = f"[{self.listen.host}]" if ":" in self.listen.host else self.listen.host
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{host}:{self.listen.port}"}},
            # anonymous clients only; no $SYS topics, no per-packet logging
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }

    def start(self) -> tuple[str, int]:
        """Start listening; the address it listens on (``--port 0`` resolved)."""
        # amqtt logs every refused MQTT 5 attempt (clients try 5, then 3.1.1) as a warning
        logging.getLogger("amqtt").setLevel(logging.ERROR)
        logging.getLogger("transitions").setLevel(logging.WARNING)
        self._thread.start()

        async def start() -> int:
            self.broker = Broker(self._config(), loop=self.loop)
            await self.broker.start()
            # amqtt keeps its listening servers by listener name; ask the socket its port
            server = self.broker._servers["default"].instance
            port: int = server.sockets[0].getsockname()[1]
            return port

        port = asyncio.run_coroutine_threadsafe(start(), self.loop).result(START_TIMEOUT_S)
        return self.listen.host, port

    def stop(self) -> None:
        if self.broker is not None:
            future = asyncio.run_coroutine_threadsafe(self.broker.shutdown(), self.loop)
            future.result(START_TIMEOUT_S)
        self.loop.call_soon_threadsafe(self.loop.stop)
