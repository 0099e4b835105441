"""One-off: derive the simplified coastline of Pulau Ambon and its neighbours from GSHHG.

    make gshhg      (installs Debian's gmt + gmt-gshhg-full, then runs this script)

GMT's ``coast -M -W`` dumps the full-resolution GSHHG shorelines (level 1: land/ocean)
of the map's region in pieces cut at GSHHG's bins; this script joins the pieces into
rings, simplifies them (Douglas-Peucker, ~40 m) and writes data/coastline/ambon.geojson:
closed rings as land polygons, rings cut by the region's edge (Seram) closed along that
edge. The result is committed; nothing at run time needs GMT or GSHHG.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

REGION = (127.60, 128.80, -4.10, -3.20)  # lon min, lon max, lat min, lat max: Ambon, Lease, south Seram
TOLERANCE_DEG = 0.0004  # ~40 m at the equator: finer than a pixel at zoom 11-13
MIN_POINTS = 4
OUT = Path(__file__).resolve().parent.parent / "data" / "coastline" / "ambon.geojson"


def gmt_segments() -> list[list[tuple[float, float]]]:
    """The shoreline pieces in the region, as GMT prints them (``>`` starts a piece)."""
    west, east, south, north = REGION
    text = subprocess.run(["gmt", "coast", f"-R{west}/{east}/{south}/{north}", "-Df", "-W",
                           "-M", "-A0/1/1"], capture_output=True, text=True, check=True).stdout
    pieces: list[list[tuple[float, float]]] = []
    for line in text.splitlines():
        if line.startswith(">"):
            pieces.append([])
        elif line.strip():
            lon, lat = (float(v) for v in line.split()[:2])
            pieces[-1].append((lon, lat))
    return [p for p in pieces if len(p) > 1]


def _close(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return abs(a[0] - b[0]) < 1e-7 and abs(a[1] - b[1]) < 1e-7


def join(pieces: list[list[tuple[float, float]]]) -> list[list[tuple[float, float]]]:
    """Chain pieces whose ends meet (either way round) until no more join."""
    lines = [list(p) for p in pieces]
    merged = True
    while merged:
        merged = False
        for i, line in enumerate(lines):
            if _close(line[0], line[-1]):
                continue
            for j in range(len(lines)):
                other = lines[j]
                if j == i or _close(other[0], other[-1]):
                    continue
                if _close(line[-1], other[0]):
                    line.extend(other[1:])
                elif _close(line[-1], other[-1]):
                    line.extend(reversed(other[:-1]))
                else:
                    continue
                del lines[j]
                merged = True
                break
            if merged:
                break
    return lines


def simplify(points: list[tuple[float, float]], tol: float) -> list[tuple[float, float]]:
    """Douglas-Peucker, iterative (rings of thousands of points)."""
    keep = {0, len(points) - 1}
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = points[first], points[last]
        dx, dy = x2 - x1, y2 - y1
        norm = (dx * dx + dy * dy) ** 0.5 or 1e-12
        best, index = 0.0, None
        for k in range(first + 1, last):
            x, y = points[k]
            dist = abs(dy * (x - x1) - dx * (y - y1)) / norm if (dx or dy) else abs(x - x1) + abs(y - y1)
            if dist > best:
                best, index = dist, k
        if index is not None and best > tol:
            keep.add(index)
            stack += [(first, index), (index, last)]
    return [points[k] for k in sorted(keep)]


def _on_same_edge(a: tuple[float, float], b: tuple[float, float]) -> bool:
    west, east, south, north = REGION
    return any(abs(a[i] - v) < 1e-6 and abs(b[i] - v) < 1e-6
               for i, v in ((0, west), (0, east), (1, south), (1, north)))


def features(lines: list[list[tuple[float, float]]]) -> list[dict]:
    out = []
    for line in lines:
        if not _close(line[0], line[-1]):
            if not _on_same_edge(line[0], line[-1]):
                continue  # a piece we cannot close honestly: leave it out
            line = [*line, line[0]]  # cut by one edge of the region: close along it
        ring = simplify(line, TOLERANCE_DEG)
        if len(ring) < MIN_POINTS:
            continue
        coords = [[round(x, 5), round(y, 5)] for x, y in ring]
        out.append({"type": "Feature", "properties": {"kind": "land"},
                    "geometry": {"type": "Polygon", "coordinates": [coords]}})
    return out


def main() -> None:
    pieces = gmt_segments()
    found = features(join(pieces))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    doc = {"type": "FeatureCollection",
           "properties": {"source": "GSHHG 2.3.7 full resolution, level 1 shorelines "
                          "(Debian gmt-gshhg-full), via GMT coast -M",
                          "licence": "LGPL-3.0-or-later (GSHHG, Wessel & Smith)",
                          "made_by": "deploy/make_coastline.py", "region": list(REGION),
                          "simplified_deg": TOLERANCE_DEG},
           "features": found}
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    points = sum(len(f["geometry"]["coordinates"][0]) for f in found)
    print(f"{len(pieces)} GSHHG pieces -> {len(found)} land polygons, {points} points, "  # noqa: T201
          f"{OUT.stat().st_size} bytes: {OUT}")


if __name__ == "__main__":
    main()
