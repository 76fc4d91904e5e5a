// The Thrift contract of protobench's inference service. Service, method, struct and field
// names are those of inference.proto, so a caller moving between gRPC and Thrift meets the
// same words; the core types in protobench/core/types.py carry the same fields.
//
// Thrift has no streaming: PredictStream (gRPC only) has no counterpart here. Every method
// may throw InferenceError, whose `code` is the core ErrorCode name (INVALID_INPUT,
// NOT_FOUND, TOO_LARGE, UNAUTHENTICATED, FAILED_PRECONDITION, NOT_READY, DEADLINE_EXCEEDED,
// INTERNAL); `details` is a JSON object as text.
//
// Thrift's binary protocol has no headers, so a server started with an API key takes it once
// per connection through Authenticate; until then every method but Health throws
// UNAUTHENTICATED.

namespace py inference_thrift

exception InferenceError {
  1: string code,
  2: string message,
  3: string details = "{}",
}

struct TensorSpec {
  1: string name,
  2: string dtype,
  3: list<i64> shape,  // -1 is the batch axis
}

struct ModelMetadata {
  1: string name,
  2: string task,
  3: string description,
  4: list<string> versions,
  5: string default_version,
  6: TensorSpec input,
  7: list<string> labels,  // the order of every probabilities list
}

struct ListModelsRequest {}

struct ListModelsResponse {
  1: list<ModelMetadata> models,
}

struct GetModelRequest {
  1: string name,
}

struct Instance {
  1: list<double> features,
}

struct PredictRequest {
  1: string model,
  2: list<Instance> instances,
  3: optional string version,  // unset: the model's strategy chooses
  4: optional string caller,  // A/B stickiness key: one caller always meets one version
}

struct PredictImageRequest {
  1: string model,
  2: binary image,  // PNG or JPEG
  3: optional string version,
}

struct Prediction {
  1: string label,
  2: list<double> probabilities,
}

struct PredictResponse {
  1: string model,
  2: string version,
  3: string served_by,
  4: list<Prediction> predictions,
  5: string prediction_id,  // names this answer for Feedback
  6: string arm,  // why this version answered: "requested", "single", "canary:candidate", ...
}

struct DeleteVersionRequest {
  1: string model,
  2: string version,
}

struct DeleteVersionResponse {
  1: string model,
  2: string deleted_version,
  3: list<string> versions,
}

struct HealthRequest {}

struct HealthResponse {
  1: bool live,
  2: bool ready,
  3: string served_by,
  4: list<string> models,
}

// The core's StrategyConfig. Unset optional fields take the core's defaults.
struct StrategyConfig {
  1: string kind,  // single | shadow | ab | canary | bandit
  2: list<string> versions,
  3: list<double> weights,
  4: optional double canary_percent,
  5: optional double max_error_rate,
  6: optional i64 min_calls,
  7: optional string bandit,  // epsilon_greedy | thompson
  8: optional double epsilon,
  9: optional i64 seed,
}

struct VersionStats {
  1: string version,
  2: i64 calls,
  3: i64 errors,
  4: double latency_ms_mean,
  5: i64 feedback,
  6: double reward_mean,
  7: i64 shadow_calls,
  8: i64 shadow_errors,
  9: double shadow_agreement,
  10: double shadow_latency_ms_mean,
}

struct StrategyStatus {
  1: string model,
  2: StrategyConfig strategy,
  3: list<VersionStats> stats,
  4: string event,
  5: i64 shadow_dropped,
}

struct GetStrategyRequest {
  1: string model,
}

struct SetStrategyRequest {
  1: string model,
  2: StrategyConfig strategy,
}

struct PromoteRequest {
  1: string model,
}

struct RollbackRequest {
  1: string model,
}

struct FeedbackRequest {
  1: string prediction_id,
  2: double reward,
}

struct FeedbackResponse {
  1: string prediction_id,
  2: string model,
  3: string version,
  4: double reward,
}

struct StoredPrediction {
  1: string prediction_id,
  2: string job,
  3: string input_id,
  4: string model,
  5: string version,
  6: string label,
  7: list<double> probabilities,
  8: string created_at,
}

struct GetPredictionRequest {
  1: string prediction_id,
}

struct ListPredictionsRequest {
  1: string job,
  2: optional i64 limit,  // unset: 100
  3: optional i64 offset,  // unset: 0
}

struct ListPredictionsResponse {
  1: list<StoredPrediction> predictions,
}

struct AuthenticateRequest {
  1: string api_key,
}

struct AuthenticateResponse {
  1: bool authenticated,
}

service InferenceService {
  // Metadata of every model the server holds.
  ListModelsResponse ListModels(1: ListModelsRequest request) throws (1: InferenceError error),
  // Metadata of one model. NOT_FOUND when the name is unknown.
  ModelMetadata GetModel(1: GetModelRequest request) throws (1: InferenceError error),
  // Predict one instance or a batch. INVALID_INPUT for wrong shapes or non-finite values,
  // TOO_LARGE over the batch limit, NOT_FOUND for an unknown model or version.
  PredictResponse Predict(1: PredictRequest request) throws (1: InferenceError error),
  // Predict from an encoded PNG/JPEG image (digits model).
  PredictResponse PredictImage(1: PredictImageRequest request) throws (1: InferenceError error),
  // Unload one version from this server. FAILED_PRECONDITION for the default version.
  DeleteVersionResponse DeleteVersion(1: DeleteVersionRequest request)
      throws (1: InferenceError error),
  // Liveness, readiness and the replica's identity; needs no API key.
  HealthResponse Health(1: HealthRequest request) throws (1: InferenceError error),

  // Deployment strategies (docs/strategies.md). NOT_FOUND for an unknown model.
  StrategyStatus GetStrategy(1: GetStrategyRequest request) throws (1: InferenceError error),
  // INVALID_INPUT for a configuration that cannot run; statistics start from zero.
  StrategyStatus SetStrategy(1: SetStrategyRequest request) throws (1: InferenceError error),
  // shadow/canary only (else FAILED_PRECONDITION): the candidate becomes the only version.
  StrategyStatus Promote(1: PromoteRequest request) throws (1: InferenceError error),
  // shadow/canary only (else FAILED_PRECONDITION): the stable version becomes the only one.
  StrategyStatus Rollback(1: RollbackRequest request) throws (1: InferenceError error),
  // A reward in [0, 1] for an earlier prediction (its prediction_id); bandits learn from it.
  FeedbackResponse Feedback(1: FeedbackRequest request) throws (1: InferenceError error),

  // Batch predictions stored by `protobench batch`; the id is "<job>/<input id>".
  StoredPrediction GetPrediction(1: GetPredictionRequest request)
      throws (1: InferenceError error),
  // A page of one job's stored predictions, in the order of the input file.
  ListPredictionsResponse ListPredictions(1: ListPredictionsRequest request)
      throws (1: InferenceError error),

  // Present the server's API key for the rest of this connection (UNAUTHENTICATED if wrong).
  AuthenticateResponse Authenticate(1: AuthenticateRequest request)
      throws (1: InferenceError error),
}
