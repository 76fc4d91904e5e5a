#!/bin/sh
# The container's command: one protocol's server, chosen by PROTOBENCH_PROTOCOL (rest, grpc,
# graphql, jsonrpc) or by arguments, which come last and so win (`... grpc --port 6000`).
# --load-first: the port opens only once the models are loaded, so a TCP probe means "ready".
set -eu
exec protobench serve --protocol "${PROTOBENCH_PROTOCOL:-rest}" --host "${PROTOBENCH_HOST:-0.0.0.0}" \
    ${PROTOBENCH_PORT:+--port "$PROTOBENCH_PORT"} \
    --metrics-port "${PROTOBENCH_METRICS_PORT:-9100}" --load-first "$@"
