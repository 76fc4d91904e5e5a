"""Locust entry point: ``locust -f loadtests/locustfile.py RestUser --host 127.0.0.1:8000``.

Pick one user class per run: one per registered protocol (RestUser, GrpcUser, GraphQLUser,
JsonRpcUser, ...; ``locust -f loadtests/locustfile.py --list`` names them all). The protobench
options (``--pb-payload``, ``--pb-batch``, ``--pb-rate``) appear in ``locust --help``.
``protobench bench`` runs this same file headless for every cell of its matrix.
"""

import loadtests.distributed_events  # noqa: F401  (workers send their samples to the master)
from loadtests.users import user_classes

globals().update(user_classes())  # Locust picks the User classes out of this module
