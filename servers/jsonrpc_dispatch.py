"""JSON-RPC 2.0 from request bytes to response bytes, with jsonrpcserver doing the dispatch.

jsonrpcserver 5 looks the method up (-32601), calls it, turns its Result into a Response and
drops the answers to notifications. Where it falls short of the specification this module
fills the gap:

- It validates a whole batch against one JSON Schema, so one bad entry turns the batch into a
  single -32600; the spec wants one error per bad entry. Entries are checked here, one by one,
  and only valid ones reach the library.
- It parses with ``json.loads``; here orjson does, and ``servers.json_body`` lets ``NaN``,
  ``Infinity`` and ``1e999`` through to the core's INVALID_INPUT (-32602), as REST does.
- Its errors carry an exception's text as ``data``; here every error's ``data`` is
  ``{"code": <core ErrorCode>, "details": {...}}`` and an unexpected exception is logged,
  never sent.
- It has no batch size limit (``settings.jsonrpc_max_batch``) and checks no param types (each
  method's pydantic params model does, see ``servers.jsonrpc_methods``).
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, cast

import orjson
from jsonrpcserver import Error, Result, Success, async_dispatch_to_response
from jsonrpcserver.response import to_serializable_one
from pydantic import ValidationError

from protobench.core.errors import CoreError, ErrorCode
from protobench.core.service import InferenceService
from servers import json_body
from servers.adapter_common import INTERNAL_MESSAGE, validation_errors, validation_message
from servers.jsonrpc_methods import MethodSpec
from servers.jsonrpc_spec import (
    JSONRPC_CODE,
    JSONRPC_INVALID_PARAMS,
    JSONRPC_INVALID_REQUEST,
    JSONRPC_METHOD_NOT_FOUND,
    JSONRPC_PARSE_ERROR,
)

log = logging.getLogger(__name__)

DISCOVER = "rpc.discover"
_MEMBERS = frozenset(("jsonrpc", "method", "params", "id"))

Handler = Callable[..., Awaitable[Result]]
Wire = dict[str, Any]


def error_object(
    code: ErrorCode,
    message: str,
    details: Mapping[str, Any] | None = None,
    *,
    jsonrpc_code: int | None = None,
) -> Wire:
    """An Error object; ``jsonrpc_code`` overrides the table for the spec's own -327xx codes."""
    return {
        "code": JSONRPC_CODE.code(code) if jsonrpc_code is None else jsonrpc_code,
        "message": message,
        "data": {"code": code.value, "details": dict(details or {})},
    }


def error_response(error: Wire) -> Wire:
    """A Response to a request whose id could not be read (parse error, invalid request...)."""
    return {"jsonrpc": "2.0", "error": error, "id": None}


def encode(answer: Wire | list[Wire]) -> bytes:
    return orjson.dumps(answer)


def request_problem(request: object) -> str | None:
    """Why ``request`` is not a JSON-RPC 2.0 Request object, or None when it is one."""
    if not isinstance(request, dict):
        return f"a request must be a JSON object, not {_json_type(request)}"
    if request.get("jsonrpc") != "2.0":
        return 'member "jsonrpc" must be exactly "2.0"'
    if "method" not in request:
        return 'member "method" is missing'
    if not isinstance(request["method"], str):
        return 'member "method" must be a string'
    if "params" in request and not isinstance(request["params"], dict | list):
        return 'member "params" must be an object or an array'
    if "id" in request and not _is_valid_id(request["id"]):
        return 'member "id" must be a string, a finite number or null'
    unknown = request.keys() - _MEMBERS
    if unknown:
        return f"unknown member(s) {sorted(unknown)}; a request has jsonrpc, method, params, id"
    return None


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string" if isinstance(value, str) else "an array"


def _is_valid_id(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)  # NaN and Infinity read leniently (json_body) are not ids
    return value is None or (isinstance(value, str | int) and not isinstance(value, bool))


def _unchanged(request: Any) -> Any:
    """The library's parse and validate steps, done already (see ``Dispatcher.answer``)."""
    return request


def _to_wire(response: Any) -> Wire:
    """jsonrpcserver's serialisation, with its own errors brought to our ``data`` shape."""
    wire = cast(Wire, to_serializable_one(response))
    error = wire.get("error")
    if error is not None and not isinstance(error.get("data"), dict):
        wire["error"] = _library_error(error)
    return wire


def _library_error(error: Wire) -> Wire:
    if error["code"] == JSONRPC_METHOD_NOT_FOUND:
        name = error.get("data")
        return error_object(
            ErrorCode.INVALID_INPUT,
            f"method {name!r} not found; rpc.discover lists the methods",
            {"method": name},
            jsonrpc_code=JSONRPC_METHOD_NOT_FOUND,
        )
    # Anything else the library made itself wraps an exception; its text stays in the log.
    return error_object(ErrorCode.INTERNAL, INTERNAL_MESSAGE)


