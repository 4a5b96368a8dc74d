"""The geometries a report draws or carries, read from PostGIS (never from the internet):
the PDF map's outlines and points, the GeoPackage's projects and comuni layers."""

from __future__ import annotations

from typing import Any

from rigenera.reports import aggregate
from rigenera.reports.model import Report
from rigenera.reports.pdf import MapData
from rigenera.reports.request import ReportRequest


def map_data(dsn: str, req: ReportRequest) -> MapData:
    params = aggregate._params(req)
    conn = aggregate.connect(dsn)
    try:
        with conn.cursor() as cur:
            data = MapData()
            for code, _name, wkb in aggregate._rows(cur, aggregate._sql("map_comuni"), params):
                data.comuni[code] = bytes(wkb)
            for _id, status, x, y in aggregate._rows(cur, aggregate._template("map_projects"), params):
                data.points.append((float(x), float(y), str(status)))
            cur.execute(aggregate._template("metro_count"), params)
            data.metro_area_projects = int(cur.fetchone()[0])
    finally:
        conn.close()
    return data


def gpkg_layers(dsn: str, req: ReportRequest, report: Report) -> list[tuple[str, Any, str]]:
    """`projects` (the published rows of the report's projects) and `comuni` (each comune's
    outline with its row of the per-comune table)."""
    import pyarrow as pa

    params = aggregate._params(req)
    conn = aggregate.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(aggregate._template("projects_layer"), params)
            names = [d.name for d in cur.description]
            rows = cur.fetchall()
            cur.execute(aggregate._sql("comuni_layer"), params)
            outlines = {code: bytes(wkb) for code, wkb in cur.fetchall()}
    finally:
        conn.close()
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    arrays = []
    for name, values in zip(names, cols, strict=True):
        if name == "geom":
            arrays.append(pa.array([None if v is None else bytes(v) for v in values], pa.binary()))
        elif name == "id":
            arrays.append(pa.array(values, pa.int64()))
        elif name in ("total_cost_eur", "funding_requested_eur", "funding_granted_eur", "pnrr_granted_eur",
                      "physical_progress_pct", "spent_eur", "paid_eur", "regenerated_m2"):
            arrays.append(pa.array([None if v is None else float(v) for v in values], pa.float64()))
        else:
            arrays.append(pa.array(values, pa.string()))
    projects = pa.table(arrays, names=names)
    by_comune = next(t for t in report.tables if t.name == "by_comune")
    comuni_rows = [r for r in by_comune.rows if r.get("istat_code") in outlines]
    table = aggregate_table_arrow(by_comune.columns, comuni_rows)
    table = table.append_column("geom", pa.array([outlines[r["istat_code"]] for r in comuni_rows],
                                                 pa.binary()))
    return [("projects", projects, "Unknown"), ("comuni", table, "MultiPolygon")]


def aggregate_table_arrow(columns: Any, rows: list[dict[str, Any]]) -> Any:
    from rigenera.reports.model import Table
    from rigenera.reports.writers import _arrow_table

    return _arrow_table(Table("comuni", "", "", list(columns), rows))
