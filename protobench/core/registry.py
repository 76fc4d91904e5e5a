"""The models a server holds: trained on first use, loaded from versioned artifacts."""

from __future__ import annotations

import threading
from pathlib import Path

from protobench.core.catalogue import CATALOGUE, ModelRecipe, fit
from protobench.core.errors import CoreError, ErrorCode
from protobench.core.models import ServedModel, load_artifact, save_artifact
from protobench.core.types import ModelMetadata


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (1 << 62, version)


class ModelRegistry:
    """Holds every served version in memory.

    ``delete`` unloads a version from this process only: its artifact stays on disk, so a
    restarted server serves it again.
    """

    def __init__(self, models_dir: Path, catalogue: dict[str, ModelRecipe] = CATALOGUE) -> None:
        self.models_dir = Path(models_dir)
        self._catalogue = catalogue
        self._defaults = {
            name: max((v.version for v in recipe.versions), key=_version_key)
            for name, recipe in catalogue.items()
        }
        self._models: dict[str, dict[str, ServedModel]] = {}
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load every version, training and saving the ones that have no artifact yet."""
        loaded: dict[str, dict[str, ServedModel]] = {}
        for recipe in self._catalogue.values():
            versions: dict[str, ServedModel] = {}
            for version in recipe.versions:
                folder = self.models_dir / recipe.name / version.version
                if not (folder / "card.json").exists():
                    served, _ = fit(recipe, version)
                    save_artifact(folder, served)
                versions[version.version] = load_artifact(folder)
            loaded[recipe.name] = versions
        with self._lock:
            self._models = loaded

    def names(self) -> list[str]:
        return list(self._models)

    def _versions(self, name: str) -> dict[str, ServedModel]:
        try:
            return self._models[name]
        except KeyError:
            raise CoreError(
                ErrorCode.NOT_FOUND,
                f"unknown model {name!r}; available: {', '.join(self._models) or 'none'}",
                {"model": name},
            ) from None

    def default_version(self, name: str) -> str:
        """The newest version the catalogue defines for the model."""
        return self._defaults[name]

    def get(self, name: str, version: str | None = None) -> ServedModel:
        versions = self._versions(name)
        chosen = version or self.default_version(name)
        try:
            return versions[chosen]
        except KeyError:
            raise CoreError(
                ErrorCode.NOT_FOUND,
                f"model {name!r} has no version {chosen!r}; available: {', '.join(versions)}",
                {"model": name, "version": chosen},
            ) from None

    def feature_names(self, name: str) -> tuple[str, ...]:
        """The model's input columns in order, e.g. ``sepal_length`` for iris."""
        self._versions(name)
        return self._catalogue[name].features

    def metadata(self, name: str) -> ModelMetadata:
        versions = self._versions(name)
        card = next(iter(versions.values())).card
        return ModelMetadata(
            name=name,
            task=card.task,
            description=card.description,
            versions=sorted(versions, key=_version_key),
            default_version=self.default_version(name),
            input=card.input,
            labels=card.labels,
        )

    def delete(self, name: str, version: str) -> list[str]:
        """Unload one version; the default (and so the last) version cannot be deleted."""
        with self._lock:
            versions = self._versions(name)
            if version not in versions:
                raise CoreError(
                    ErrorCode.NOT_FOUND,
                    f"model {name!r} has no version {version!r}; available: {', '.join(versions)}",
                    {"model": name, "version": version},
                )
            if version == self.default_version(name):
                raise CoreError(
                    ErrorCode.FAILED_PRECONDITION,
                    f"version {version!r} is the default version of {name!r} and cannot be "
                    "deleted; delete an older version instead",
                    {"model": name, "version": version},
                )
            remaining = {v: m for v, m in versions.items() if v != version}
            self._models = {**self._models, name: remaining}
            return sorted(remaining, key=_version_key)
