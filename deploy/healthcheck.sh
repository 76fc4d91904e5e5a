#!/bin/sh
# HEALTHCHECK: one ListModels call over the container's own protocol, through our client;
# exit 0 only when the server answers with its models.
set -eu
exec protobench models --protocol "${PROTOBENCH_PROTOCOL:-rest}" --timeout 3 \
    ${PROTOBENCH_PORT:+--target "127.0.0.1:$PROTOBENCH_PORT"} >/dev/null
