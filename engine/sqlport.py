"""DuckDB SQL carried to Spark SQL: the sessions and features statements, transpiled with sqlglot.

``SparkTranslator().translate(sql, params)`` turns one DuckDB statement (``$name`` parameters
bound from ``params``) into a ``SparkStatement``. sqlglot does the dialect work; the few DuckDB
constructs it cannot carry are rewritten here on the syntax tree, for any statement, not per
query: ``ASOF JOIN`` (a union and a running ``last_value``), ``epoch()`` (kept to the
microsecond), ``s[:n]`` slices, ``range(n)`` tables, ``try(url_decode(x))``, and temp macros
(expanded where they are called), and ``SELECT * EXCLUDE`` / ``UNION BY NAME`` spelled out
from the tables' columns. ``spark_statements`` lists every statement ``engine.sessions.build``
runs with its Spark form, so nothing keeps a second copy of that SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.spark import Spark


class PortError(Exception):
    """A DuckDB statement that cannot be carried to Spark SQL (one line: which construct, where)."""


class _SparkOut(Spark):
    """Spark as sqlglot writes it, but epoch() keeps microseconds (Spark's unix_timestamp() drops
    them), any_value() skips NULLs as DuckDB's does, and WITH stays where it was written."""

    class Generator(Spark.Generator):
        # Spark 4 reads a WITH inside a subquery; hoisting them all to the top (sqlglot's Hive
        # habit) would make two windowed subqueries' `_b` clash.
        EXPRESSIONS_WITHOUT_NESTED_CTES: set = set()
        TRANSFORMS = {
            **Spark.Generator.TRANSFORMS,
            exp.TimeToUnix: lambda self, e: f"(UNIX_MICROS({self.sql(e, 'this')}) / 1E6)",
            # DuckDB's any_value skips NULLs; Spark's says so in an argument (its IGNORE NULLS
            # clause cannot stand before FILTER).
            exp.AnyValue: lambda self, e: f"ANY_VALUE({self.sql(e, 'this')}, TRUE)",
        }


@dataclass(frozen=True)
class SparkStatement:
    """One statement for Spark: a query, or a query whose result becomes the temp view ``target``."""

    query: str
    target: str | None = None  # CREATE [TEMP] TABLE target AS ...: on Spark a temp view over its rows

    @property
    def sql(self) -> str:
        if self.target is None:
            return self.query
        return f"CREATE OR REPLACE TEMPORARY VIEW {self.target} AS {self.query}"


@dataclass(frozen=True)
class _Macro:
    params: tuple[str, ...]
    body: exp.Expression


class SparkTranslator:
    """Translates DuckDB statements one by one; remembers the temp macros they define."""

    def __init__(self, schema: dict[str, list[str]] | None = None) -> None:
        self.macros: dict[str, _Macro] = {}
        # Column names of the tables the statements read (events, and each temp table once it
        # is made): what `SELECT * EXCLUDE (...)` and `UNION BY NAME` are spelled out from.
        self.schema: dict[str, list[str]] = {k.lower(): list(v) for k, v in (schema or {}).items()}

    def translate(self, sql: str, params: dict | None = None) -> SparkStatement | None:
        """The Spark form of ``sql``, or None for a statement with nothing to run there (a macro)."""
        try:
            tree = sqlglot.parse_one(sql, read="duckdb")
        except sqlglot.errors.ParseError as exc:
            raise PortError(f"sqlglot cannot read the DuckDB statement: {_first_line(exc)}") from exc
        if isinstance(tree, exp.Create) and str(tree.args.get("kind") or "").upper() == "MACRO":
            self._define_macro(tree)
            return None
        tree = self._bind(tree, params or {})
        tree = self._expand_macros(tree)
        tree = _rewrite(tree)
        tree = _spell_out(tree, self.schema)
        target = None
        if isinstance(tree, exp.Create):
            if str(tree.args.get("kind") or "").upper() != "TABLE" or not isinstance(tree.expression, exp.Query):
                raise PortError(f"only CREATE TABLE ... AS SELECT is carried to Spark, not: {sql.strip()[:80]}")
            target = tree.this.name
            tree = tree.expression
        try:
            query = tree.sql(dialect=_SparkOut, unsupported_level=sqlglot.ErrorLevel.RAISE)
        except sqlglot.errors.UnsupportedError as exc:
            raise PortError(f"no Spark form for {_first_line(exc)} in: {sql.strip()[:80]}") from exc
        return SparkStatement(query, target)

    def _define_macro(self, tree: exp.Create) -> None:
        udf = tree.this
        name = udf.this.name if isinstance(udf.this, exp.Table) else udf.name
        params = tuple(p.name for p in udf.expressions)
        self.macros[name.lower()] = _Macro(params, _rewrite_try(tree.expression))

    def _expand_macros(self, tree: exp.Expression) -> exp.Expression:
        if not self.macros:
            return tree

        def expand(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Anonymous) and str(node.this).lower() in self.macros:
                macro = self.macros[str(node.this).lower()]
                if len(node.expressions) != len(macro.params):
                    raise PortError(f"macro {node.this} takes {len(macro.params)} arguments")
                args = dict(zip(macro.params, node.expressions))
                body = macro.body.copy()
                body = body.transform(
                    lambda n: args[n.name].copy() if isinstance(n, exp.Column) and not n.table and n.name in args
                    else n
                )
                return self._expand_macros(body)  # a macro may call another
            return node

        return tree.transform(expand)

    @staticmethod
    def _bind(tree: exp.Expression, params: dict) -> exp.Expression:
        # The parameters are engine settings (gaps, regular expressions, state lists), never log
        # text: they become literals, which sqlglot quotes and escapes for Spark.
        def bind(node: exp.Expression) -> exp.Expression:
            if isinstance(node, (exp.Placeholder, exp.Parameter)):
                name = node.name
                if name not in params:
                    raise PortError(f"parameter ${name} has no value")
                value = params[name]
                return exp.convert(list(value) if isinstance(value, tuple) else value)
            return node

        return tree.transform(bind)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else exc.__class__.__name__


