"""Is oms_ecommerce/i18n/oms_ecommerce.pot current, and do the translations keep their placeholders?

Run by scripts/lint.sh, without a database (a re-export takes minutes: see scripts/i18n_export.sh).
The source strings are read with Odoo's own extractors, the ones its exporter uses:

- Python: ``_()``, ``_lt()`` and ``self.env._()`` calls (``odoo.tools.babel.extract_python``);
- the web client's JavaScript and OWL templates under ``static/src`` and the dashboards' JSON;
- the data files of the manifest: QWeb templates and views (their terms as ``xml_translate`` cuts
  them, the way the database stores them), the HTML help of actions (``html_translate``) and the
  translated text fields of the records (mail templates' subjects and bodies, menus, actions, reports,
  groups, subtypes, activity types, the addon's own named records);
- the models' Python source: ``_description``, explicit ``string=``/``help=`` of fields, selection
  labels (literal lists or module-level constants) and constraint messages.

A string found there and missing from the .pot fails the check. So does a Python or view string the .pot
still lists but the sources no longer have (the .pot is stale). Field labels Odoo derives from the field's
name or from a related field are not checked here: the exporter writes them from the database.

Each translation (``i18n/<lang>.po``) must list the .pot's strings and keep each translated string's
placeholders: ``%s``/``%(name)s`` formats, ``{{ … }}`` expressions, HTML tags and QWeb attributes (``t-out``…).
"""

import ast
import re
import sys
from collections import Counter
from pathlib import Path

import polib
from babel.messages import extract
from lxml import etree

from odoo.tools.translate import html_translate, xml_translate

ROOT = Path(__file__).resolve().parent.parent
ADDON = ROOT / "oms_ecommerce"
POT = ADDON / "i18n" / "oms_ecommerce.pot"

# Text fields with translate=True on the records this addon's data files create ("text": the whole
# value is one term; "html": cut by html_translate). Checked against Odoo 19's models.
TRANSLATED_FIELDS = {
    "mail.template": {"name": "text", "subject": "text", "body_html": "text", "description": "text"},
    "ir.actions.act_window": {"name": "text", "help": "html"},
    "ir.actions.server": {"name": "text"},
    "ir.actions.client": {"name": "text"},
    "ir.actions.report": {"name": "text", "print_report_name": "text"},
    "ir.cron": {"name": "text"},
    "ir.ui.menu": {"name": "text"},
    "res.groups": {"name": "text", "comment": "text"},
    "res.groups.privilege": {"name": "text"},
    "mail.message.subtype": {"name": "text", "description": "text"},
    "mail.activity.type": {"name": "text", "summary": "text"},
    "base.automation": {"name": "text"},
    "spreadsheet.dashboard": {"name": "text"},
    "spreadsheet.dashboard.group": {"name": "text"},
    "rma.operation": {"name": "text"},
    "oms.ticket.sla": {"name": "text"},
}

FORMAT = re.compile(r"%\([a-z_]+\)[-#0 +]*\d*(?:\.\d+)?[sdfgr]|%[-#0 +]*\d*(?:\.\d+)?[sdfgr]")
EXPRESSION = re.compile(r"\{\{.*?\}\}|#\{.*?\}")
QWEB_ATTRIBUTE = re.compile(r"""\st-[\w-]+=(?:"[^"]*"|'[^']*')""")
TAG = re.compile(r"</?[a-zA-Z][\w.-]*")


def normalize(term):
    return " ".join(term.split())


def counts(term):
    """Odoo's exporter skips terms without two letters or digits in a row."""
    return len(re.sub(r"\W+", "", (term or "").strip())) > 1