def _error_result(error: Wire) -> Result:
    """An error object as the Result a jsonrpcserver method returns."""
    return Error(error["code"], error["message"], error["data"])


def _invalid_params(message: str, details: Mapping[str, Any] | None = None) -> Result:
    return _error_result(
        error_object(ErrorCode.INVALID_INPUT, message, details, jsonrpc_code=JSONRPC_INVALID_PARAMS)
    )


def _params_error(method: str, exc: ValidationError) -> Result:
    errors = validation_errors(exc.errors(include_url=False, include_input=False))
    return _invalid_params(f"{method}: {validation_message(errors, 'params')}", {"errors": errors})


def _handler(spec: MethodSpec, service: InferenceService) -> Handler:
    async def handle(*positional: Any, **named: Any) -> Result:
        if positional:
            return _invalid_params(
                f"{spec.name} takes named params (an object), not an array",
                {"expected": list(spec.params.model_fields)},
            )
        try:
            params = spec.params.model_validate(named)
        except ValidationError as exc:
            return _params_error(spec.name, exc)
        try:
            value = await spec.run(service, params)
        except CoreError as exc:
            return _error_result(error_object(exc.code, exc.message, exc.details))
        except Exception:
            log.exception("unexpected error in JSON-RPC method %s", spec.name)
            return _error_result(error_object(ErrorCode.INTERNAL, INTERNAL_MESSAGE))
        # Serialised once, by pydantic straight to JSON; orjson splices it into the response.
        return Success(orjson.Fragment(spec.result.dump_json(value)))

    return _signed(handle)


def _discover_handler(document: Wire) -> Handler:
    async def discover(*positional: Any, **named: Any) -> Result:
        if positional or named:
            return _invalid_params(f"{DISCOVER} takes no params")
        return Success(document)

    return _signed(discover)


def _signed(handler: Handler) -> Handler:
    """Store the handler's signature on it: jsonrpcserver checks arity with inspect.signature
    on every call, which otherwise rebuilds the signature each time (a tenth of a 1-row predict)."""
    handler.__signature__ = inspect.signature(handler)  # type: ignore[attr-defined]
    return handler


class Dispatcher:
    """Answers one HTTP body: a single request, a batch, or something that is neither."""

    def __init__(
        self,
        service: InferenceService,
        methods: Sequence[MethodSpec],
        discover_document: Wire,
        max_batch: int,
    ) -> None:
        self.methods: dict[str, Handler] = {m.name: _handler(m, service) for m in methods}
        self.methods[DISCOVER] = _discover_handler(discover_document)
        self.max_batch = max_batch

    async def answer(self, body: bytes) -> bytes | None:
        """The response body, or None when there is nothing to answer (only notifications)."""
        try:
            parsed = json_body.loads(body)
        except orjson.JSONDecodeError as exc:
            return encode(error_response(_parse_error(str(exc))))
        if not isinstance(parsed, list):
            problem = request_problem(parsed)
            if problem is not None:
                return encode(error_response(_invalid_request(problem)))
            single = await self._dispatch(parsed)
            return None if single is None else encode(single)
        if not parsed:
            return encode(error_response(_invalid_request("an empty batch has no requests")))
        if len(parsed) > self.max_batch:
            return encode(error_response(_batch_too_large(len(parsed), self.max_batch)))
        valid: list[Wire] = []
        replies: list[Wire] = []  # answers to invalid entries first; the spec leaves order free
        for request in parsed:
            problem = request_problem(request)
            if problem is None:
                valid.append(request)
            else:
                replies.append(error_response(_invalid_request(problem)))
        if valid:  # the library runs the calls concurrently and drops notifications' answers
            replies += await self._dispatch(valid) or []
        return encode(replies) if replies else None

    async def _dispatch(self, requests: Any) -> Any:
        """jsonrpcserver's part: one valid request (a Response or None) or a list of them."""
        return await async_dispatch_to_response(
            requests,
            self.methods,
            deserializer=_unchanged,
            validator=_unchanged,
            post_process=_to_wire,
        )


def _parse_error(reason: str) -> Wire:
    return error_object(
        ErrorCode.INVALID_INPUT,
        f"parse error: the body is not valid JSON ({reason})",
        jsonrpc_code=JSONRPC_PARSE_ERROR,
    )


def _invalid_request(reason: str) -> Wire:
    return error_object(
        ErrorCode.INVALID_INPUT, f"invalid request: {reason}", jsonrpc_code=JSONRPC_INVALID_REQUEST
    )


def _batch_too_large(size: int, limit: int) -> Wire:
    return error_object(
        ErrorCode.TOO_LARGE,
        f"a batch of {size} requests; the limit is {limit} (send several batches)",
        {"requests": size, "limit": limit},
    )
