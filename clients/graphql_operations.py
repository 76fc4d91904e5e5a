"""The GraphQL operations the client sends: one named operation each, values as variables.

Fields whose GraphQL name is camelCase are aliased back to the core's snake_case names
(``served_by: servedBy``), so an answer validates straight into the core types.
"""

from __future__ import annotations

from typing import NamedTuple


class Operation(NamedTuple):
    name: str  # the operation's name, sent as operationName
    field: str  # the root field whose value is the answer
    document: str


_MODEL_FIELDS = """
fragment ModelFields on ModelMetadata {
  name task description versions default_version: defaultVersion
  input { name dtype shape }
  labels
}
"""

_PREDICTION_FIELDS = """
fragment PredictionFields on PredictResponse {
  model version served_by: servedBy
  predictions { label probabilities }
  prediction_id: predictionId arm
}
"""

LIST_MODELS = Operation(
    "ListModels",
    "models",
    "query ListModels { models { ...ModelFields } }" + _MODEL_FIELDS,
)

GET_MODEL = Operation(
    "GetModel",
    "model",
    "query GetModel($name: String!) { model(name: $name) { ...ModelFields } }" + _MODEL_FIELDS,
)

PREDICT = Operation(
    "Predict",
    "predict",
    """
query Predict($model: String!, $instances: [[Float!]!]!, $version: String, $caller: String) {
  predict(model: $model, instances: $instances, version: $version, caller: $caller) {
    ...PredictionFields
  }
}
"""
    + _PREDICTION_FIELDS,
)

PREDICT_IMAGE = Operation(
    "PredictImage",
    "predictImage",
    """
query PredictImage($model: String!, $image: String!, $version: String) {
  predictImage(model: $model, image: $image, version: $version) { ...PredictionFields }
}
"""
    + _PREDICTION_FIELDS,
)

DELETE_VERSION = Operation(
    "DeleteVersion",
    "deleteVersion",
    """
mutation DeleteVersion($model: String!, $version: String!) {
  deleteVersion(model: $model, version: $version) { model }
}
""",
)

HEALTH = Operation(
    "Health",
    "health",
    "query Health { health { live ready served_by: servedBy models } }",
)

# -- deployment strategies and stored batch predictions -----------------------------------------
# These select camelCase names without aliases (a status has more multi-word fields than the
# server's alias limit allows); the client converts the answer's keys to snake_case.

_STRATEGY_FIELDS = """
fragment StrategyFields on StrategyStatus {
  model event shadowDropped
  strategy {
    kind versions weights canaryPercent maxErrorRate
    minCalls bandit epsilon seed
  }
  stats {
    version calls errors latencyMsMean feedback rewardMean
    shadowCalls shadowErrors
    shadowAgreement shadowLatencyMsMean
  }
}
"""

_STORED_FIELDS = """
fragment StoredFields on StoredPrediction {
  predictionId job inputId model version label probabilities
  createdAt
}
"""

GET_STRATEGY = Operation(
    "GetStrategy",
    "strategy",
    "query GetStrategy($model: String!) { strategy(model: $model) { ...StrategyFields } }"
    + _STRATEGY_FIELDS,
)

SET_STRATEGY = Operation(
    "SetStrategy",
    "setStrategy",
    """
mutation SetStrategy($model: String!, $strategy: StrategyInput!) {
  setStrategy(model: $model, strategy: $strategy) { ...StrategyFields }
}
"""
    + _STRATEGY_FIELDS,
)

PROMOTE = Operation(
    "Promote",
    "promote",
    "mutation Promote($model: String!) { promote(model: $model) { ...StrategyFields } }"
    + _STRATEGY_FIELDS,
)

ROLLBACK = Operation(
    "Rollback",
    "rollback",
    "mutation Rollback($model: String!) { rollback(model: $model) { ...StrategyFields } }"
    + _STRATEGY_FIELDS,
)

FEEDBACK = Operation(
    "Feedback",
    "feedback",
    """
mutation Feedback($id: String!, $reward: Float!) {
  feedback(id: $id, reward: $reward) { predictionId model version reward }
}
""",
)

GET_PREDICTION = Operation(
    "GetPrediction",
    "storedPrediction",
    "query GetPrediction($id: String!) { storedPrediction(id: $id) { ...StoredFields } }"
    + _STORED_FIELDS,
)

LIST_PREDICTIONS = Operation(
    "ListPredictions",
    "storedPredictions",
    """
query ListPredictions($job: String!, $limit: Int!, $offset: Int!) {
  storedPredictions(job: $job, limit: $limit, offset: $offset) { ...StoredFields }
}
"""
    + _STORED_FIELDS,
)
