"""Great-circle distances between region capitals (regions.csv), for "nearest provider".

Pure. Peru's departments are large and roads are poor, but the spec (domain.md §3) ranks
providers by the straight-line distance between region capitals: simple, explainable to a
caseworker, and stable when the directory changes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

#: Mean Earth radius (IUGG), kilometres.
EARTH_RADIUS_KM = 6371.0088

Coordinates = tuple[float, float]
RegionCoords = Mapping[str, Coordinates]


@functools.lru_cache(maxsize=4096)  # pure; planning asks the same region pairs again and again
def haversine_km(a: Coordinates, b: Coordinates) -> float:
    """Great-circle distance in km between two (latitude, longitude) points in degrees."""
    lat1, lon1 = a
    lat2, lon2 = b
    for lat, lon in (a, b):
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            raise ValueError(f"invalid coordinates ({lat}, {lon})")
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def region_distance_km(origin: str, destination: str, coords: RegionCoords) -> float | None:
    """Distance between two regions' capitals; 0 for the same region.

    ``None`` when either region has no coordinates (``abroad``, ``unknown``, or a region
    missing from the table), so callers can rank such providers last instead of guessing.
    """
    if origin == destination:
        return 0.0
    a = coords.get(origin)
    b = coords.get(destination)
    if a is None or b is None:
        return None
    return haversine_km(a, b)