# --- rewrites on the tree, for constructs sqlglot does not carry -------------------------------

def _rewrite(tree: exp.Expression) -> exp.Expression:
    tree = _rewrite_try(tree)
    tree = tree.transform(_rewrite_node)
    # Innermost ASOF joins first: find_all walks from the root down.
    for select in reversed(list(tree.find_all(exp.Select))):
        if any(str(j.args.get("method") or "").upper() == "ASOF" for j in select.args.get("joins") or ()):
            _rewrite_asof(select)
    return tree


def _rewrite_try(tree: exp.Expression) -> exp.Expression:
    def fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Try):
            # try(f(x)) is NULL where f fails; Spark has that only as try_f for a few f.
            inner = node.this
            if isinstance(inner, exp.Anonymous) and str(inner.this).lower() == "url_decode":
                return exp.Anonymous(this="try_url_decode", expressions=[a.copy() for a in inner.expressions])
            raise PortError(f"no Spark form for try({inner.sql('duckdb')[:40]})")
        return node

    return tree.transform(fix)


def _rewrite_node(node: exp.Expression) -> exp.Expression:
    # s[:n] / s[a:b] on text (DuckDB slices are 1-based and inclusive) -> substring().
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1 and isinstance(node.expressions[0], exp.Slice):
        sl = node.expressions[0]
        start = sl.this if sl.this is not None else exp.Literal.number(1)
        end = sl.expression
        if end is None:
            return exp.Substring(this=node.this.copy(), start=start.copy())
        length = exp.paren(exp.Sub(this=end.copy(), expression=start.copy())) + exp.Literal.number(1)
        if isinstance(start, exp.Literal) and isinstance(end, exp.Literal):
            length = exp.Literal.number(int(end.this) - int(start.this) + 1)
        return exp.Substring(this=node.this.copy(), start=start.copy(), length=length)
    # FROM range(n) t(c): Spark has the same table function (sqlglot would make it an explode).
    if isinstance(node, exp.Table) and isinstance(node.this, exp.GenerateSeries):
        gs = node.this
        if not gs.args.get("is_end_exclusive") or gs.args.get("step") is not None:
            return node
        fn = exp.Anonymous(this="range", expressions=[gs.args["start"].copy(), gs.args["end"].copy()])
        return exp.Table(this=fn, alias=node.args.get("alias"))
    # any_value(x) IGNORE NULLS: the generator says it as ANY_VALUE(x, TRUE), which FILTER may follow.
    if isinstance(node, exp.IgnoreNulls) and isinstance(node.this, exp.AnyValue):
        return node.this.copy()
    # WITH x AS MATERIALIZED (...): Spark has no such hint (its planner decides).
    if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
        node.set("materialized", None)
    return node


