"""Every core operation is exposed by every protocol, and no protocol exposes an operation
the core does not have (gRPC's streaming variant of predict is the one declared extra)."""

from __future__ import annotations

from fastapi.routing import APIRoute

from protobench.core.service import OPERATIONS, InferenceService
from protobench.core.settings import Settings


def test_core_operations_are_service_methods() -> None:
    for name in OPERATIONS:
        assert callable(getattr(InferenceService, name))


def test_rest_routes_cover_the_core_operations(settings: Settings) -> None:
    from servers.rest_server import EXTRA_OPERATIONS, create_app
    from servers.rest_server import OPERATIONS as REST_OPERATIONS

    assert set(REST_OPERATIONS) == set(OPERATIONS)
    app = create_app(InferenceService(settings))
    routes = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute) and route.include_in_schema  # not the /docs pages
        for method in route.methods
    }
    assert set(REST_OPERATIONS.values()) <= routes
    assert set(EXTRA_OPERATIONS) == {"update_strategy"}  # PATCH: REST's partial change
    assert set(EXTRA_OPERATIONS.values()) <= routes
    extra = routes - set(REST_OPERATIONS.values()) - set(EXTRA_OPERATIONS.values())
    extra -= {("GET", "/health/live")}
    assert not extra, f"REST routes with no core operation: {extra}"
