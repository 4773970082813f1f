"""Every hook is documented with its exact signature; every plugin has a README."""

import inspect
import re
from pathlib import Path

import core.hookspecs
from core.plugins import available_plugins

ROOT = Path(__file__).parents[2]


def hookspecs():
    for name, fn in inspect.getmembers(core.hookspecs, inspect.isfunction):
        if hasattr(fn, "kopilka_spec"):
            yield name, list(inspect.signature(fn).parameters)


def test_every_hook_is_documented_with_its_signature():
    docs = (ROOT / "docs" / "hooks.md").read_text()
    headings = set(re.findall(r"^#+ (\w+\(.*\))$", docs, flags=re.M))
    missing = [f"{n}({', '.join(a)})" for n, a in hookspecs() if f"{n}({', '.join(a)})" not in headings]
    assert not missing, f"undocumented hooks (add a section to docs/hooks.md): {missing}"


def test_every_documented_hook_exists():
    docs = (ROOT / "docs" / "hooks.md").read_text()
    names = {n for n, _ in hookspecs()}
    documented = set(re.findall(r"^#+ (\w+)\(", docs, flags=re.M))
    assert documented <= names, f"documented but not in core/hookspecs.py: {documented - names}"


def test_every_hookspec_has_a_docstring():
    assert all(inspect.getdoc(getattr(core.hookspecs, n)) for n, _ in hookspecs())


def test_every_plugin_has_a_readme():
    from core.plugins import ESSENTIAL_PLUGINS

    missing = []
    for name, module_path in {**ESSENTIAL_PLUGINS, **available_plugins()}.items():
        package = ROOT / Path(*module_path.split(".")[:-1])
        if package.is_dir() and not (package / "README.md").exists():
            missing.append(f"{name} ({package.relative_to(ROOT)}/README.md)")
    assert not missing, f"plugins without a README: {missing}"
