"""OGC API – Features part 3: CQL2 (text and JSON) filters on a collection's queryables.

pygeofilter parses both encodings into one AST; this module turns that AST into a SQL boolean
expression over the source's columns with every literal a bound parameter. Only queryables and
`geometry` may be named, so a filter can never reach a column the collection does not show
(observations' filters see the snapped point and the coarsened date, like everything else).
Supported: AND/OR/NOT, comparisons, LIKE, IN, BETWEEN, IS NULL, and the spatial predicates
S_INTERSECTS, S_DISJOINT, S_WITHIN, S_CONTAINS (geometry literals and BBOX) — basic CQL2,
advanced comparisons and basic spatial functions.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from pygeofilter import ast, values
from pygeofilter.parsers.cql2_json import parse as parse_json
from pygeofilter.parsers.cql2_text import parse as parse_text

from server.core.errors import DomainError
from server.ogc.crs import Crs


class InvalidFilter(DomainError):
    status = 400
    code = "invalid-filter"
    title = "The filter is not valid"


COMPARISONS = {
    ast.Equal: "=",
    ast.NotEqual: "<>",
    ast.LessThan: "<",
    ast.LessEqual: "<=",
    ast.GreaterThan: ">",
    ast.GreaterEqual: ">=",
}
SPATIAL = {
    ast.GeometryIntersects: "ST_Intersects",
    ast.GeometryDisjoint: "ST_Disjoint",
    ast.GeometryWithin: "ST_Within",
    ast.GeometryContains: "ST_Contains",
}


class _Compiler:
    def __init__(self, source, crs: Crs) -> None:
        self.columns = {q.name for q in source.queryables}
        self.crs = crs
        self.params: dict = {}

    def bind(self, value) -> str:
        name = f"f{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def value(self, node) -> str:
        if isinstance(node, ast.Attribute):
            if node.name in ("geometry", "geom"):
                return "s.geom"
            if node.name not in self.columns:
                raise InvalidFilter(
                    f"{node.name!r} is not a queryable of this collection",
                    errors={"filter": [f"queryables: {', '.join(sorted(self.columns))}"]},
                )
            return f"s.{node.name}"
        if isinstance(node, values.Geometry):
            return self.geometry(json.dumps(node.geometry))
        if isinstance(node, values.Envelope):
            return self.envelope(node.x1, node.y1, node.x2, node.y2)
        if isinstance(node, ast.Function) and node.name.lower() == "bbox":
            return self.envelope(*node.arguments[:4])
        if isinstance(node, bool | int | float | str | date | datetime):
            return self.bind(node)
        raise InvalidFilter(f"not supported in a filter: {type(node).__name__}")

    def geometry(self, geojson: str) -> str:
        geom = f"ST_SetSRID(ST_GeomFromGeoJSON({self.bind(geojson)}), {self.crs.srid})"
        if self.crs.lat_first:
            geom = f"ST_FlipCoordinates({geom})"
        return f"ST_Transform({geom}, 4326)"

    def envelope(self, x0, y0, x1, y1) -> str:
        box = (
            f"ST_MakeEnvelope({self.bind(float(x0))}, {self.bind(float(y0))}, "
            f"{self.bind(float(x1))}, {self.bind(float(y1))}, {self.crs.srid})"
        )
        if self.crs.lat_first:
            box = f"ST_FlipCoordinates({box})"
        return f"ST_Transform({box}, 4326)"

    def __call__(self, node) -> str:
        if isinstance(node, ast.And | ast.Or):
            joiner = " AND " if isinstance(node, ast.And) else " OR "
            return f"({self(node.lhs)}{joiner}{self(node.rhs)})"
        if isinstance(node, ast.Not):
            return f"(NOT {self(node.sub_node)})"
        if type(node) in COMPARISONS:
            return f"({self.value(node.lhs)} {COMPARISONS[type(node)]} {self.value(node.rhs)})"
        if isinstance(node, ast.Like):
            op = "ILIKE" if node.nocase else "LIKE"
            pattern = node.pattern.replace(node.wildcard, "%").replace(node.singlechar, "_")
            negate = "NOT " if node.not_ else ""
            return f"({self.value(node.lhs)}::text {negate}{op} {self.bind(pattern)})"
        if isinstance(node, ast.In):
            items = ", ".join(self.value(v) for v in node.sub_nodes)
            return f"({self.value(node.lhs)} {'NOT ' if node.not_ else ''}IN ({items}))"
        if isinstance(node, ast.Between):
            negate = "NOT " if node.not_ else ""
            return (
                f"({self.value(node.lhs)} {negate}BETWEEN {self.value(node.low)}"
                f" AND {self.value(node.high)})"
            )
        if isinstance(node, ast.IsNull):
            return f"({self.value(node.lhs)} IS {'NOT ' if node.not_ else ''}NULL)"
        if type(node) in SPATIAL:
            return f"{SPATIAL[type(node)]}({self.value(node.lhs)}, {self.value(node.rhs)})"
        raise InvalidFilter(f"not supported in a filter: {type(node).__name__}")


def compile_filter(expression: str | dict, lang: str, source, crs: Crs) -> tuple[str, dict]:
    """(SQL over the source row `s`, its bound parameters) for a CQL2 filter."""
    try:
        tree = parse_json(expression) if lang == "cql2-json" else parse_text(expression)
    except Exception as error:  # the parsers raise many kinds; each is the caller's mistake
        raise InvalidFilter(
            f"the filter does not parse as {lang}: {str(error).splitlines()[0][:200]}",
            errors={"filter": ["not valid " + lang]},
        ) from error
    compiler = _Compiler(source, crs)
    sql = compiler(tree)
    return sql, compiler.params