def _alias_of(source: exp.Expression) -> str:
    alias = source.alias_or_name
    if not alias:
        raise PortError("an ASOF JOIN side needs a name (FROM t or (SELECT ...) alias)")
    return alias


def _conjuncts(cond: exp.Expression) -> list[exp.Expression]:
    if isinstance(cond, exp.And):
        return _conjuncts(cond.this) + _conjuncts(cond.expression)
    if isinstance(cond, exp.Paren):
        return _conjuncts(cond.this)
    return [cond]


def _rewrite_asof(select: exp.Select) -> None:
    """``FROM l ASOF JOIN r ON l.k = r.k AND l.t >= r.t``, as Spark can run it.

    For every row of l, the r row with the same keys and the latest time at or before l's: the
    rows of both sides in one union, ordered by time per key (an r row before an l row at the
    same time), and each l row takes the last r values seen (``last_value(..., true)``), as
    DuckDB's ASOF JOIN does, in one sort instead of a range join.
    """
    joins = select.args["joins"]
    if len(joins) != 1:
        raise PortError("an ASOF JOIN is carried to Spark only as the single join of its SELECT")
    join = joins[0]
    left_src = select.args["from_"].this
    right_src = join.this
    la, ra = _alias_of(left_src), _alias_of(right_src)
    keys: list[tuple[exp.Expression, exp.Expression]] = []
    key_eq: list[bool] = []  # plain `=` (NULL matches nothing), not IS NOT DISTINCT FROM
    time_pair = None
    strict = False
    for c in _conjuncts(join.args["on"]):
        if isinstance(c, (exp.EQ, exp.NullSafeEQ)):
            a, b = c.this, c.expression
            if a.table == ra and b.table == la:
                a, b = b, a
            if a.table != la or b.table != ra:
                raise PortError("ASOF JOIN keys must compare a column of each side")
            keys.append((a, b))
            key_eq.append(isinstance(c, exp.EQ))
        elif isinstance(c, (exp.GTE, exp.GT, exp.LTE, exp.LT)):
            a, b = c.this, c.expression
            if isinstance(c, (exp.LTE, exp.LT)):
                a, b = b, a
            if a.table != la or b.table != ra or time_pair is not None:
                raise PortError("an ASOF JOIN needs one condition left.t >= right.t")
            time_pair = (a, b)
            strict = isinstance(c, (exp.GT, exp.LT))
        else:
            raise PortError(f"ASOF JOIN condition not carried to Spark: {c.sql('duckdb')}")
    if time_pair is None:
        raise PortError("an ASOF JOIN needs one condition left.t >= right.t")

    # Columns the rest of the SELECT reads from each side (they must be qualified).
    used: dict[str, list[str]] = {la: [], ra: []}
    for part in ("expressions", "where", "group", "having", "order", "qualify"):
        val = select.args.get(part)
        for node in (val if isinstance(val, list) else [val]):
            if node is None:
                continue
            for col in node.find_all(exp.Column):
                if col.table in used and col.name not in used[col.table]:
                    used[col.table].append(col.name)
                elif not col.table and not isinstance(col.this, exp.Star):
                    raise PortError(f"columns beside an ASOF JOIN must name their side: {col.sql('duckdb')}")
    lcols, rcols = used[la], used[ra]

    def q(name: str) -> str:
        return exp.to_identifier(name, quoted=True).sql(_SparkOut)

    def src_sql(src: exp.Expression) -> str:
        return src.sql(dialect=_SparkOut, unsupported_level=sqlglot.ErrorLevel.RAISE)

    key_names = [f"_asof_k{i}" for i in range(len(keys))]
    # The right side's columns travel as one struct, so that a NULL among them is its own
    # value, not a gap for last_value() to skip.
    rstruct = "NAMED_STRUCT(" + ", ".join(f"'{'_r_' + c}', {q(ra)}.{q(c)}" for c in rcols) + ")" if rcols else "TRUE"
    left_sel = ([f"{q(la)}.{q(c)} AS {q('_l_' + c)}" for c in lcols] + ["NULL AS _asof_r"]
                + [f"{src_sql(a)} AS {k}" for (a, _), k in zip(keys, key_names)]
                + [f"{src_sql(time_pair[0])} AS _asof_t", f"{0 if strict else 1} AS _asof_side"])
    right_sel = ([f"NULL AS {q('_l_' + c)}" for c in lcols] + [f"{rstruct} AS _asof_r"]
                 + [f"{src_sql(b)} AS {k}" for (_, b), k in zip(keys, key_names)]
                 + [f"{src_sql(time_pair[1])} AS _asof_t", f"{1 if strict else 0} AS _asof_side"])
    # ASOF matches no NULL time, nor a NULL key under `=` (IS NOT DISTINCT FROM does match it).
    left_where = [f"{src_sql(time_pair[0])} IS NOT NULL"] + [
        f"{src_sql(a)} IS NOT NULL" for (a, _), eq in zip(keys, key_eq) if eq]
    right_where = [f"{src_sql(time_pair[1])} IS NOT NULL"] + [
        f"{src_sql(b)} IS NOT NULL" for (_, b), eq in zip(keys, key_eq) if eq]
    win = (f"PARTITION BY {', '.join(key_names) or 'NULL'} ORDER BY _asof_t, _asof_side "
           "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW")
    carried = ", ".join([q("_l_" + c) for c in lcols]
                        + ["_asof_side", f"LAST_VALUE(_asof_r, TRUE) OVER ({win}) AS _asof_r"])
    out_cols = ", ".join([q("_l_" + c) for c in lcols] + [f"_asof_r.{q('_r_' + c)} AS {q('_r_' + c)}" for c in rcols])
    side_l = 1 if not strict else 0
    derived = (
        f"(SELECT {out_cols} FROM (SELECT {carried} FROM ("
        f"SELECT {', '.join(left_sel)} FROM {src_sql(left_src.copy())} WHERE {' AND '.join(left_where)} UNION ALL "
        f"SELECT {', '.join(right_sel)} FROM {src_sql(right_src.copy())} WHERE {' AND '.join(right_where)}"
        f") AS _asof_u) AS _asof_w WHERE _asof_side = {side_l} AND _asof_r IS NOT NULL) AS _asof"
    )
    new_from = sqlglot.parse_one(f"SELECT * FROM {derived}", read="spark").args["from_"]

    def requalify(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.table in (la, ra):
            prefix = "_l_" if node.table == la else "_r_"
            return exp.column(prefix + node.name, table="_asof", quoted=True)
        return node

    names = [e.alias_or_name for e in select.expressions]  # `l.x` keeps its name `x`
    for part in ("expressions", "where", "group", "having", "order", "qualify"):
        val = select.args.get(part)
        if isinstance(val, list):
            select.set(part, [v.transform(requalify) for v in val])
        elif val is not None:
            select.set(part, val.transform(requalify))
    select.set("joins", None)
    select.set("from_", new_from)
    select.set("expressions", [
        e if isinstance(e, exp.Alias) or not name else exp.alias_(e, name, quoted=True)
        for e, name in zip(select.expressions, names)
    ])


# --- `SELECT * EXCLUDE (...)` and `UNION BY NAME`: spelled out from the columns they stand for --

def _columns(node: exp.Expression, ctes: dict[str, exp.Expression], schema: dict[str, list[str]]) -> list[str]:
    """The output column names of a query, table or subquery (stars expanded)."""
    if isinstance(node, exp.Subquery):
        return _columns(node.this, ctes, schema)
    if isinstance(node, exp.SetOperation):
        left = _columns(node.this, ctes, schema)
        if not node.args.get("by_name"):
            return left
        right = _columns(node.expression, ctes, schema)
        return left + [c for c in right if c not in left]
    if isinstance(node, exp.Table):
        name = node.name.lower()
        if name in ctes:
            return _columns(ctes[name], ctes, schema)
        if name in schema:
            return schema[name]
        raise PortError(f"columns of {node.name} unknown: cannot spell out a * over it for Spark")
    if isinstance(node, exp.Select):
        out: list[str] = []
        for e in node.expressions:
            if _star_of(e) is None:
                out.append(e.alias_or_name)
            else:
                out.extend(_star_columns(node, e, ctes, schema))
        return out
    raise PortError(f"cannot tell the columns of {type(node).__name__} to spell out a * for Spark")


def _star_of(e: exp.Expression) -> exp.Star | None:
    if isinstance(e, exp.Star):
        return e
    if isinstance(e, exp.Column) and isinstance(e.this, exp.Star):
        return e.this
    return None


def _star_columns(select: exp.Select, e: exp.Expression, ctes: dict[str, exp.Expression],
                  schema: dict[str, list[str]]) -> list[str]:
    """What ``*`` / ``t.*`` (less its EXCLUDE list) stands for in ``select``."""
    local = dict(ctes)
    for cte in (select.args.get("with_").expressions if select.args.get("with_") else []):
        local[cte.alias_or_name.lower()] = cte.this
    sources = [select.args["from_"].this] if select.args.get("from_") else []
    sources += [j.this for j in select.args.get("joins") or ()]
    if isinstance(e, exp.Column):
        sources = [src for src in sources if src.alias_or_name == e.table]
    dropped = {c.name for c in _star_of(e).args.get("except_") or ()}
    return [c for src in sources for c in _columns(src, local, schema) if c not in dropped]


def _spell_out(tree: exp.Expression, schema: dict[str, list[str]]) -> exp.Expression:
    def ctes_above(node: exp.Expression) -> dict[str, exp.Expression]:
        found: dict[str, exp.Expression] = {}
        p = node
        while p is not None:
            w = p.args.get("with_") if isinstance(p, exp.Expression) else None
            for cte in (w.expressions if w else []):
                found.setdefault(cte.alias_or_name.lower(), cte.this)
            p = p.parent
        return found

    # Innermost first, so an outer star sees the inner one already spelled out.
    for star in reversed(list(tree.find_all(exp.Star))):
        if not star.args.get("except_"):
            continue
        select = star.parent.parent if isinstance(star.parent, exp.Column) else star.parent
        if not isinstance(select, exp.Select):
            raise PortError("SELECT * EXCLUDE is carried to Spark only in a select list")
        projection: list[exp.Expression] = []
        for e in select.expressions:
            if _star_of(e) is star:
                table = e.table if isinstance(e, exp.Column) else None
                cols = _star_columns(select, e, ctes_above(select), schema)
                projection.extend(exp.column(c, table=table, quoted=True) for c in cols)
            else:
                projection.append(e)
        select.set("expressions", projection)
    for op in reversed(list(tree.find_all(exp.SetOperation))):
        if not op.args.get("by_name"):
            continue
        ctes = ctes_above(op)
        left, right = _columns(op.this, ctes, schema), _columns(op.expression, ctes, schema)
        names = left + [c for c in right if c not in left]

        def aligned(side: exp.Expression, has: list[str], alias: str) -> exp.Expression:
            cols = [exp.column(c, table=alias, quoted=True) if c in has else exp.alias_(exp.Null(), c, quoted=True)
                    for c in names]
            inner = side.this if isinstance(side, exp.Subquery) else side
            return exp.select(*cols).from_(exp.Subquery(this=inner.copy(), alias=exp.TableAlias(
                this=exp.to_identifier(alias))))

        op.set("this", aligned(op.this, left, "_by_name_l"))
        op.set("expression", aligned(op.expression, right, "_by_name_r"))
        op.set("by_name", None)
    return tree


def event_columns() -> list[str]:
    """The columns of the case's ``events`` view, in its order."""
    from store.schema import EVENT_COLUMN_NAMES

    return ["event_id", "source_id", *EVENT_COLUMN_NAMES]


def spark_statements() -> list[tuple[str, SparkStatement | None]]:
    """Every statement ``engine.sessions.build`` runs, beside its Spark form, in order.

    ``build`` runs on an empty case in memory through a connection that writes each statement
    down and translates it as ``engine.spark`` does (each temp table's columns read back from
    DuckDB). The SQL is the one DuckDB runs, so a new session kind or feature is here, and on
    Spark, with no other edit.
    """
    from engine import sessions
    from store.case import Case

    case = Case.open(":memory:")
    tr = SparkTranslator({"events": event_columns()})
    out: list[tuple[str, SparkStatement | None]] = []

    class _Recorder:
        def execute(self, sql: str, params: dict | None = None):
            st = tr.translate(sql, params)
            out.append((sql, st))
            self._rows = case.con.execute(sql, params).fetchall()
            if st is not None and st.target is not None:
                tr.schema[st.target.lower()] = [r[0] for r in case.con.execute(f"DESCRIBE {st.target}").fetchall()]
            return self

        def fetchone(self):
            return self._rows[0] if self._rows else None

        def fetchall(self):
            return list(self._rows)

    try:
        sessions.build(_Recorder())
    finally:
        case.close()
    return out
