"""Thrift's predict for the CPU breakdown (``protobench.codec``), in the binary protocol the
shipped client speaks: the generated processor's REPLY of the handler's struct, the generated
client's CALL of the client's request struct, and its reading of the REPLY. Memory buffers
stand in for the socket's buffered transport."""

from typing import Any

from thrift.protocol.TBinaryProtocol import TBinaryProtocolAccelerated
from thrift.Thrift import TMessageType
from thrift.transport.TTransport import TMemoryBuffer

from clients.thrift_client import _predict_request
from protobench.codec import MODEL, Codec
from protobench.core.types import PredictResponse
from protobench.thrift_convert import predict_response_from_thrift, predict_response_to_thrift
from protobench.v1.inference_thrift import InferenceService as ThriftService

SEQID = 0  # the generated client numbers every call 0


def _encode(answer: PredictResponse) -> bytes:
    """What the generated ``Processor.process_Predict`` writes once the handler has answered."""
    buffer = TMemoryBuffer()
    protocol = TBinaryProtocolAccelerated(buffer)
    result = ThriftService.Predict_result(success=predict_response_to_thrift(answer))
    protocol.writeMessageBegin("Predict", TMessageType.REPLY, SEQID)
    result.write(protocol)
    protocol.writeMessageEnd()
    return bytes(buffer.getvalue())


def _client(buffer: TMemoryBuffer) -> Any:
    return ThriftService.Client(TBinaryProtocolAccelerated(buffer))


def _request(rows: list[list[float]]) -> bytes:
    buffer = TMemoryBuffer()
    _client(buffer).send_Predict(_predict_request(MODEL, rows))
    return bytes(buffer.getvalue())


def _decode(body: bytes) -> PredictResponse:
    return predict_response_from_thrift(_client(TMemoryBuffer(body)).recv_Predict())


def codec() -> Codec:
    return Codec(_encode, _request, _decode)
