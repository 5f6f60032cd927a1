"""The layout's rules, checked on the source: writes only in services, reads out of services.

``docs/architecture.md`` explains the layout; these tests keep it from drifting.
They read the code as text (``ast``), so they need no database.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Where ORM writes may happen: services, management commands and migrations.
WRITERS = ("services", "management", "migrations")
WRITE_METHODS = {
    "save",
    "delete",
    "create",
    "update",
    "get_or_create",
    "update_or_create",
    "bulk_create",
    "bulk_update",
}
# A call is an ORM write when its receiver is a manager or a queryset chain.
QUERYSET_MARKERS = ("objects", ".filter(", ".exclude(", ".all()", "_set")


def _modules(*apps: str) -> list[Path]:
    return sorted(p for app in apps for p in (ROOT / app).rglob("*.py"))


# A storage backend is infrastructure, not a place for the app's writes: Django's storage
# API calls it (from services, through ``storages["evidence"]``) to keep a file's bytes.
INFRASTRUCTURE = {Path("assessment/storage.py")}


def _is_writer(path: Path) -> bool:
    relative = path.relative_to(ROOT)
    parts = relative.with_suffix("").parts
    return relative in INFRASTRUCTURE or any(part in WRITERS for part in parts)


def orm_writes(source: str) -> list[tuple[int, str]]:
    """(line, call) for each call that writes through the ORM."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in WRITE_METHODS:
            continue
        receiver = ast.unparse(node.func.value)
        on_queryset = any(marker in receiver for marker in QUERYSET_MARKERS)
        # instance.save() / instance.delete(): no positional argument, unlike
        # workbook.save(buffer) or dict.update(other).
        on_instance = node.func.attr in {"save", "delete"} and not node.args
        if on_queryset or on_instance:
            found.append((node.lineno, ast.unparse(node)[:80]))
    return found


def test_the_write_detector_sees_the_forms_of_write_the_code_uses():
    source = """
Answer.objects.filter(pk=1).update(level=2)
Answer.objects.create(level=1)
answer.save()
answer.delete()
response.answers.all().delete()
workbook.save(buffer)
context.update(state="saved")
"""
    assert [line for line, _call in orm_writes(source)] == [2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    "path",
    [p for p in _modules("assessment", "frameworks") if not _is_writer(p)],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_orm_write_outside_services_commands_and_migrations(path):
    assert orm_writes(path.read_text()) == []


# Helpers the writes share: link tokens, URLs and checks of their input. Nothing else
# in services may be a read.
SERVICE_HELPERS = {
    "new_token",
    "new_token_pair",
    "absolute_url",
    "validate_answer",
}
# Calls that change something: any write method (a service's querysets may come from
# a helper), raw SQL, mail that leaves the system, a queued task (also one queued when the
# transaction commits).
EFFECTS = WRITE_METHODS | {
    "execute",
    "send_mail",
    "send_email",
    "notify_after_commit",
    "enqueue",
    "on_commit",
    # ``services.mail.send_each`` sends a batch through the sender it is given.
    "send_one",
}


def test_every_public_service_function_writes():
    """A public function in ``services/`` writes (through the ORM, by mail, by a task, or
    by calling another service that does); reads belong in ``selectors/``."""
    functions: dict[str, ast.FunctionDef] = {}
    for path in _modules("assessment/services", "frameworks/services"):
        if path.parent.name == "services":
            for node in ast.parse(path.read_text()).body:
                if isinstance(node, ast.FunctionDef):
                    functions[node.name] = node

    def called(node: ast.FunctionDef) -> set[str]:
        names = set()
        for call in ast.walk(node):
            if isinstance(call, ast.Call):
                func = call.func
                names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
        return names

    writers = {name for name, node in functions.items() if called(node) & EFFECTS}
    grew = True
    while grew:
        more = {n for n, node in functions.items() if n not in writers and called(node) & writers}
        writers |= more
        grew = bool(more)
    reads = {
        name
        for name in functions
        if not name.startswith("_") and name not in writers and name not in SERVICE_HELPERS
    }
    assert reads == set()


# --- every form through the base (assessment/forms/base.py) ---------------------------------

FORMS = ROOT / "assessment" / "forms"
# The classes that carry the control-character rule; every form derives from one of them.
FORM_BASES = {"base.Form", "base.ModelForm", "base.TextRuleMixin"}


def forms_without_the_base(sources: dict[str, str]) -> list[str]:
    """``module.Class`` for each form class (a base whose name ends in ``Form``) that does
    not derive, through the forms modules' own classes, from the base form."""
    classes: dict[str, list[str]] = {}  # class name -> its bases, as written
    where: dict[str, str] = {}
    for module, source in sources.items():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef):
                classes[node.name] = [ast.unparse(b) for b in node.bases]
                where[node.name] = module

    def is_form(name: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(
            base.rsplit(".", 1)[-1].endswith("Form")
            or (base in classes and base not in seen and is_form(base, seen | {name}))
            for base in classes.get(name, [])
        )

    def has_base(name: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(
            base in FORM_BASES
            or (base in classes and base not in seen and has_base(base, seen | {name}))
            for base in classes.get(name, [])
        )

    return sorted(
        f"{where[name]}.{name}" for name in classes if is_form(name) and not has_base(name)
    )


def test_the_form_base_detector_sees_forms_that_skip_the_base():
    sources = {
        "good": """
class A(base.Form): ...
class B(A): ...
class C(base.TextRuleMixin, AuthenticationForm): ...
class D(base.ModelForm): ...
class Mixin: ...
class E(Mixin, B): ...
class SomeField(forms.CharField): ...
""",
        "bad": """
class F(forms.Form): ...
class G(F): ...
class H(Mixin, AuthenticationForm): ...
class I(forms.ModelForm): ...
class J(ModelForm): ...
""",
    }
    assert forms_without_the_base(sources) == ["bad.F", "bad.G", "bad.H", "bad.I", "bad.J"]


def test_every_form_derives_from_the_base_form():
    """Every form in ``assessment/forms/`` derives from ``base.Form``, ``base.ModelForm``
    or puts ``base.TextRuleMixin`` first, so that each of its text and e-mail fields
    refuses control characters (``assessment/validators.py``)."""
    sources = {
        path.stem: path.read_text() for path in sorted(FORMS.glob("*.py")) if path.stem != "base"
    }
    assert forms_without_the_base(sources) == []


def test_the_admin_edits_through_the_base_form():
    """Each admin class that can change records sets ``form`` to ``base.ModelForm`` or to
    a form imported from ``assessment/forms/`` (which the test above holds to the base)."""
    tree = ast.parse((ROOT / "assessment" / "admin.py").read_text())
    ours = {"base.ModelForm"} | {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("assessment.forms")
        for alias in node.names
    }
    wrong = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        bases = {ast.unparse(b) for b in node.bases}
        if "ReadOnlyMixin" in bases or not any(b.startswith("admin.") for b in bases):
            continue
        form = next(
            (
                ast.unparse(stmt.value)
                for stmt in node.body
                if isinstance(stmt, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "form" for t in stmt.targets)
            ),
            None,
        )
        if form not in ours:
            wrong.append(f"{node.name}: form = {form}")
    assert wrong == []
