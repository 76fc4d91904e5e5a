"""What the core decides is said the same way on every protocol: a bad strategy is refused by
the core's own check, with the core's own message, whichever adapter carried it."""

from __future__ import annotations

import pytest

from clients.base import ClientError, InferenceClient
from protobench.core.errors import CoreError, ErrorCode
from protobench.core.strategies import parse_config
from protobench.core.types import StrategyConfig


def test_a_bad_strategy_field_gets_the_cores_message(client: InferenceClient) -> None:
    fields = {**StrategyConfig().model_dump(), "kind": "nope"}
    with pytest.raises(CoreError) as expected:
        parse_config(fields)
    bad = StrategyConfig.model_construct(**fields)  # what a careless caller could send
    with pytest.raises(ClientError) as refused:
        client.set_strategy("iris", bad)
    assert refused.value.code == ErrorCode.INVALID_INPUT
    assert refused.value.message == expected.value.message
    assert client.get_strategy("iris").strategy == StrategyConfig()  # unchanged
