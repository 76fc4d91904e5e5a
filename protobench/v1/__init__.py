"""Code generated from proto/protobench/v1 by `make proto`; do not edit by hand."""
