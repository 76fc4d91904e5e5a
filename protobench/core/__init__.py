"""The transport-neutral model core: types, errors, models, registry, service and settings.

Nothing in this package imports a web framework, grpc or strawberry.
"""
