"""CRM endpoints: HubSpot CRM v3 objects (contacts, companies, deals, tickets, notes), search,
batch, associations (v4 and the v3 per-object form), owners, pipelines and properties, one
module per area.

Every handler works inside the caller's tenant (``ctx``). Deleting an object archives it
(``archived: true``); archived objects are visible only with ``archived=true`` and cannot be
changed. Importing this package registers the routes.
"""

from __future__ import annotations

from . import associations, objects, owners, pipelines, properties, search
from ._common import INVERSE, OBJECT_TYPES, PAIRS, SINGULAR, TYPE_IDS, associate, object_type, router

__all__ = [
    "INVERSE",
    "OBJECT_TYPES",
    "PAIRS",
    "SINGULAR",
    "TYPE_IDS",
    "associate",
    "associations",
    "object_type",
    "objects",
    "owners",
    "pipelines",
    "properties",
    "router",
    "search",
]