class Sources:
    """The translatable strings of the addon: {normalized term: [where]}, per kind."""

    def __init__(self):
        self.code = {}  # Python, JavaScript, OWL, dashboards: exact extraction, checked both ways
        self.views = {}  # QWeb templates and views: exact extraction, checked both ways
        self.records = {}  # record fields, model metadata: must be in the .pot

    def add(self, kind, term, where):
        if counts(term):
            getattr(self, kind).setdefault(normalize(term), []).append(where)

    # ------------------------------------------------------------------ code
    def extract_code(self):
        python = {"_": None, "_lt": None}
        for path in sorted(ADDON.rglob("*.py")):
            self._babel(path, "odoo.tools.babel:extract_python", python, {"encoding": "UTF-8"})
        static = ADDON / "static" / "src"
        for path in sorted(static.rglob("*.js")):
            self._babel(path, "odoo.tools.babel:extract_javascript", {"_t": None}, {})
        for path in sorted(static.rglob("*.xml")):
            self._babel(path, "odoo.tools.translate:babel_extract_qweb", {"_": None}, {})
        for path in sorted((ADDON / "data").rglob("*")):
            if re.match(r".*_dashboard(\.osheet)?\.json$", path.name):
                self._babel(path, "odoo.tools.translate:extract_spreadsheet_terms", {"_": None}, {})

    def _babel(self, path, method, keywords, options):
        """Babel's extraction with Odoo's extractors, as ``TranslationModuleReader`` runs it."""
        with path.open("rb") as fileobj:
            for lineno, message, _comments, _context in extract.extract(method, fileobj, keywords, options=options):
                self.add("code", message, f"{path.relative_to(ROOT)}:{lineno}")

    # ------------------------------------------------------------------ data files
    def extract_data(self):
        manifest = ast.literal_eval((ADDON / "__manifest__.py").read_text())
        for name in manifest.get("data", []):
            if name.endswith(".xml"):
                self._xml(ADDON / name)

    def _xml(self, path):
        tree = etree.parse(str(path))
        where = str(path.relative_to(ROOT))
        for node in tree.iter("template"):
            self._arch(node, f"{where}:{node.sourceline} ({node.get('id')})")
        for node in tree.iter("menuitem"):
            if node.get("name"):
                self.add("records", node.get("name"), f"{where}:{node.sourceline}")
        for record in tree.iter("record"):
            model = record.get("model")
            for field in record.findall("field"):
                name, at = field.get("name"), f"{where}:{field.sourceline} ({record.get('id')})"
                if model == "ir.ui.view" and name == "arch":
                    self._arch(field, at)
                elif name in TRANSLATED_FIELDS.get(model, {}):
                    value = self._value(field)
                    if TRANSLATED_FIELDS[model][name] == "html":
                        html_translate(lambda term, at=at: self.add("records", term, at) or term, value)
                    else:
                        self.add("records", value, at)

    def _value(self, field):
        """A field's value as the data loader stores it (``type="html"``/``"xml"``: the serialized content)."""
        if field.get("type") in ("html", "xml"):
            return (field.text or "") + "".join(etree.tostring(child, encoding="unicode") for child in field)
        return field.text or ""

    def _arch(self, node, at):
        """The terms of a view's or template's arch, cut as the database stores them (``xml_translate``)."""
        root = etree.Element("t")
        root.text = node.text
        for child in node:
            root.append(child.__copy__())
        xml_translate(lambda term: self.add("views", term, at) or term, etree.tostring(root, encoding="unicode"))

    # ------------------------------------------------------------------ models
    def extract_models(self):
        """_description, fields' explicit labels, helps and selection labels, constraint messages."""
        trees = {path: ast.parse(path.read_text(), str(path)) for path in sorted(ADDON.rglob("*.py"))}
        constants = {}
        for tree in trees.values():
            for node in tree.body:
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.List | ast.Tuple):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            constants[target.id] = node.value
        for path, tree in trees.items():
            if "tests" in path.parts:
                continue
            where = str(path.relative_to(ROOT))
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    for item in node.body:
                        if (
                            isinstance(item, ast.Assign)
                            and any(isinstance(t, ast.Name) and t.id == "_description" for t in item.targets)
                            and isinstance(item.value, ast.Constant)
                        ):
                            self.add("records", item.value.value, f"{where}:{item.lineno}")
                if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                    continue
                at = f"{where}:{node.lineno}"
                owner = node.func.value
                if not (isinstance(owner, ast.Name) and owner.id in ("fields", "models")):
                    continue
                kwargs = {kw.arg: kw.value for kw in node.keywords if kw.arg}
                if node.func.attr == "Constraint" and len(node.args) > 1:
                    self._constant(node.args[1], at)
                    continue
                for key in ("string", "help"):
                    if key in kwargs:
                        self._constant(kwargs[key], at)
                if node.func.attr == "Selection":
                    for selection in [*node.args[:1], kwargs.get("selection"), kwargs.get("selection_add")]:
                        if isinstance(selection, ast.Name):
                            selection = constants.get(selection.id)
                        if isinstance(selection, ast.List | ast.Tuple):
                            for pair in selection.elts:
                                if isinstance(pair, ast.Tuple) and len(pair.elts) == 2:
                                    self._constant(pair.elts[1], at)

    def _constant(self, node, at):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            self.add("records", node.value, at)


