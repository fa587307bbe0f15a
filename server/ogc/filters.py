"""OGC API – Features part 3: CQL2 (text and JSON) filters on a collection's queryables.

pygeofilter parses both encodings into one AST; this module turns that AST into a SQL boolean
expression over the source's columns with every literal a bound parameter. Only queryables may
be named, so a filter can never reach a column the collection does not show (observations'
filters see the snapped point and the coarsened date, like everything else).
"""

from __future__ import annotations


def compile_filter(expression, lang, source, crs):  # replaced in step 5
    raise NotImplementedError
