"""gRPC's predict for the CPU breakdown (``protobench.codec``): the servicer's message from the
core's plain answer, serialised as grpcio does, the client's request message and its reading of
the answer."""

from clients.grpc_client import PredictCall, _predict_request
from protobench.codec import MODEL, Codec
from protobench.core.types import PredictAnswer, PredictResponse
from protobench.proto_convert import predict_answer_to_pb, predict_response_from_pb
from protobench.v1 import inference_pb2 as pb


def _encode(answer: PredictAnswer) -> bytes:
    return bytes(predict_answer_to_pb(answer).SerializeToString())


def _request(rows: list[list[float]]) -> bytes:
    return bytes(_predict_request(PredictCall(MODEL, rows)).SerializeToString())


def _decode(body: bytes) -> PredictResponse:
    return predict_response_from_pb(pb.PredictResponse.FromString(body))


def codec() -> Codec:
    return Codec(_encode, _request, _decode, plain=True)
