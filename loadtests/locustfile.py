"""Locust entry point: ``locust -f loadtests/locustfile.py RestUser --host 127.0.0.1:8000``.

Pick one user class per run (RestUser, GrpcUser, GraphQLUser, JsonRpcUser); the protobench
options (``--pb-payload``, ``--pb-batch``, ``--pb-rate``) appear in ``locust --help``.
``protobench bench`` runs this same file headless for every cell of its matrix.
"""

from loadtests.users import GraphQLUser, GrpcUser, JsonRpcUser, RestUser

__all__ = ["GraphQLUser", "GrpcUser", "JsonRpcUser", "RestUser"]
