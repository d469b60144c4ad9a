"""Structural checks of the source tree: one face (STYLE.md 10) and one of each (STYLE.md 11).

Pure AST and text analysis; nothing here imports gosched, so these tests are fast and do not need
a working runtime.

1. The face (DESIGN.md decision 5). The public modules (every ``src/gosched/*.py``, whatever is
   added later) reach the runtime only through ``gosched._runtime``, whose ``__init__.py`` is the
   face: its ``__all__`` is the one list of what the runtime offers. A public module never imports
   a runtime submodule (``from ._runtime.chan import Chan``, ``from ._runtime import proc``, ...)
   and never touches the scheduler's G/M/P fields (``mp.curg``, ``mp.p``, ``gp.timer``,
   ``mp.psyscall``, ``sched``).

2. One of each. A hot path may keep an inline copy of a runtime function's body, between two
   comments on their own lines, at the indentation of the copied statements::

       # inline-of: MODULE.FUNC(param=EXPR, param2=EXPR2)
       ...the copied statements...
       # end-inline

   MODULE is a module under ``gosched._runtime``, FUNC a top-level function in it (or
   ``Class.method``); the parenthesised part is optional and says which expression stands for which
   parameter at this site. The copy must equal FUNC's body with the docstring dropped, those
   parameters replaced by their expressions, a final ``return NAME`` (or bare ``return``)
   dropped, and what a substituted constant decides folded away (``if True:`` is its body,
   ``if not True:`` its else branch, so a copy may specialise runqput for next=True):
   compared as ASTs, so comments and layout may differ but nothing else. HACKING.md lists every
   copy.

Reading the failures: every problem is one line ``path:line: message`` (paths relative to the repo
root), all of them listed, not just the first. For a copy that drifted from its source the message
ends with a unified diff, ``-`` lines being the source as normalised and ``+`` lines the copy.
"""

from __future__ import annotations

import ast
import copy
import difflib
import io
import re
import textwrap
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "gosched"
RUNTIME = PKG / "_runtime"
HACKING = ROOT / "HACKING.md"

PACKAGE = "gosched"
FACE = "gosched._runtime"

# The scheduler's G/M/P fields (runtime2.py): M.curg (the G an M runs), M.p (the P it holds),
# G.timer (a sleeping G's timer), M.psyscall (the token of the P released while user code runs,
# DESIGN.md decision 4), G.sched / the global ``sched`` (the scheduler's state). Only the runtime
# reads or writes them; a public module that needs one of these asks the runtime's API instead.
FORBIDDEN_ATTRS: frozenset[str] = frozenset({"curg", "p", "timer", "psyscall", "sched"})
# The scheduler's global state (runtime2.sched), under whatever object it is reached.
FORBIDDEN_NAMES: frozenset[str] = frozenset({"sched"})


