#!/usr/bin/env python3
"""
`npm run prime-rl:map -- PATH [--revision REV] [--out-dir DIR]`: the map of prime-rl's config classes that
rlstack checks keys against, regenerated from a prime-rl checkout at PATH.

prime-rl is not imported: its config package (packages/prime-rl-configs/src/prime_rl/configs/*.py, or
src/prime_rl/configs/*.py in older layouts) is read with Python's `ast`. A class is a config class when it
subclasses pydantic's BaseModel or pydantic-config's BaseConfig, directly or through other config classes
(of any module of the package). For each class the map lists its fields — own fields in declaration order,
then inherited ones along the MRO (`inherited_from` = the declaring class) — with the annotation and the
default as written (`ast.unparse`), whether the field is required, the config classes reachable from the
annotation (`<module>.<Class>`, type aliases and discriminated unions expanded, in order of appearance) and
the verifiers/renderers types (`external`) the package does not describe.

Writes, under DIR (default: src/compiler/emit/prime-rl/maps of this repo):
  config-keys-<rev7>.json   the map (rev7 = the first 7 hex digits of the checkout's HEAD)
  config-flags-<rev7>.json  how each field is spelled on prime-rl's command line: the kebab-case flag, the
                            kinds of value it takes (bool: paired --x/--no-x flags; list: space-separated
                            values or a JSON list; dict: a JSON object; config: a sub-table; scalar; any) and
                            whether it takes None (`--no-x` for an optional sub-config, `None` as a value)

Exit status: 0 written, 2 bad arguments or PATH is not a prime-rl checkout.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

# Where prime-rl keeps its config package, newest layout first.
CONFIG_DIRS = ("packages/prime-rl-configs/src/prime_rl/configs", "src/prime_rl/configs")
# The root classes rlstack generates configs for (src/compiler/emit/prime-rl/keys.ts ROOT_CLASSES).
ROOT_CLASSES = ("trainer.TrainerConfig", "orchestrator.OrchestratorConfig", "inference.InferenceConfig", "env_server.EnvServerConfig")
# Bases that make a class a config class.
BASES = {("pydantic", "BaseModel"), ("pydantic_config", "BaseConfig"), ("prime_rl.utils.config", "BaseConfig")}
# Modules whose names are types, not described configs: the standard library and pydantic.
STANDARD = set(getattr(sys, "stdlib_module_names", ())) | {"typing", "typing_extensions", "pathlib", "pydantic", "pydantic_config", "annotated_types", "prime_rl"}
HEX = re.compile(r"^[0-9a-f]{7,40}$")


class Failure(Exception):
    pass


@dataclass
class Module:
    name: str
    tree: ast.Module
    # local name -> (module, name) for `from m import n as local`
    imports: dict[str, tuple[str, str]] = field(default_factory=dict)
    # local alias -> module for `import m as alias`
    module_aliases: dict[str, str] = field(default_factory=dict)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    # module-level `Name = ...`, `Name: TypeAlias = ...` and `type Name = ...`
    aliases: dict[str, ast.expr] = field(default_factory=dict)


def read_modules(config_dir: Path) -> dict[str, Module]:
    modules: dict[str, Module] = {}
    for path in sorted(config_dir.glob("*.py")):
        if path.name == "__init__.py":
            continue
        name = path.stem
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except SyntaxError as e:
            raise Failure(f"{path}:{e.lineno}: cannot parse: {e.msg}") from e
        m = Module(name, tree)
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for a in node.names:
                    m.imports[a.asname or a.name] = (node.module, a.name)
            elif isinstance(node, ast.ImportFrom) and node.level > 0:
                # `from .shared import X` inside the configs package
                for a in node.names:
                    m.imports[a.asname or a.name] = (f"prime_rl.configs.{node.module or ''}".rstrip("."), a.name)
            elif isinstance(node, ast.Import):
                for a in node.names:
                    m.module_aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
            elif isinstance(node, ast.ClassDef):
                m.classes[node.name] = node
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                m.aliases[node.target.id] = node.value
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                m.aliases[node.targets[0].id] = node.value
            elif type(node).__name__ == "TypeAlias":  # Python 3.12 `type X = ...`
                m.aliases[node.name.id] = node.value  # type: ignore[attr-defined]
        modules[name] = m
    return modules


class Package:
    def __init__(self, modules: dict[str, Module]):
        self.modules = modules
        self.config: dict[str, bool] = {}
        self._find_config_classes()

    # -- names ---------------------------------------------------------------------------------------

    def lookup(self, module: str, name: str, seen: frozenset = frozenset()) -> tuple[str, str, str] | None:
        """What `name` in `module` is: ('class', mod, Name), ('alias', mod, Name), ('base', '', ''),
        ('external', '', dotted) or None (a builtin, typing name, or unknown)."""
        if (module, name) in seen:
            return None
        seen = seen | {(module, name)}
        m = self.modules.get(module)
        if m is None:
            return None
        if name in m.classes:
            return ("class", module, name)
        if name in m.aliases:
            return ("alias", module, name)
        if name in m.imports:
            source, original = m.imports[name]
            if (source, original) in BASES:
                return ("base", "", "")
            if source.startswith("prime_rl.configs."):
                return self.lookup(source[len("prime_rl.configs."):], original, seen)
            if source.split(".")[0] not in STANDARD:
                return ("external", "", f"{source}.{original}")
        return None

    def _find_config_classes(self) -> None:
        changed = True
        while changed:
            changed = False
            for mod in self.modules.values():
                for cname, node in mod.classes.items():
                    key = f"{mod.name}.{cname}"
                    if self.config.get(key):
                        continue
                    for base in node.bases:
                        if self._is_config_base(mod.name, base):
                            self.config[key] = True
                            changed = True
                            break

    def _is_config_base(self, module: str, base: ast.expr) -> bool:
        if isinstance(base, ast.Name):
            found = self.lookup(module, base.id)
            if found is None:
                return False
            if found[0] == "base":
                return True
            return found[0] == "class" and self.config.get(f"{found[1]}.{found[2]}", False)
        if isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name):
            source = self.modules[module].module_aliases.get(base.value.id)
            return (source, base.attr) in BASES
        return False

    def config_bases(self, key: str) -> list[str]:
        module, cname = key.split(".", 1)
        out = []
        for base in self.modules[module].classes[cname].bases:
            if isinstance(base, ast.Name):
                found = self.lookup(module, base.id)
                if found and found[0] == "class" and self.config.get(f"{found[1]}.{found[2]}"):
                    out.append(f"{found[1]}.{found[2]}")
        return out

    def mro(self, key: str) -> list[str]:
        """C3 linearization over config classes."""
        bases = self.config_bases(key)
        seqs = [self.mro(b) for b in bases] + [list(bases)]
        out = [key]
        while True:
            seqs = [s for s in seqs if s]
            if not seqs:
                return out
            for seq in seqs:
                head = seq[0]
                if not any(head in s[1:] for s in seqs):
                    break
            else:
                raise Failure(f"{key}: inconsistent class hierarchy")
            out.append(head)
            for s in seqs:
                if s and s[0] == head:
                    del s[0]

    # -- annotations ---------------------------------------------------------------------------------

    def walk(self, module: str, expr: ast.expr | None, classes: list[str], external: list[str], seen: frozenset = frozenset()) -> None:
        """Config classes and external types reachable from an annotation, in order of appearance."""
        if expr is None:
            return
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            try:
                parsed = ast.parse(expr.value, mode="eval").body
            except SyntaxError:
                return
            self.walk(module, parsed, classes, external, seen)
        elif isinstance(expr, ast.Name):
            found = self.lookup(module, expr.id)
            if found is None:
                return
            kind, mod, name = found
            if kind == "class" and self.config.get(f"{mod}.{name}"):
                add(classes, f"{mod}.{name}")
            elif kind == "alias" and (mod, name) not in seen:
                self.walk(mod, self.modules[mod].aliases[name], classes, external, seen | {(mod, name)})
            elif kind == "external":
                add(external, name)
        elif isinstance(expr, ast.Attribute):
            root = expr
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in self.modules[module].module_aliases:
                source = self.modules[module].module_aliases[root.id]
                if source.split(".")[0] not in STANDARD:
                    add(external, ast.unparse(expr))
        elif isinstance(expr, ast.Subscript):
            head = subscript_name(expr)
            if head == "Literal":
                return
            args = expr.slice.elts if isinstance(expr.slice, ast.Tuple) else [expr.slice]
            if head == "Annotated":
                args = args[:1]
            for a in args:
                self.walk(module, a, classes, external, seen)
        elif isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
            self.walk(module, expr.left, classes, external, seen)
            self.walk(module, expr.right, classes, external, seen)
        elif isinstance(expr, (ast.Tuple, ast.List)):
            for e in expr.elts:
                self.walk(module, e, classes, external, seen)

    def kinds(self, module: str, expr: ast.expr | None, out: set[str], seen: frozenset = frozenset()) -> None:
        """The kinds of command-line value an annotation takes; 'none' when it takes None."""
        if expr is None:
            out.add("any")
            return
        if isinstance(expr, ast.Constant):
            if expr.value is None:
                out.add("none")
            elif isinstance(expr.value, str):
                try:
                    self.kinds(module, ast.parse(expr.value, mode="eval").body, out, seen)
                except SyntaxError:
                    out.add("any")
            else:
                out.add("scalar")
        elif isinstance(expr, ast.Name):
            n = expr.id
            if n == "bool":
                out.add("bool")
            elif n in ("int", "float", "str", "Path", "bytes"):
                out.add("scalar")
            elif n in ("list", "List", "Sequence", "tuple", "Tuple", "set", "Set", "frozenset"):
                out.add("list")
            elif n in ("dict", "Dict", "Mapping"):
                out.add("dict")
            elif n in ("Any", "object"):
                out.add("any")
            else:
                found = self.lookup(module, n)
                if found and found[0] == "class" and self.config.get(f"{found[1]}.{found[2]}"):
                    out.add("config")
                elif found and found[0] == "alias" and (found[1], found[2]) not in seen:
                    self.kinds(found[1], self.modules[found[1]].aliases[found[2]], out, seen | {(found[1], found[2])})
                elif found and found[0] == "external":
                    out.add("config")
                else:
                    out.add("any")
        elif isinstance(expr, ast.Attribute):
            out.add("config" if self.is_external_attr(module, expr) else "any")
        elif isinstance(expr, ast.Subscript):
            head = subscript_name(expr)
            args = expr.slice.elts if isinstance(expr.slice, ast.Tuple) else [expr.slice]
            if head == "Literal":
                for a in args:
                    if isinstance(a, ast.Constant) and a.value is None:
                        out.add("none")
                    elif isinstance(a, ast.Constant) and isinstance(a.value, bool):
                        out.add("bool")
                    else:
                        out.add("scalar")
            elif head in ("Annotated", "SerializeAsAny"):
                self.kinds(module, args[0], out, seen)
            elif head == "Optional":
                self.kinds(module, args[0], out, seen)
                out.add("none")
            elif head == "Union":
                for a in args:
                    self.kinds(module, a, out, seen)
            elif head in ("list", "List", "Sequence", "tuple", "Tuple", "set", "Set", "frozenset"):
                out.add("list")
            elif head in ("dict", "Dict", "Mapping"):
                out.add("dict")
            else:
                out.add("any")
        elif isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
            self.kinds(module, expr.left, out, seen)
            self.kinds(module, expr.right, out, seen)
        else:
            out.add("any")

    def is_external_attr(self, module: str, expr: ast.Attribute) -> bool:
        root = expr
        while isinstance(root, ast.Attribute):
            root = root.value
        source = self.modules[module].module_aliases.get(root.id) if isinstance(root, ast.Name) else None
        return source is not None and source.split(".")[0] not in STANDARD

    # -- fields --------------------------------------------------------------------------------------

    def own_fields(self, key: str) -> list[dict]:
        module, cname = key.split(".", 1)
        out = []
        for node in self.modules[module].classes[cname].body:
            if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name):
                continue
            name = node.target.id
            if name.startswith("_") or is_classvar(node.annotation):
                continue
            default, required = default_of(node)
            classes: list[str] = []
            external: list[str] = []
            self.walk(module, node.annotation, classes, external)
            info = {"name": name, "type": ast.unparse(node.annotation), "default": default, "required": required, "config_classes": classes}
            if external:
                info["external"] = external
            kinds: set[str] = set()
            self.kinds(module, node.annotation, kinds)
            info["_flag"] = {"flag": "--" + name.replace("_", "-"), "kinds": sorted(kinds - {"none"}), "optional": "none" in kinds}
            out.append(info)
        return out

    def fields(self, key: str) -> list[dict]:
        out: list[dict] = []
        seen: set[str] = set()
        for owner in self.mro(key):
            for f in self.own_fields(owner):
                if f["name"] in seen:
                    continue
                seen.add(f["name"])
                if owner != key:
                    f["inherited_from"] = owner
                out.append(f)
        return out


def add(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)


def subscript_name(expr: ast.Subscript) -> str:
    v = expr.value
    if isinstance(v, ast.Name):
        return v.id
    if isinstance(v, ast.Attribute):
        return v.attr
    return ""


def is_classvar(annotation: ast.expr) -> bool:
    target = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    return (isinstance(target, ast.Name) and target.id == "ClassVar") or (isinstance(target, ast.Attribute) and target.attr == "ClassVar")


def field_call_default(call: ast.Call) -> tuple[str | None, bool] | None:
    """The default of a `Field(...)` call: (text, required); None when the call sets no default."""
    for kw in call.keywords:
        if kw.arg == "default":
            return (None, True) if is_ellipsis(kw.value) else (ast.unparse(kw.value), False)
        if kw.arg == "default_factory":
            return (f"<factory {ast.unparse(kw.value)}>", False)
    if call.args:
        return (None, True) if is_ellipsis(call.args[0]) else (ast.unparse(call.args[0]), False)
    return None


def default_of(node: ast.AnnAssign) -> tuple[str | None, bool]:
    value = node.value
    if value is not None and is_field_call(value):
        found = field_call_default(value)  # type: ignore[arg-type]
        return found if found is not None else (None, True)
    if value is not None:
        return ast.unparse(value), False
    # `x: Annotated[int, Field(default=...)]`
    ann = node.annotation
    if isinstance(ann, ast.Subscript) and subscript_name(ann) == "Annotated" and isinstance(ann.slice, ast.Tuple):
        for meta in ann.slice.elts[1:]:
            if is_field_call(meta):
                found = field_call_default(meta)  # type: ignore[arg-type]
                if found is not None:
                    return found
    return None, True


def is_field_call(expr: ast.expr) -> bool:
    if not isinstance(expr, ast.Call):
        return False
    f = expr.func
    return (isinstance(f, ast.Name) and f.id == "Field") or (isinstance(f, ast.Attribute) and f.attr == "Field")


def is_ellipsis(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is Ellipsis


# ---------------------------------------------------------------------------------------------------------


def build(config_dir: Path) -> tuple[dict, dict]:
    package = Package(read_modules(config_dir))
    keys: dict[str, list[dict]] = {}
    flags: dict[str, dict] = {}
    for key in sorted(k for k, v in package.config.items() if v):
        fields = package.fields(key)
        flags[key] = {f["name"]: f.pop("_flag") for f in fields}
        keys[key] = fields
    return keys, flags


def find_config_dir(checkout: Path) -> Path:
    for rel in CONFIG_DIRS:
        d = checkout / rel
        if d.is_dir() and any(d.glob("*.py")):
            return d
    if (checkout / "src/prime_rl").is_dir():
        raise Failure(
            f"{checkout} is a prime-rl checkout from before its config package: its config classes are spread over"
            " the code, which the map generator does not read\n"
            "  map a revision that has src/prime_rl/configs/ (since February 2026) or packages/prime-rl-configs/ (since May 2026)"
        )
    raise Failure(
        f"{checkout} is not a prime-rl checkout: it has none of {', '.join(d + '/' for d in CONFIG_DIRS)}"
        " (prime-rl's config package)\n  give the path of a prime-rl clone: npm run prime-rl:map -- /path/to/prime-rl"
    )


def head_revision(checkout: Path) -> str | None:
    try:
        r = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--show-toplevel", "HEAD"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if r.returncode != 0:
        return None
    top, rev = r.stdout.split()
    # A folder inside some other repository (say, an export under this repo) is not a checkout of its own.
    if Path(top).resolve() != checkout.resolve():
        return None
    return rev


def uncommitted(checkout: Path, config_dir: Path) -> bool:
    """Does the config package differ from HEAD (the map is named by HEAD but describes the files)?"""
    try:
        r = subprocess.run(["git", "-C", str(checkout), "status", "--porcelain", "--", str(config_dir.resolve())], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0 and r.stdout.strip() != ""


def dumps(obj: object) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def dumps_flags(flags: dict[str, dict]) -> str:
    """One line per field: the file stays short enough to read and diff."""
    classes = []
    for key, fields in flags.items():
        lines = [f"    {json.dumps(name)}: {json.dumps(info, ensure_ascii=False)}" for name, info in fields.items()]
        classes.append(f"  {json.dumps(key)}: {{" + ("\n" + ",\n".join(lines) + "\n  }" if lines else "}"))
    return "{\n" + ",\n".join(classes) + "\n}\n"


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(prog="npm run prime-rl:map --", description="Regenerate rlstack's map of prime-rl's config classes from a prime-rl checkout.")
    parser.add_argument("path", metavar="PATH", help="a prime-rl checkout (a git clone; or an export with --revision)")
    parser.add_argument("--revision", help="the checkout's commit (7-40 hex digits); required when PATH is not a git checkout")
    parser.add_argument("--out-dir", default=str(here / "src/compiler/emit/prime-rl/maps"), help="where the maps go (default: %(default)s)")
    parser.add_argument("--stdout", action="store_true", help="print the keys map instead of writing files")
    args = parser.parse_args(argv)
    try:
        checkout = Path(args.path)
        if not checkout.is_dir():
            raise Failure(f"{checkout}: no such directory\n  give the path of a prime-rl clone: npm run prime-rl:map -- /path/to/prime-rl")
        config_dir = find_config_dir(checkout)
        head = head_revision(checkout)
        if args.revision is not None:
            revision = args.revision.lower()
            if not HEX.match(revision):
                raise Failure(f"--revision {args.revision}: not a commit hash (7 to 40 hex digits)")
            if head is not None and not head.startswith(revision):
                raise Failure(f"--revision {args.revision}: {checkout} is at {head}\n  drop --revision, or check out {args.revision} first")
        elif head is not None:
            revision = head
            if uncommitted(checkout, config_dir):
                print(f"prime-rl:map: warning: {config_dir} has uncommitted changes: the map describes the files, not {head[:7]}", file=sys.stderr)
        else:
            raise Failure(f"{checkout} is not a git checkout, so its revision is unknown\n  pass it: npm run prime-rl:map -- {checkout} --revision <commit>")
        keys, flags = build(config_dir)
        if not keys:
            raise Failure(f"{config_dir} defines no config classes (subclasses of pydantic's BaseModel or pydantic-config's BaseConfig)")
    except Failure as e:
        print(f"prime-rl:map: error: {e}", file=sys.stderr)
        return 2
    missing = [c for c in ROOT_CLASSES if c not in keys]
    if missing:
        print(f"prime-rl:map: warning: no {', '.join(missing)} in {config_dir}: rlstack generates configs of these classes", file=sys.stderr)
    if args.stdout:
        sys.stdout.write(dumps(keys))
        return 0
    rev7 = revision[:7]
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keys_file = out / f"config-keys-{rev7}.json"
    flags_file = out / f"config-flags-{rev7}.json"
    keys_file.write_text(dumps(keys), encoding="utf-8")
    flags_file.write_text(dumps_flags(flags), encoding="utf-8")
    fields = sum(len(v) for v in keys.values())
    print(f"prime-rl {revision}: {len(keys)} config classes, {fields} fields from {config_dir}")
    print(f"wrote {os.path.relpath(keys_file)}")
    print(f"wrote {os.path.relpath(flags_file)}")
    print(f"use it: [run] prime_rl_revision = \"{rev7}\"")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
