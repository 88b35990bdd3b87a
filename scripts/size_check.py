"""Is every Python file of oms_ecommerce at most ~400 lines, and every function or method at most ~60?

Run by scripts/lint.sh (issue 17: a newcomer finds their way in small files and short methods). A longer one
passes when the reason is written next to it, in a comment or docstring reading ``Longer than ~N lines on
purpose: <why>``:

- for a file, in its module docstring or in the lines before its first class or function;
- for a function or method, in the 3 lines above its ``def`` (or its decorators) or the first 3 lines of its
  body (its docstring counts).

Lengths are counted as Python's ``ast`` sees them: from the ``def`` line to the last line of the body.
The tests (``oms_ecommerce/tests``) follow the same rule: a long scenario or a test file covering a whole
domain carries its reason too.
"""

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDON = ROOT / "oms_ecommerce"
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60
REASON = re.compile(r"Longer than ~\d+ lines on purpose")


def has_reason(lines, first, last):
    """Whether the reason is written in ``lines[first:last]`` (0-based, clamped to the file)."""
    return any(REASON.search(line) for line in lines[max(first, 0) : max(last, 0)])


def file_problem(path, tree, lines):
    if len(lines) <= MAX_FILE_LINES:
        return None
    docstring = ast.get_docstring(tree, clean=False) or ""
    definitions = [node for node in tree.body if isinstance(node, (ast.ClassDef, ast.FunctionDef))]
    head_end = min((d.decorator_list[0].lineno if d.decorator_list else d.lineno) for d in definitions) - 1
    if REASON.search(docstring) or has_reason(lines, 0, head_end if definitions else len(lines)):
        return None
    return f"{path}: {len(lines)} lines (above {MAX_FILE_LINES}): split it, or write why next to it"


def function_problems(path, tree, lines):
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        length = node.end_lineno - node.lineno + 1
        if length <= MAX_FUNCTION_LINES:
            continue
        top = node.decorator_list[0].lineno if node.decorator_list else node.lineno
        body = node.body[0].lineno
        if has_reason(lines, top - 1 - 3, top - 1) or has_reason(lines, node.lineno - 1, body - 1 + 3):
            continue
        yield (
            f"{path}:{node.lineno}: {node.name}() is {length} lines (above {MAX_FUNCTION_LINES}): "
            "split it at its seams, or write why next to it"
        )


def main(with_tests=True):
    problems = []
    for file in sorted(ADDON.rglob("*.py")):
        path = file.relative_to(ROOT)
        if path.parts[1] == "tests" and not with_tests:
            continue
        source = file.read_text(encoding="utf-8")
        lines = source.splitlines()
        tree = ast.parse(source, filename=str(path))
        problem = file_problem(path, tree, lines)
        if problem:
            problems.append(problem)
        problems.extend(function_problems(path, tree, lines))
    for problem in problems:
        print(problem)
    if problems:
        print(
            f"{len(problems)} file(s) or function(s) too long; a reason reads "
            '"Longer than ~N lines on purpose: <why>" (scripts/size_check.py)'
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
