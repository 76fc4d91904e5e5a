"""GraphiQL without a CDN: its scripts and styles served by the GraphQL server itself.

strawberry's GraphiQL page loads React, GraphiQL and its explorer plugin from unpkg, so on a
classroom machine without internet it stays on "Loading...". ``python -m servers.graphiql_assets``
takes the very files that page names (same packages, same versions) from the npm registry with
``npm pack`` into ``servers/static/graphiql/``; the server then rewrites the page's addresses to
``/graphql/assets/...``. The page keeps its integrity hashes, so the browser checks that the local
copies are byte for byte the published ones. Without the files the page is served as strawberry
ships it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from starlette.responses import FileResponse, Response
from strawberry.http.ides import get_graphql_ide_html

ASSETS = Path(__file__).resolve().parent / "static" / "graphiql"
PREFIX = "/graphql/assets/"
_UNPKG = re.compile(r"https://unpkg\.com/((?:@[^/@]+/)?[^/@]+)@([^/]+)/([^\"']+)")


def _local_name(package: str, path: str) -> str:
    return f"{package.strip('@').replace('/', '-')}-{path.replace('/', '-')}"


def _cdn_files(html: str) -> list[tuple[str, str, str, str]]:
    """(url, package, version, path in the package) for every unpkg file the page loads."""
    return [(m.group(0), m.group(1), m.group(2), m.group(3)) for m in _UNPKG.finditer(html)]


def offline_page() -> str | None:
    """strawberry's GraphiQL page pointing at local copies, or None when any copy is missing."""
    html = get_graphql_ide_html(graphql_ide="graphiql")
    for url, package, _, path in _cdn_files(html):
        name = _local_name(package, path)
        if not (ASSETS / name).is_file():
            return None
        html = html.replace(url, PREFIX + name)
    return html


def asset_response(path: str) -> Response:
    name = path.removeprefix(PREFIX)
    file = ASSETS / name
    if "/" in name or not file.is_file():
        return Response(b'{"code":"NOT_FOUND","message":"no such asset"}', 404,
                        media_type="application/json")  # fmt: skip
    return FileResponse(file, headers={"Cache-Control": "public, max-age=86400"})


def fetch() -> int:
    """Download every file the page names with `npm pack`; one line per file."""
    npm = shutil.which("npm")
    if npm is None:
        print("graphiql assets: npm not found; GraphiQL will load from unpkg (needs internet)")
        return 1
    ASSETS.mkdir(parents=True, exist_ok=True)
    html = get_graphql_ide_html(graphql_ide="graphiql")
    with tempfile.TemporaryDirectory() as work:
        for _, package, version, path in _cdn_files(html):
            target = ASSETS / _local_name(package, path)
            if target.is_file():
                continue
            run = subprocess.run(
                [npm, "pack", f"{package}@{version}", "--silent", "--pack-destination", work],
                capture_output=True, text=True,
            )  # fmt: skip
            if run.returncode != 0 or not run.stdout.strip():
                print(f"graphiql assets: npm pack {package}@{version} failed: {run.stderr[-300:]}")
                return 1
            packed = run.stdout.strip().splitlines()[-1]
            with tarfile.open(Path(work) / packed) as archive:
                member = archive.extractfile(f"package/{path}")
                assert member is not None, f"{package}@{version} has no {path}"
                target.write_bytes(member.read())
            print(f"graphiql assets: {package}@{version}/{path}")
    return 0


if __name__ == "__main__":
    sys.exit(fetch())
