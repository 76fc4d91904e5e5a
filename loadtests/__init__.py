"""Load tests: Locust users built on clients/, the matrix runner behind ``protobench bench``,
and the measurements (exact latency samples, CPU, bytes on the wire) it records."""
