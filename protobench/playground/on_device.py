"""The lecture's on-device pattern: the browser gets a model's weights once, as JSON, and
evaluates it in JavaScript with no server in the loop.

The page computes exactly what ``SoftmaxNetwork.predict_proba`` computes (ReLU layers, then a
max-shifted softmax) in float64, so its probabilities equal the server's to rounding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from protobench.core.registry import ModelRegistry

# (features, weights) -> [result]: run by gradio in the page before Compare; reports the
# label, the probabilities and the milliseconds one prediction took (averaged over many).
PREDICT_JS = """
(features, weights) => {
  const model = weights["iris"];
  const x0 = String(features).split(",").map(Number);
  if (x0.length !== model.layers[0].W.length || !x0.every(Number.isFinite)) return [""];
  const forward = () => {
    let h = x0;
    model.layers.forEach((layer, i) => {
      const out = layer.b.slice();
      for (let j = 0; j < out.length; j++) {
        for (let k = 0; k < h.length; k++) out[j] += h[k] * layer.W[k][j];
      }
      h = i < model.layers.length - 1 ? out.map(v => Math.max(v, 0)) : out;
    });
    const top = Math.max(...h);
    const e = h.map(v => Math.exp(v - top));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map(v => v / sum);
  };
  // Browsers round performance.now() to 0.1 ms or more: time many runs and divide.
  const runs = 1000;
  const started = performance.now();
  let p = forward();
  for (let r = 1; r < runs; r++) p = forward();
  const ms = (performance.now() - started) / runs;
  const best = p.indexOf(Math.max(...p));
  return [JSON.stringify({label: model.labels[best], probabilities: p, version: model.version,
                          ms: ms})];
}
"""


def weights_document(models_dir: Path) -> dict[str, Any]:
    """Each model's default version: {version, labels, layers: [{W: inputs x outputs, b}]}."""
    registry = ModelRegistry(models_dir)
    registry.load()
    document: dict[str, Any] = {}
    for name in registry.names():
        served = registry.get(name)
        network = served.network
        document[name] = {
            "version": served.card.version,
            "labels": served.card.labels,
            "layers": [
                {"W": w.tolist(), "b": b.tolist()}
                for w, b in zip(network.weights, network.biases, strict=True)
            ],
        }
    return document
