"""Open a page in real headless Chromium, offline, and report what a reader would see.

Chromium is driven through the DevTools protocol over ``--remote-debugging-pipe`` (JSON
messages separated by NUL bytes on file descriptors 3 and 4): no websocket library, no port,
and every console message, uncaught exception and log entry (failed loads, CSP violations)
arrives as an event. Networking is off three ways: DNS maps every host to nothing, the proxy
points at a closed port, and the page's network is emulated offline.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
WIDTH = 1200

# What the page looks like from the inside, computed in the page by Runtime.evaluate.
INSPECT = """(() => {
  const figures = [...document.querySelectorAll('figure.figure')].map(f => {
    const svg = f.querySelector('svg');
    const box = svg ? svg.getBoundingClientRect() : null;
    return {id: f.id, missing: f.classList.contains('missing'),
            shapes: svg ? svg.querySelectorAll('polyline, rect, circle').length : 0,
            width: box ? box.width : 0, height: box ? box.height : 0,
            text: f.innerText};
  });
  return {lang: document.documentElement.lang, title: document.title,
          text: document.body.innerText, figures,
          resources: performance.getEntriesByType('resource').map(r => r.name),
          height: document.documentElement.scrollHeight};
})()"""


def find_chromium() -> str | None:
    return next((p for name in CHROMIUM_NAMES if (p := shutil.which(name))), None)


@dataclass
class Rendering:
    lang: str
    title: str
    text: str
    figures: list[dict[str, Any]]
    resources: list[str]
    problems: list[str] = field(default_factory=list)  # console errors, exceptions, log errors
    screenshot: Path | None = None


class _Pipe:
    def __init__(self, process: subprocess.Popen[bytes], to_browser: int, from_browser: int):
        self.process, self.to_browser, self.from_browser = process, to_browser, from_browser
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._receive(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or self.process.poll() is not None:
                raise TimeoutError("Chromium did not answer over the DevTools pipe")
            ready, _, _ = select.select([self.from_browser], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self.from_browser, 1 << 20)
                if not chunk:
                    raise TimeoutError("Chromium closed the DevTools pipe")
                self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message


def _problems(events: list[dict[str, Any]]) -> list[str]:
    out = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            out.append("console: " + " ".join(str(a.get("value", a)) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            out.append("exception: " + params["exceptionDetails"].get("text", ""))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            out.append(f"log ({params['entry'].get('source')}): {params['entry'].get('text')}")
    return out


def render(page: Path, workdir: Path, screenshot: Path | None = None) -> Rendering:
    """Load ``page`` from a file:// URL with networking disabled; inspect it; screenshot it."""
    chromium = find_chromium()
    if chromium is None:
        raise RuntimeError("chromium is not installed (bash scripts/install-system-deps.sh)")
    to_browser_r, to_browser_w = os.pipe()
    from_browser_r, from_browser_w = os.pipe()
    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--hide-scrollbars",
        "--disable-dev-shm-usage",
        "--disable-extensions",
        "--remote-debugging-pipe",
        f"--user-data-dir={workdir / 'chromium-profile'}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=127.0.0.1:9",
        f"--window-size={WIDTH},900",
        "about:blank",
    ]

    def plug_pipes() -> None:  # in the child: the DevTools pipe lives on fds 3 and 4
        os.dup2(to_browser_r, 3)
        os.dup2(from_browser_w, 4)
        os.set_inheritable(3, True)  # dup2 onto itself would keep close-on-exec
        os.set_inheritable(4, True)

    with (workdir / "chromium.log").open("wb") as log:
        process = subprocess.Popen(
            [chromium, *args],
            preexec_fn=plug_pipes,
            close_fds=False,  # keep 3 and 4; Python's own descriptors are not inheritable anyway
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    os.close(to_browser_r)
    os.close(from_browser_w)
    pipe = _Pipe(process, to_browser_w, from_browser_r)
    try:
        target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Runtime", "Log", "Page", "Network"):
            pipe.send(f"{domain}.enable", session=session)
        pipe.send(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
            session=session,
        )
        pipe.events.clear()
        pipe.send("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
        pipe.wait_for("Page.loadEventFired")
        seen = pipe.send(
            "Runtime.evaluate", {"expression": INSPECT, "returnByValue": True}, session=session
        )["result"]["value"]
        rendering = Rendering(
            seen["lang"],
            seen["title"],
            seen["text"],
            seen["figures"],
            seen["resources"],
            _problems(pipe.events),
        )
        if screenshot is not None:
            pipe.send(
                "Emulation.setDeviceMetricsOverride",
                {
                    "width": WIDTH,
                    "height": int(seen["height"]),
                    "deviceScaleFactor": 1,
                    "mobile": False,
                },
                session=session,
            )
            shot = pipe.send("Page.captureScreenshot", {"format": "png"}, session=session)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            rendering.screenshot = screenshot
        return rendering
    finally:
        with contextlib.suppress(TimeoutError, RuntimeError, OSError):
            pipe.send("Browser.close", timeout=5)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        os.close(to_browser_w)
        os.close(from_browser_r)
