"""OIP gRPC's predict for the CPU breakdown (``protobench.codec``): the servicer's answer to
what the shipped client asks (every output in ``raw_output_contents``), serialised as grpcio
does, the client's request (raw FP64 features) and its reading of the answer."""

from clients.oip_common import FEATURES_INPUT
from clients.oip_grpc_client import OipGrpcClient
from protobench.codec import MODEL, ROW, UNUSED_TARGET, Codec
from protobench.core.types import PredictAnswer, PredictResponse
from protobench.v1 import open_inference_pb2 as pb
from servers.oip_grpc_server import decode_request, encode_response
from servers.oip_infer import Call


def codec() -> Codec:
    client = OipGrpcClient(UNUSED_TARGET)  # its channel never connects
    client._inputs[MODEL] = FEATURES_INPUT[MODEL]  # what it reads once from the metadata
    call = Call(decode_request(client._predict_request(MODEL, [ROW])), None, None, True)

    def server_encode(answer: PredictAnswer) -> bytes:
        return bytes(encode_response(call, answer).SerializeToString())

    def client_encode(rows: list[list[float]]) -> bytes:
        return bytes(client._predict_request(MODEL, rows).SerializeToString())

    def client_decode(body: bytes) -> PredictResponse:
        return client._answer(pb.ModelInferResponse.FromString(body))

    return Codec(server_encode, client_encode, client_decode, plain=True, floor=_ready)


def _ready(client: OipGrpcClient) -> object:
    """One readiness call: the client's ``health`` makes two (ServerLive, then ServerReady)."""
    return client._call(client._stub.ServerReady, pb.ServerReadyRequest())
