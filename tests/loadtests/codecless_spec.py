"""A protocol whose spec names no breakdown codec, as one added through
PROTOBENCH_PROTOCOL_SPECS may be: REST's adapter and client under another name."""

from dataclasses import replace

from protobench.protocol_spec import ReportStyle
from servers.rest_spec import SPEC as REST

SPEC = replace(
    REST,
    name="codecless",
    order=1000,
    default_port=18000,
    report=ReportStyle("Codecless", "#123456"),
    locust_user="",  # derived again from the name
    codec=None,
)
