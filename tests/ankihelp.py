"""Test helper: import a package into a real Anki collection the way Anki's own importer does."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def import_apkg(col: Any, path: Path) -> Any:
    """Import `path` into the Anki collection `col` (notes updated when newer, with scheduling);
    returns Anki's import log."""
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest
    from anki.import_export_pb2 import IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER

    options = ImportAnkiPackageOptions(
        merge_notetypes=False,
        update_notes=IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
        update_notetypes=IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
        with_scheduling=True,
        with_deck_configs=True,
    )
    return col.import_anki_package(ImportAnkiPackageRequest(package_path=str(path), options=options)).log
