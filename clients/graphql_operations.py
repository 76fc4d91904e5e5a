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
query Predict($model: String!, $instances: [[Float!]!]!, $version: String) {
  predict(model: $model, instances: $instances, version: $version) { ...PredictionFields }
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
