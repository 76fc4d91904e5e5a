"""Open Inference Protocol (V2) over REST: the KServe/Triton/MLServer HTTP API on Starlette.

Routes (JSON unless said; ``[/versions/{v}]`` is optional everywhere):
  GET  /v2                                   server metadata: name, version, extensions
  GET  /v2/health/live, /v2/health/ready     {"live"|"ready": bool}; 200 true, 400 false
  GET  /v2/models/{m}[/versions/{v}]         model metadata: inputs and outputs
  GET  /v2/models/{m}[/versions/{v}]/ready   {"name", "ready"}; 200 true, 400 false
  POST /v2/models/{m}[/versions/{v}]/infer   inference (servers/oip_infer.py)
Errors are ``{"error": message}`` with the status of the OIP REST row (``OIP_HTTP_STATUS``).

The binary tensor extension (advertised as ``binary_tensor_data`` in the server metadata): a
request whose ``Inference-Header-Content-Length`` header is N carries its JSON in the first N
bytes and, after it, the raw bytes of every input whose parameters hold ``binary_data_size``,
in input order. An output is answered the same way when its parameters ask ``binary_data`` or
the request's ask ``binary_data_output``; the answer then carries the same header.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from protobench.core.auth import require_authenticated
from protobench.core.errors import CoreError, ErrorCode
from protobench.core.service import InferenceService
from protobench.oip_tensors import (
    Tensor,
    check_header,
    from_list,
    from_raw,
    invalid,
    join_bytes,
    raw_of,
)
from servers import json_body
from servers.adapter_common import INTERNAL_MESSAGE
from servers.asgi_runner import Refusal, client_gone, serve_asgi, with_body_limit
from servers.listen import Listen
from servers.oip_infer import (
    CALLER_PARAMETER,
    InferAnswer,
    InferRequest,
    ainfer,
    model_metadata,
    model_ready,
    server_metadata,
)
from servers.oip_rest_spec import OIP_HTTP_STATUS

log = logging.getLogger(__name__)

HEADER_LENGTH = "inference-header-content-length"
JSON = "application/json"
OCTETS = "application/octet-stream"
NOT_TRUE = 400  # the spec: a health or readiness answer of false is a 4xx

MODEL = "/v2/models/{model}"
VERSION = "/v2/models/{model}/versions/{version}"
# Which route carries each operation of the protocol; the parity test checks it against the app.
OPERATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "server_metadata": ("GET", ("/v2",)),
    "server_live": ("GET", ("/v2/health/live",)),
    "server_ready": ("GET", ("/v2/health/ready",)),
    "model_metadata": ("GET", (MODEL, VERSION)),
    "model_ready": ("GET", (f"{MODEL}/ready", f"{VERSION}/ready")),
    "model_infer": ("POST", (f"{MODEL}/infer", f"{VERSION}/infer")),
}


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type=JSON)


def error_response(code: ErrorCode, message: str) -> Response:
    return _json({"error": message}, OIP_HTTP_STATUS.code(code))


def _version(request: Request) -> str | None:
    version: str | None = request.path_params.get("version")
    return version


def decode_request(model: str, version: str | None, body: bytes, header: str | None) -> tuple[
    InferRequest, set[str]
]:  # fmt: skip
    """The inference request, and the names of the outputs to answer in binary."""
    json_part, binary = body, b""
    if header is not None:
        if not header.isdigit() or int(header) > len(body):
            raise invalid(f"Inference-Header-Content-Length {header!r} does not fit the body")
        json_part, binary = body[: int(header)], body[int(header) :]
    try:
        document = json_body.loads(json_part)  # NaN and 1e999 reach the core's finite check
    except orjson.JSONDecodeError as exc:
        raise invalid(f"the request is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise invalid("the request must be a JSON object with 'inputs'")
    inputs, rest = _inputs(document.get("inputs"), binary)
    if rest:
        raise invalid(f"{len(rest)} bytes follow the binary inputs; no input claims them")
    parameters = _parameters(document.get("parameters"), "the request")
    caller = parameters.get(CALLER_PARAMETER)
    if caller is not None and not isinstance(caller, str):
        raise invalid("the 'caller' parameter must be a string")
    outputs, binary_outputs = _outputs(document.get("outputs"), parameters)
    request_id = document.get("id", "")
    if not isinstance(request_id, str):
        raise invalid("'id' must be a string")
    request = InferRequest(model, version, inputs, outputs, request_id, caller)
    return request, binary_outputs


def _parameters(value: object, owner: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid(f"the parameters of {owner} must be an object")
    return value


def _inputs(value: object, binary: bytes) -> tuple[list[Tensor], bytes]:
    if not isinstance(value, list) or not value:
        raise invalid("'inputs' must be a non-empty list of tensors")
    tensors = []
    for item in value:
        if not isinstance(item, dict):
            raise invalid("every input must be an object")
        name, datatype, shape = check_header(
            item.get("name"), item.get("datatype"), item.get("shape")
        )
        size = _parameters(item.get("parameters"), f"input {name!r}").get("binary_data_size")
        if size is None:
            tensors.append(from_list(name, datatype, shape, item.get("data")))
            continue
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= len(binary):
            raise invalid(f"input {name!r}: binary_data_size {size!r} does not fit the body")
        tensors.append(from_raw(name, datatype, shape, binary[:size]))
        binary = binary[size:]
    return tensors, binary


def _outputs(value: object, parameters: dict[str, Any]) -> tuple[list[str], set[str]]:
    every_binary = parameters.get("binary_data_output") is True
    if value is None:
        return [], ({"label", "probabilities"} if every_binary else set())
    if not isinstance(value, list):
        raise invalid("'outputs' must be a list")
    names, binary = [], set()
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise invalid("every requested output must be an object with a name")
        flag = _parameters(item.get("parameters"), f"output {item['name']!r}").get("binary_data")
        if flag is True or (flag is None and every_binary):
            binary.add(item["name"])
        names.append(item["name"])
    return names, binary


def encode_answer(answer: InferAnswer, binary_outputs: set[str]) -> Response:
    outputs: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    for output in answer.outputs:
        entry: dict[str, Any] = {
            "name": output.name,
            "datatype": output.datatype,
            "shape": list(output.shape),
        }
        if output.name in binary_outputs:
            raw = (
                join_bytes(output.items)
                if output.items is not None
                else raw_of(output.array, output.datatype)  # type: ignore[arg-type]
            )
            entry["parameters"] = {"binary_data_size": len(raw)}
            chunks.append(raw)
        elif output.items is not None:
            entry["data"] = [item.decode() for item in output.items]
        else:
            entry["data"] = output.array.ravel()  # type: ignore[union-attr]
        outputs.append(entry)
    document: dict[str, Any] = {
        "model_name": answer.model,
        "model_version": answer.version,
        "parameters": answer.parameters,
        "outputs": outputs,
    }
    if answer.id:
        document["id"] = answer.id
    head = orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY)
    if not chunks:
        return Response(head, media_type=JSON)
    return Response(
        b"".join((head, *chunks)), media_type=OCTETS, headers={HEADER_LENGTH: str(len(head))}
    )


def create_app(service: InferenceService) -> Starlette:
    api_key = service.settings.api_key

    async def metadata(_: Request) -> Response:
        require_authenticated(api_key)
        return _json(server_metadata())

    async def live(_: Request) -> Response:
        return _json({"live": True})

    async def ready(_: Request) -> Response:
        return _json({"ready": service.ready}, 200 if service.ready else NOT_TRUE)

    async def model(request: Request) -> Response:
        found = model_metadata(service, request.path_params["model"], _version(request))
        return _json(
            {
                "name": found.name,
                "versions": found.versions,
                "platform": found.platform,
                "inputs": [vars(t) for t in found.inputs],
                "outputs": [vars(t) for t in found.outputs],
            }
        )

    async def model_is_ready(request: Request) -> Response:
        name = request.path_params["model"]
        is_ready = model_ready(service, name, _version(request))
        return _json({"name": name, "ready": is_ready}, 200 if is_ready else NOT_TRUE)

    async def infer(request: Request) -> Response:
        decoded, binary_outputs = decode_request(
            request.path_params["model"],
            _version(request),
            await request.body(),
            request.headers.get(HEADER_LENGTH),
        )
        return encode_answer(await ainfer(service, decoded), binary_outputs)

    handlers = {
        "server_metadata": metadata,
        "server_live": live,
        "server_ready": ready,
        "model_metadata": model,
        "model_ready": model_is_ready,
        "model_infer": infer,
    }
    routes = [
        Route(path, handlers[operation], methods=[method])
        for operation, (method, paths) in OPERATIONS.items()
        for path in paths
    ]
    return Starlette(routes=routes, exception_handlers=_exception_handlers())


def _exception_handlers() -> dict[Any, Any]:
    async def core_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, CoreError)
        return error_response(exc.code, exc.message)

    async def http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _json({"error": exc.detail}, exc.status_code)

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(ErrorCode.INTERNAL, INTERNAL_MESSAGE)

    return {
        CoreError: core_error,
        HTTPException: http_error,
        ClientDisconnect: client_gone,
        Exception: unexpected,
    }


def _too_large(max_bytes: int) -> Refusal:
    def refuse(size: int) -> tuple[int, str, bytes]:
        message = f"the request body is {size} bytes or more; the limit is {max_bytes}"
        return OIP_HTTP_STATUS.code(ErrorCode.TOO_LARGE), JSON, orjson.dumps({"error": message})

    return refuse


def serve(service: InferenceService, listen: Listen) -> None:
    max_bytes = service.settings.max_body_bytes
    app = with_body_limit(create_app(service), max_bytes, _too_large(max_bytes))
    serve_asgi(app, "oip-rest", service, listen)
