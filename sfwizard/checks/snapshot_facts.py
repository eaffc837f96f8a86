"""Facts from the admin's mapping snapshot (``sfwizard.snapshot``): no public platform API lists them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sfwizard.snapshot import FieldMapping, Snapshot


class SnapshotFacts:
    """Mixed into ``CheckContext`` (its field: ``snapshot``)."""

    snapshot: Snapshot | None

    def mappings(self) -> tuple[FieldMapping, ...]:
        """Field mappings documented in the snapshot."""
        return self.snapshot.mappings if self.snapshot else ()

    def source_mappings(self) -> tuple[FieldMapping, ...]:
        """Salesforce → platform mappings: the fields the integration reads."""
        return tuple(m for m in self.mappings() if m.direction == "sf_to_px")

    def push_mappings(self) -> tuple[FieldMapping, ...]:
        """Platform → Salesforce mappings: the fields the integration writes."""
        return tuple(m for m in self.mappings() if m.direction == "px_to_sf")

    def custom_objects(self) -> tuple[str, ...]:
        return self.snapshot.custom_objects if self.snapshot else ()

    @property
    def knowledge_used(self) -> bool:
        """The snapshot says the Knowledge Center is used (or was enabled); False without a snapshot."""
        return bool(self.snapshot and (self.snapshot.knowledge.used or self.snapshot.knowledge.enabled))