def placeholders(text):
    return Counter(FORMAT.findall(text) + EXPRESSION.findall(text) + QWEB_ATTRIBUTE.findall(text) + TAG.findall(text))


def main():
    problems = []
    if not POT.exists():
        sys.stderr.write(f"{POT.relative_to(ROOT)} is missing: generate it with scripts/i18n_export.sh\n")
        return 1
    pot = polib.pofile(str(POT))
    in_pot = {normalize(entry.msgid) for entry in pot}
    pot_code, pot_views = set(), set()
    for entry in pot:
        for occurrence, _line in entry.occurrences:
            if occurrence.startswith("code:"):
                pot_code.add(normalize(entry.msgid))
            elif occurrence.startswith("model_terms:ir.ui.view,arch_db:"):
                pot_views.add(normalize(entry.msgid))

    sources = Sources()
    sources.extract_code()
    sources.extract_data()
    sources.extract_models()
    for kind in ("code", "views", "records"):
        for term, where in sorted(getattr(sources, kind).items()):
            if term not in in_pot:
                problems.append(f"not in the .pot: {term!r} ({where[0]})")
    for term in sorted(pot_code - set(sources.code)):
        problems.append(f"stale in the .pot (no such Python/JS string any more): {term!r}")
    for term in sorted(pot_views - set(sources.views)):
        problems.append(f"stale in the .pot (no such text in a view or template any more): {term!r}")

    for po_path in sorted(POT.parent.glob("*.po")):
        po = polib.pofile(str(po_path))
        name = po_path.relative_to(ROOT)
        po_ids = {entry.msgid for entry in po if not entry.obsolete}
        pot_ids = {entry.msgid for entry in pot}
        for msgid in sorted(pot_ids - po_ids):
            problems.append(f"{name}: misses {msgid[:80]!r}: merge the .pot into it (scripts/i18n_export.sh)")
        for msgid in sorted(po_ids - pot_ids):
            problems.append(f"{name}: lists {msgid[:80]!r}, which the .pot no longer has")
        for entry in po.translated_entries():
            if placeholders(entry.msgid) != placeholders(entry.msgstr):
                missing = placeholders(entry.msgid) - placeholders(entry.msgstr)
                extra = placeholders(entry.msgstr) - placeholders(entry.msgid)
                problems.append(
                    f"{name}: the translation of {entry.msgid[:60]!r} changes its placeholders "
                    f"(lost: {sorted(missing)}, added: {sorted(extra)})"
                )

    if problems:
        sys.stderr.write("".join(f"{problem}\n" for problem in problems))
        sys.stderr.write(
            f"{len(problems)} problem(s) with the translations. After changing a translatable string, "
            "regenerate the .pot and merge it into the .po files: scripts/i18n_export.sh\n"
        )
        return 1
    total = len(set(sources.code) | set(sources.views) | set(sources.records))
    sys.stdout.write(f"i18n: the .pot has the {total} source strings checked; translations keep their placeholders\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
