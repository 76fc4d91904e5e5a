"""protobench: one ML model served over REST, gRPC, GraphQL and JSON-RPC, and measured."""

__version__ = "0.1.0"