def _rel(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


def _fail(title: str, problems: Sequence[object]) -> None:
    if problems:
        lines = "\n".join(f"  {p}" for p in problems)
        pytest.fail(f"{title}: {len(problems)} problem(s)\n{lines}", pytrace=False)


# --------------------------------------------------------------------------------------------------
# 1. The face


@dataclass(frozen=True, order=True)
class Violation:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def public_modules(pkg: Path) -> list[Path]:
    """Every module of the public package itself (not those of its subpackages)."""
    return sorted(pkg.glob("*.py"))


def runtime_submodules(runtime: Path) -> frozenset[str]:
    """The names ``gosched._runtime.X`` that are modules or packages, not names of the face. A
    name the face itself exports (in its ``__all__``) is the face's, even where a submodule has
    the same name: ``select`` is select.py's function, which the face binds over the module."""
    names = {p.stem for p in runtime.glob("*.py") if p.name != "__init__.py"}
    names |= {p.parent.name for p in runtime.glob("*/__init__.py")}
    exported, _ = face_all(runtime / "__init__.py", runtime)
    return frozenset(names - set(exported or ()))


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """The module a ``from ... import`` in a module of ``package`` names, made absolute."""
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    parts = parts[: max(len(parts) - (node.level - 1), 0)]
    if node.module:
        parts += node.module.split(".")
    return ".".join(parts)


def _under(name: str, module: str) -> bool:
    return name.startswith(module + ".")


@dataclass
class FaceScan:
    """What one public module does with the runtime."""

    path: str
    imports: list[Violation] = field(default_factory=list)  # reaches past the face
    insides: list[Violation] = field(default_factory=list)  # touches G/M/P fields or sched
    face_names: list[tuple[int, str]] = field(default_factory=list)  # names taken from the face


class _FaceVisitor(ast.NodeVisitor):
    def __init__(self, scan: FaceScan, package: str, face: str, submodules: frozenset[str]) -> None:
        self.scan = scan
        self.package = package
        self.face = face
        self.submodules = submodules
        self.modules: dict[str, str] = {}  # local name -> the module it is bound to

    def _import(self, node: ast.expr | ast.stmt, msg: str) -> None:
        self.scan.imports.append(Violation(self.scan.path, node.lineno, msg))

    def _inside(self, node: ast.expr | ast.stmt, msg: str) -> None:
        self.scan.insides.append(Violation(self.scan.path, node.lineno, msg))

    def bind(self, tree: ast.Module) -> None:
        """Learn the local names bound to gosched, the face or a submodule, wherever imported."""
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        self.modules[a.asname] = a.name
                    else:
                        top = a.name.split(".")[0]
                        self.modules[top] = top
            elif isinstance(node, ast.ImportFrom):
                mod = _absolute(node, self.package)
                for a in node.names:
                    if a.name != "*":
                        full = f"{mod}.{a.name}"
                        if full == self.face or _under(full, self.face):
                            self.modules[a.asname or a.name] = full

    def _dotted(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            return self.modules.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self._dotted(node.value)
            return None if base is None else f"{base}.{node.attr}"
        return None

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            if _under(a.name, self.face):
                as_ = f" as {a.asname}" if a.asname else ""
                self._import(
                    node,
                    f"`import {a.name}{as_}` imports a runtime submodule; "
                    f"import what it needs from {self.face} (the face) instead",
                )

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        mod = _absolute(node, self.package)
        stmt = ast.unparse(node)
        if _under(mod, self.face):
            self._import(
                node,
                f"`{stmt}` imports from the runtime submodule {mod}; "
                f"import these names from {self.face} (the face) instead",
            )
        elif mod == self.face:
            for a in node.names:
                if a.name in self.submodules:
                    self._import(
                        node,
                        f"`{stmt}`: `{a.name}` is the runtime submodule {self.face}.{a.name}; "
                        f"import the names it needs from {self.face} (the face) instead",
                    )
                elif a.name != "*":
                    self.scan.face_names.append((node.lineno, a.name))
        for a in node.names:
            if a.name in FORBIDDEN_NAMES or a.asname in FORBIDDEN_NAMES:
                self._inside(
                    node,
                    f"`{stmt}` binds `{a.asname or a.name}`, the scheduler's global state; "
                    "only the runtime touches it",
                )

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in FORBIDDEN_ATTRS:
            how = {ast.Load: "reads", ast.Store: "writes", ast.Del: "deletes"}[type(node.ctx)]
            self._inside(
                node,
                f"`{ast.unparse(node)}` {how} `.{node.attr}`, a name of the scheduler's G/M/P "
                "fields; only the runtime touches those (use its API through the face)",
            )
        if self._dotted(node.value) == self.face:
            if node.attr in self.submodules:
                self._import(
                    node,
                    f"`{ast.unparse(node)}` reaches the runtime submodule {self.face}.{node.attr} "
                    "through the face's module object; use the face's own names",
                )
            else:
                self.scan.face_names.append((node.lineno, node.attr))
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in FORBIDDEN_NAMES:
            how = {ast.Load: "uses", ast.Store: "binds", ast.Del: "deletes"}[type(node.ctx)]
            self._inside(
                node,
                f"{how} `{node.id}`, the scheduler's global state; only the runtime touches it",
            )


def scan_public_module(
    path: Path,
    base: Path,
    *,
    submodules: frozenset[str],
    package: str = PACKAGE,
    face: str = FACE,
) -> FaceScan:
    """Everything ``path`` (a module of ``package``) does past the face or inside the scheduler."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    scan = FaceScan(_rel(path, base))
    visitor = _FaceVisitor(scan, package, face, submodules)
    visitor.bind(tree)
    visitor.visit(tree)
    scan.imports.sort()
    scan.insides.sort()
    return scan


def scan_public_modules(pkg: Path, runtime: Path, base: Path) -> list[FaceScan]:
    subs = runtime_submodules(runtime)
    return [scan_public_module(p, base, submodules=subs) for p in public_modules(pkg)]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.expr) -> Iterable[str]:
    if isinstance(node, ast.Name):
        yield node.id
    elif isinstance(node, (ast.Tuple, ast.List)):
        for elt in node.elts:
            yield from _targets(elt)
    elif isinstance(node, ast.Starred):
        yield from _targets(node.value)


def module_bindings(body: Sequence[ast.stmt]) -> tuple[set[str], list[int]]:
    """The names a module binds at import time (its top level, through if/try/with blocks but not
    ``if TYPE_CHECKING:``), and the lines of its star imports, which the AST cannot resolve."""
    names: set[str] = set()
    stars: list[int] = []
    for node in body:
        if isinstance(node, ast.Assign):
            for t in node.targets:
                names.update(_targets(t))
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            if isinstance(node.target, ast.Name) and (
                isinstance(node, ast.AugAssign) or node.value is not None
            ):
                names.add(node.target.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Import):
            for a in node.names:
                names.add(a.asname or a.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                if a.name == "*":
                    stars.append(node.lineno)
                else:
                    names.add(a.asname or a.name)
        else:
            blocks: list[list[ast.stmt]] = []
            if isinstance(node, ast.If):
                blocks = [node.orelse] if _is_type_checking(node.test) else [node.body, node.orelse]
            elif isinstance(node, ast.Try):
                blocks = [node.body, node.orelse, node.finalbody]
                blocks += [h.body for h in node.handlers]
            elif isinstance(node, (ast.With, ast.For, ast.While)):
                blocks = [node.body]
            for block in blocks:
                more, more_stars = module_bindings(block)
                names |= more
                stars += more_stars
    return names, stars


def face_all(init: Path, base: Path) -> tuple[list[str] | None, list[Violation]]:
    """The face's ``__all__`` and what is wrong with it: missing, not literal strings, or naming
    something the module does not bind."""
    path = _rel(init, base)
    if not init.exists():
        return None, [Violation(path, 0, "the face (the runtime package's __init__.py) is missing")]
    tree = ast.parse(init.read_text(encoding="utf-8"), filename=str(init))
    problems: list[Violation] = []
    found: list[str] | None = None
    for node in tree.body:
        value: ast.expr | None = None
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            value = node.value
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and (
            isinstance(node.target, ast.Name) and node.target.id == "__all__"
        ):
            value = node.value
        if value is None:
            continue
        if not isinstance(value, (ast.List, ast.Tuple)) or not all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts
        ):
            problems.append(
                Violation(path, node.lineno, "__all__ must be a list or tuple of string literals")
            )
            continue
        names = [
            e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
        ]
        found = (found or []) + names if isinstance(node, ast.AugAssign) else names
    if found is None:
        if not problems:
            problems.append(
                Violation(path, 1, "the face defines no __all__: list what the runtime offers")
            )
        return None, problems
    bound, stars = module_bindings(tree.body)
    for line in stars:
        problems.append(
            Violation(path, line, "star import in the face: import each name explicitly")
        )
    seen: set[str] = set()
    for name in found:
        if name in seen:
            problems.append(Violation(path, 1, f"__all__ lists {name!r} twice"))
        seen.add(name)
        if name not in bound:
            problems.append(
                Violation(path, 1, f"__all__ lists {name!r}, which the face does not bind")
            )
    return found, problems


def test_public_modules_import_only_the_face() -> None:
    """STYLE.md 10: a public module imports from gosched._runtime, never a runtime submodule."""
    found = [v for scan in scan_public_modules(PKG, RUNTIME, ROOT) for v in scan.imports]
    _fail(f"public modules reach past the face ({FACE})", found)


def test_public_modules_do_not_touch_scheduler_insides() -> None:
    """STYLE.md 2 and DESIGN.md 5: nothing outside _runtime touches G/M/P fields or sched."""
    found = [v for scan in scan_public_modules(PKG, RUNTIME, ROOT) for v in scan.insides]
    _fail("public modules touch the scheduler's G/M/P fields", found)


def test_face_all_lists_what_the_runtime_offers() -> None:
    """The face exists: its __all__ is literal, bound, and covers every name public modules take."""
    names, problems = face_all(RUNTIME / "__init__.py", ROOT)
    offered = set(names or ())
    if names is not None:
        for scan in scan_public_modules(PKG, RUNTIME, ROOT):
            for line, name in scan.face_names:
                if name not in offered:
                    problems.append(
                        Violation(
                            scan.path,
                            line,
                            f"takes {name!r} from {FACE}, which is not in the face's __all__",
                        )
                    )
    _fail(
        f"the face ({_rel(RUNTIME / '__init__.py', ROOT)}) does not list what it offers", problems
    )


# --------------------------------------------------------------------------------------------------
# 2. One of each: inline copies

# A marker may end with a linter directive (noqa, for a marker line that is too long), which is
# not part of its spec.
_START = re.compile(r"#\s*inline-of:\s*(?P<spec>.*?)\s*(?:#\s*[n]oqa\b.*)?$")
_END = re.compile(r"#\s*end-inline(?:[\s:].*)?$")
_SPEC = re.compile(r"(?P<target>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)\s*(?:\((?P<args>.*)\))?")


@dataclass(frozen=True)
class InlineSite:
    path: Path
    start: int  # the line of `# inline-of:`
    end: int  # the line of `# end-inline`
    col: int  # the markers' indentation
    target: str  # MODULE.FUNC as written
    args: str  # the text between the parentheses, or ""

    def where(self, base: Path) -> str:
        return f"{_rel(self.path, base)}:{self.start}"


def _own_line_comments(source: str) -> Iterable[tuple[int, int, str]]:
    """(line, column, text) of every comment that is alone on its line (not in a string)."""
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT and not tok.line[: tok.start[1]].strip():
            yield tok.start[0], tok.start[1], tok.string


def find_inline_sites(path: Path, base: Path) -> tuple[list[InlineSite], list[str]]:
    """The marked copies in one file, and the markers that do not pair up or do not parse.

    Copies may nest (a copy of execute holds execute's own copy of casgstatus): each
    ``# end-inline`` closes the innermost copy still open, and each copy is checked on its own.
    """
    where = _rel(path, base)
    sites: list[InlineSite] = []
    problems: list[str] = []
    opens: list[tuple[int, int, str, str]] = []  # line, col, target, args; innermost last
    for line, col, text in _own_line_comments(path.read_text(encoding="utf-8")):
        start = _START.match(text)
        if start:
            spec = _SPEC.fullmatch(start["spec"])
            if spec is None:
                problems.append(
                    f"{where}:{line}: malformed marker {text!r}: expected "
                    "`# inline-of: MODULE.FUNC` or `# inline-of: MODULE.FUNC(param=EXPR, ...)`"
                )
                opens.append((line, col, "", ""))
                continue
            opens.append((line, col, spec["target"], spec["args"] or ""))
        elif _END.match(text):
            if not opens:
                problems.append(
                    f"{where}:{line}: `# end-inline` without an `# inline-of:` before it"
                )
                continue
            oline, ocol, target, args = opens.pop()
            if not target:
                continue  # its malformed start was reported
            if col != ocol:
                problems.append(
                    f"{where}:{line}: `# end-inline` at column {col}, its `# inline-of:` (line "
                    f"{oline}) at column {ocol}: both go at the copied statements' indentation"
                )
                continue
            sites.append(InlineSite(path, oline, line, ocol, target, args))
    for oline, _, _, _ in opens:
        problems.append(
            f"{where}:{oline}: `# inline-of:` never closed by `# end-inline` (end of file)"
        )
    sites.sort(key=lambda site: site.start)
    return sites, problems


def _statements(
    tree: ast.Module,
) -> tuple[list[ast.stmt], dict[int, ast.stmt | None], dict[int, int]]:
    """Every statement, its nearest enclosing statement, and the id of the list holding it."""
    stmts: list[ast.stmt] = []
    parent: dict[int, ast.stmt | None] = {}
    block: dict[int, int] = {}

    def visit(node: ast.AST, enclosing: ast.stmt | None) -> None:
        for _name, value in ast.iter_fields(node):
            children = value if isinstance(value, list) else [value]
            for child in children:
                if isinstance(child, ast.stmt):
                    stmts.append(child)
                    parent[id(child)] = enclosing
                    block[id(child)] = id(value)
                    visit(child, child)
                elif isinstance(child, ast.AST):
                    visit(child, enclosing)

    visit(tree, None)
    return stmts, parent, block


def _span(node: ast.stmt) -> tuple[int, int]:
    return node.lineno, node.end_lineno or node.lineno


def copied_statements(tree: ast.Module, site: InlineSite, base: Path) -> list[ast.stmt] | str:
    """The run of sibling statements between the site's markers, or why there is none."""
    where = site.where(base)
    stmts, parent, block = _statements(tree)

    def inside(node: ast.stmt) -> bool:
        first, last = _span(node)
        return site.start < first and last < site.end

    tops = [n for n in stmts if inside(n) and not ((p := parent[id(n)]) and inside(p))]
    if not tops:
        return f"{where}: no statements between `# inline-of:` and `# end-inline` (line {site.end})"
    if len({block[id(n)] for n in tops}) > 1:
        lines = ", ".join(str(n.lineno) for n in tops)
        return (
            f"{where}: the marked statements (lines {lines}) are not one run of siblings of one "
            "block; move the markers so that they enclose statements of a single block"
        )
    enclosing: set[int] = set()
    up = parent[id(tops[0])]
    while up is not None:
        enclosing.add(id(up))
        up = parent[id(up)]
    for node in stmts:
        first, last = _span(node)
        if first < site.end and last > site.start and not inside(node):
            if id(node) not in enclosing:
                marker = site.start if first < site.start else site.end
                return (
                    f"{where}: the marker at line {marker} falls inside the statement at lines "
                    f"{first}-{last}; a copy is whole statements of one block"
                )
    if tops[0].col_offset != site.col:
        return (
            f"{where}: the markers are at column {site.col}, the copied statements at column "
            f"{tops[0].col_offset}; put the markers at the statements' indentation"
        )
    return tops


def _resolve(target: str, runtime: Path) -> tuple[Path, list[str]] | None:
    """The runtime module file and the qualified name in it that ``MODULE.FUNC`` names."""
    parts = target.split(".")
    for k in range(len(parts) - 1, 0, -1):
        mod = runtime.joinpath(*parts[:k])
        for path in (mod.with_suffix(".py"), mod / "__init__.py"):
            if path.is_file():
                return path, parts[k:]
    return None


def _find_def(
    body: Sequence[ast.stmt], qualname: Sequence[str]
) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for node in body:
        if getattr(node, "name", None) != qualname[0]:
            continue
        if len(qualname) == 1 and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return node
        if len(qualname) > 1 and isinstance(node, ast.ClassDef):
            return _find_def(node.body, qualname[1:])
    return None


def _params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    a = fn.args
    names = [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
    names += [x.arg for x in (a.vararg, a.kwarg) if x is not None]
    return names


class _Substitute(ast.NodeTransformer):
    def __init__(self, subs: dict[str, ast.expr]) -> None:
        self.subs = subs
        self.rebound: list[tuple[int, str]] = []

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id not in self.subs:
            return node
        if not isinstance(node.ctx, ast.Load):
            self.rebound.append((node.lineno, node.id))
            return node
        return copy.deepcopy(self.subs[node.id])


def normalised_source(
    fn: ast.FunctionDef | ast.AsyncFunctionDef, subs: dict[str, ast.expr]
) -> tuple[list[ast.stmt], list[tuple[int, str]]]:
    """fn's body as a copy of it reads: no docstring, no final ``return NAME`` or bare ``return``,
    the substituted parameters replaced. Also the lines where a substituted parameter is rebound."""
    body = list(fn.body)
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    if body and isinstance(body[-1], ast.Return):
        value = body[-1].value
        if value is None or isinstance(value, ast.Name):
            body = body[:-1]
    sub = _Substitute(subs)
    out = _fold([sub.visit(copy.deepcopy(s)) for s in body])
    return out, sub.rebound


def _constant_test(test: ast.expr) -> bool | None:
    """The truth of an ``if`` test that is a constant (or ``not`` one) after substitution."""
    if isinstance(test, ast.Constant):
        return bool(test.value)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _constant_test(test.operand)
        return None if inner is None else not inner
    return None


def _fold(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """A specialised copy leaves out what a substituted constant decides: ``if True:`` (or
    ``if not False:``) becomes its body, ``if False:`` its else branch, in every block."""
    out: list[ast.stmt] = []
    for node in stmts:
        if isinstance(node, ast.If):
            truth = _constant_test(node.test)
            if truth is not None:
                out += _fold(node.body if truth else node.orelse)
                continue
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                setattr(node, name, _fold(block))
        for handler in getattr(node, "handlers", ()):
            handler.body = _fold(handler.body)
        out.append(node)
    return out


def _parse_args(args: str) -> dict[str, ast.expr] | str:
    if not args.strip():
        return {}
    try:
        call = ast.parse(f"_({args})", mode="eval").body
    except SyntaxError as e:
        return f"cannot parse `({args})`: {e.msg}"
    assert isinstance(call, ast.Call)
    if call.args or any(k.arg is None for k in call.keywords):
        return f"`({args})`: write each substitution as param=EXPR"
    return {k.arg: k.value for k in call.keywords if k.arg is not None}


def _unparse(stmts: Sequence[ast.stmt]) -> list[str]:
    return "\n".join(ast.unparse(s) for s in stmts).splitlines()


def check_inline_site(site: InlineSite, tree: ast.Module, runtime: Path, base: Path) -> list[str]:
    """Why the copy at ``site`` differs from its source, if it does."""
    where = site.where(base)
    copied = copied_statements(tree, site, base)
    if isinstance(copied, str):
        return [copied]
    resolved = _resolve(site.target, runtime)
    if resolved is None:
        return [f"{where}: `inline-of: {site.target}`: no such module under {_rel(runtime, base)}"]
    mod_path, qualname = resolved
    fn = _find_def(ast.parse(mod_path.read_text(encoding="utf-8")).body, qualname)
    source = f"{site.target} ({_rel(mod_path, base)}"
    if fn is None:
        return [f"{where}: `inline-of: {site.target}`: no def {'.'.join(qualname)} in {source})"]
    source += f":{fn.lineno})"
    subs = _parse_args(site.args)
    if isinstance(subs, str):
        return [f"{where}: {subs}"]
    unknown = sorted(set(subs) - set(_params(fn)))
    if unknown:
        return [f"{where}: {', '.join(unknown)}: not parameters of {source}"]
    want, rebound = normalised_source(fn, subs)
    if rebound:
        names = ", ".join(f"{name} (line {line})" for line, name in rebound)
        return [f"{where}: {source} rebinds substituted parameters: {names}"]
    if [ast.dump(s) for s in want] == [ast.dump(s) for s in copied]:
        return []
    a, b = _unparse(want), _unparse(copied)
    if a == b:  # the same text, different trees: show the trees
        a = [ast.dump(s, indent=1) for s in want]
        b = [ast.dump(s, indent=1) for s in copied]
        a, b = "\n".join(a).splitlines(), "\n".join(b).splitlines()
    with_ = f"; {site.args}" if site.args else ""
    diff = difflib.unified_diff(
        a,
        b,
        f"{site.target} (docstring and final return dropped{with_})",
        f"{_rel(site.path, base)}:{site.start + 1}-{site.end - 1} (the copy)",
        lineterm="",
    )
    body = textwrap.indent("\n".join(diff), "    ")
    return [f"{where}: this copy of {source} differs from its source:\n{body}"]


def check_inline_copies(
    scan_root: Path, runtime: Path, base: Path
) -> tuple[list[InlineSite], list[str]]:
    """Every marked copy under ``scan_root`` and every way one of them is wrong."""
    sites: list[InlineSite] = []
    problems: list[str] = []
    for path in sorted(scan_root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        found, bad = find_inline_sites(path, base)
        problems += bad
        if found:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for site in found:
                problems += check_inline_site(site, tree, runtime, base)
        sites += found
    return sites, problems


def check_hacking(sites: Sequence[InlineSite], hacking: Path, base: Path) -> list[str]:
    """The copies HACKING.md does not list (by MODULE.FUNC and the site's path or file name)."""
    if not sites:
        return []
    if not hacking.is_file():
        return [f"{_rel(hacking, base)} is missing; it must list every kept copy"]
    text = hacking.read_text(encoding="utf-8")
    missing: list[str] = []
    for site in sites:
        rel = _rel(site.path, base)
        if site.target not in text or (rel not in text and site.path.name not in text):
            missing.append(
                f"{site.where(base)}: the copy of {site.target} is not listed in "
                f"{_rel(hacking, base)} (needs both `{site.target}` and `{rel}` or "
                f"`{site.path.name}`)"
            )
    return missing


def test_inline_copies_match_their_source() -> None:
    """STYLE.md 11: every `# inline-of:` copy equals its source function's body."""
    _, problems = check_inline_copies(PKG, RUNTIME, ROOT)
    _fail("inline copies that do not match their source", problems)


def test_hacking_lists_every_inline_copy() -> None:
    """STYLE.md 11: HACKING.md lists every kept copy."""
    sites, _ = check_inline_copies(PKG, RUNTIME, ROOT)
    _fail("inline copies missing from HACKING.md", check_hacking(sites, HACKING, ROOT))


# --------------------------------------------------------------------------------------------------
# Self-tests of the checkers, on small synthetic trees

_RUNQ = '''\
from collections import deque


def runqput(pp: P, gp: G, next: bool) -> None:
    """Put gp on pp's queue."""
    if next:
        pp.runnext.append(gp)
        return
    q = pp.runq
    if len(q) < 256:
        q.append(gp)


def mget(pp: P) -> M:
    mp = pp.midle.pop()
    mp.spinning = False
    return mp


class Chan:
    def send(self, x: int, what: str) -> None:
        """Send x."""
        if self.closed:
            raise RuntimePanic(what + ": send on closed channel")
        self.buf.append(x)
'''


def _tree(tmp_path: Path, hot: str, runq: str = _RUNQ) -> tuple[Path, Path]:
    """A package under tmp_path with a runtime module runq.py and a hot path hot.py."""
    pkg = tmp_path / "src" / "pkg"
    runtime = pkg / "_runtime"
    runtime.mkdir(parents=True)
    (runtime / "__init__.py").write_text("")
    (runtime / "runq.py").write_text(runq)
    (pkg / "hot.py").write_text(textwrap.dedent(hot))
    return pkg, runtime


def _check(tmp_path: Path, hot: str, runq: str = _RUNQ) -> tuple[list[InlineSite], list[str]]:
    pkg, runtime = _tree(tmp_path, hot, runq)
    return check_inline_copies(pkg, runtime, tmp_path)


def test_selfcheck_exact_copy_passes(tmp_path: Path) -> None:
    sites, problems = _check(
        tmp_path,
        """\
        def go(pp, gp, next):
            x = 1
            # inline-of: runq.runqput
            if next:
                pp.runnext.append(gp)  # a comment in the copy is fine
                return
            q = pp.runq

            if len(q) < 256:
                q.append(gp)
            # end-inline
            return x
        """,
    )
    assert problems == []
    assert [(s.target, s.start, s.end) for s in sites] == [("runq.runqput", 3, 11)]


def test_selfcheck_changed_operator_fails(tmp_path: Path) -> None:
    _, problems = _check(
        tmp_path,
        """\
        def go(pp, gp, next):
            # inline-of: runq.runqput
            if next:
                pp.runnext.append(gp)
                return
            q = pp.runq
            if len(q) <= 256:
                q.append(gp)
            # end-inline
        """,
    )
    assert len(problems) == 1, problems
    msg = problems[0]
    assert msg.startswith(
        "src/pkg/hot.py:2: this copy of runq.runqput (src/pkg/_runtime/runq.py:4)"
    )
    assert "-if len(q) < 256:" in msg
    assert "+if len(q) <= 256:" in msg


def test_selfcheck_parameter_substitution_passes(tmp_path: Path) -> None:
    sites, problems = _check(
        tmp_path,
        """\
        def go(pp, newg):
            if pp:
                # inline-of: runq.runqput(gp=newg, next=True)
                pp.runnext.append(newg)
                return
                q = pp.runq
                if len(q) < 256:
                    q.append(newg)
                # end-inline

        class Chan:
            def send(self, x):
                # inline-of: runq.Chan.send(what="Chan.send")
                if self.closed:
                    raise RuntimePanic("Chan.send" + ": send on closed channel")
                self.buf.append(x)
                # end-inline
        """,
    )
    assert problems == []
    assert [s.target for s in sites] == ["runq.runqput", "runq.Chan.send"]


def test_selfcheck_substitution_is_checked(tmp_path: Path) -> None:
    """A parameter not substituted must keep its name; an unknown parameter is an error."""
    _, problems = _check(
        tmp_path,
        """\
        def go(pp, newg):
            # inline-of: runq.runqput(next=True)
            pp.runnext.append(newg)
            return
            q = pp.runq
            if len(q) < 256:
                q.append(newg)
            # end-inline
            # inline-of: runq.runqput(gq=newg)
            pass
            # end-inline
        """,
    )
    assert len(problems) == 2, problems
    assert "-pp.runnext.append(gp)" in problems[0]
    assert "+pp.runnext.append(newg)" in problems[0]
    assert (
        problems[1]
        == "src/pkg/hot.py:9: gq: not parameters of runq.runqput (src/pkg/_runtime/runq.py:4)"
    )


def test_selfcheck_constants_fold(tmp_path: Path) -> None:
    """With next=True, `if next:` is its body in the copy and `if not next:` its else branch;
    a copy that keeps the dead branch differs."""
    runq = """\
def runqput(pp, gp, next):
    if not next:
        pp.runq.append(gp)
    else:
        pp.runnext.append(gp)
    if next:
        pp.n += 1
"""
    _, problems = _check(
        tmp_path,
        """\
        def go(pp, gp):
            # inline-of: runq.runqput(next=True)
            pp.runnext.append(gp)
            pp.n += 1
            # end-inline
            # inline-of: runq.runqput(next=True)
            if not True:
                pp.runq.append(gp)
            pp.runnext.append(gp)
            pp.n += 1
            # end-inline
        """,
        runq,
    )
    assert len(problems) == 1, problems
    assert problems[0].startswith("src/pkg/hot.py:6: this copy of runq.runqput")


def test_selfcheck_trailing_return_name_is_dropped(tmp_path: Path) -> None:
    _, problems = _check(
        tmp_path,
        """\
        def startm(pp):
            # inline-of: runq.mget
            mp = pp.midle.pop()
            mp.spinning = False
            # end-inline
            mp.start()
        """,
    )
    assert problems == []


def test_selfcheck_unpaired_markers_fail(tmp_path: Path) -> None:
    _, problems = _check(
        tmp_path,
        """\
        def a(pp):
            # end-inline
            # inline-of: runq.mget
            mp = pp.midle.pop()
            # inline-of: runq.mget
            mp.spinning = False
            # end-inline
            # inline-of: runq.mget
            mp.start()
        """,
    )
    # Line 5 opens a copy inside the one of line 3, which line 7 closes; lines 3 and 8 stay open.
    assert problems[:3] == [
        "src/pkg/hot.py:2: `# end-inline` without an `# inline-of:` before it",
        "src/pkg/hot.py:3: `# inline-of:` never closed by `# end-inline` (end of file)",
        "src/pkg/hot.py:8: `# inline-of:` never closed by `# end-inline` (end of file)",
    ]


def test_selfcheck_markers_must_enclose_siblings(tmp_path: Path) -> None:
    _, problems = _check(
        tmp_path,
        """\
        def a(pp):
            # inline-of: runq.mget
            mp = pp.midle.pop()
            if mp:
                mp.spinning = False
                # end-inline
                return mp
            # inline-of: runq.mget
            # end-inline
            if pp:
                # inline-of: runq.mget
                mp = pp.midle.pop()
            else:
                mp.spinning = False
                # end-inline
            # inline-of: runq.mget
            mp = pp.midle.pop()
            mp.start(
            # end-inline
            )
        """,
    )
    assert problems == [
        "src/pkg/hot.py:6: `# end-inline` at column 8, its `# inline-of:` (line 2) at column 4: "
        "both go at the copied statements' indentation",
        "src/pkg/hot.py:8: no statements between `# inline-of:` and `# end-inline` (line 9)",
        "src/pkg/hot.py:11: the marked statements (lines 12, 14) are not one run of siblings of "
        "one block; move the markers so that they enclose statements of a single block",
        "src/pkg/hot.py:16: the marker at line 19 falls inside the statement at lines 18-20; "
        "a copy is whole statements of one block",
    ]


def test_selfcheck_markers_in_strings_are_ignored(tmp_path: Path) -> None:
    sites, problems = _check(
        tmp_path,
        '''\
        def a():
            """Copies look like this:

            # inline-of: runq.mget
            # end-inline
            """
            # inlined by hand, no marker: ignored
        ''',
    )
    assert (sites, problems) == ([], [])


def test_selfcheck_hacking_lists_copies(tmp_path: Path) -> None:
    hot = """\
        def startm(pp):
            # inline-of: runq.mget
            mp = pp.midle.pop()
            mp.spinning = False
            # end-inline
        """
    sites, problems = _check(tmp_path, hot)
    assert problems == []
    hacking = tmp_path / "HACKING.md"
    assert check_hacking(sites, hacking, tmp_path) == [
        "HACKING.md is missing; it must list every kept copy"
    ]
    hacking.write_text("| runq.mget | src/pkg/other.py | 3% |\n")
    assert len(check_hacking(sites, hacking, tmp_path)) == 1
    hacking.write_text("| runq.mget | hot.py | 3% |\n")
    assert check_hacking(sites, hacking, tmp_path) == []


def _face_tree(tmp_path: Path, module: str, init: str = "") -> FaceScan:
    pkg = tmp_path / "gosched"
    runtime = pkg / "_runtime"
    runtime.mkdir(parents=True)
    (runtime / "__init__.py").write_text(textwrap.dedent(init))
    for name in ("proc", "chan", "runtime2"):
        (runtime / f"{name}.py").write_text("")
    (pkg / "mod.py").write_text(textwrap.dedent(module))
    return scan_public_module(pkg / "mod.py", tmp_path, submodules=runtime_submodules(runtime))


def test_selfcheck_face_imports(tmp_path: Path) -> None:
    scan = _face_tree(
        tmp_path,
        """\
        import gosched._runtime.proc as p1
        from gosched._runtime.chan import Chan
        from ._runtime.chan import Chan as C
        from ._runtime import proc, gopark
        from ._runtime import chan as _c
        from gosched._runtime import runtime2, goready
        from . import _runtime
        from . import _runtime as rt
        import gosched

        _runtime.proc.go(f)
        rt.chan.Chan()
        gosched._runtime.proc.go(f)
        _runtime.newproc(f)
        """,
    )
    assert [v.line for v in scan.imports] == [1, 2, 3, 4, 5, 6, 11, 12, 13]
    assert scan.insides == []
    assert scan.face_names == [(4, "gopark"), (6, "goready"), (14, "newproc")]


def test_selfcheck_face_insides(tmp_path: Path) -> None:
    scan = _face_tree(
        tmp_path,
        """\
        from ._runtime import getm, sched

        def f(mp, gp):
            gp = mp.curg
            mp.p = None
            del gp.timer
            mp.psyscall.pop()
            print(sched.npidle, rt.sched, gp.pp, gp.timers)
        """,
    )
    assert [v.line for v in scan.insides] == [1, 4, 5, 6, 7, 8, 8]
    assert "`mp.p` writes `.p`" in scan.insides[2].message


def test_selfcheck_face_all(tmp_path: Path) -> None:
    init = tmp_path / "__init__.py"
    init.write_text(
        textwrap.dedent(
            """\
            from typing import TYPE_CHECKING
            from .proc import gopark, goready as ready
            from .chan import *
            if TYPE_CHECKING:
                from .runtime2 import G
            def newproc(): ...
            X: int = 1
            __all__ = ["gopark", "ready", "newproc", "X", "G", "goready"]
            """
        )
    )
    names, problems = face_all(init, tmp_path)
    assert names is not None and len(names) == 6
    assert [p.message for p in problems] == [
        "star import in the face: import each name explicitly",
        "__all__ lists 'G', which the face does not bind",
        "__all__ lists 'goready', which the face does not bind",
    ]
    init.write_text('"""No list."""\n')
    assert [p.message for p in face_all(init, tmp_path)[1]] == [
        "the face defines no __all__: list what the runtime offers"
    ]


def test_selfcheck_nested_copies_are_each_checked(tmp_path: Path) -> None:
    """A copy of outer holds outer's own copy of inner: both are checked, each on its own."""
    runq = """\
def inner(gp, new):
    gp.status = new


def outer(pp, gp):
    pp.n += 1
    # inline-of: runq.inner(new=2)
    gp.status = 2
    # end-inline
"""
    hot = """\
        def go(pp, gp):
            # inline-of: runq.outer
            pp.n += 1
            # inline-of: runq.inner(new=2)
            gp.status = 2
            # end-inline
            # end-inline
        """
    sites, problems = _check(tmp_path, hot, runq)
    assert problems == []
    assert sorted(s.target for s in sites) == ["runq.inner", "runq.inner", "runq.outer"]
    _, problems = _check(tmp_path / "bad", hot.replace("gp.status = 2", "gp.status = 3"), runq)
    assert len(problems) == 2, problems
    assert "this copy of runq.outer" in problems[0]
    assert "this copy of runq.inner" in problems[1]
