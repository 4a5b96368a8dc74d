"""Which outside programs does the project call? (for tests/test_setup_tools.py)

A static scan, on purpose: the question is what a *fresh* machine needs, so
it cannot be answered by looking at what happens to be installed here.

- Python: ``subprocess.run/Popen/check_call/check_output(["tool", ...])``,
  ``shutil.which("tool")``, ``<...bindir...> / "tool"`` (PostgreSQL's bin dir)
  and ``_tool(["tool", ...], ...)`` (qgis_plugin/build.py's finder).
- Shell (scripts, .ci/run, Makefile recipes): every word in command position,
  outside quotes and comments, including inside ``$(...)``, plus the argument
  of ``command -v``; builtins, keywords, the file's own functions and words
  that start with a variable are not programs.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

SUBPROCESS_CALLS = {"run", "Popen", "check_call", "check_output", "call"}

SHELL_BUILTINS = {
    ".", ":", "[", "[[", "]]", "alias", "bg", "break", "builtin", "caller", "cd", "command",
    "compgen", "complete", "continue", "declare", "dirs", "disown", "echo", "enable", "eval",
    "exec", "exit", "export", "false", "fc", "fg", "getopts", "hash", "help", "history",
    "jobs", "kill", "let", "local", "logout", "mapfile", "popd", "printf", "pushd", "pwd",
    "read", "readarray", "readonly", "return", "set", "shift", "shopt", "source", "suspend",
    "test", "times", "trap", "true", "type", "typeset", "ulimit", "umask", "unalias", "unset",
    "wait",
}
SHELL_KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for",
                  "in", "case", "esac", "function", "select", "!", "{", "}", "time"}
# Words after which the next word is again a command.
PREFIXES = {"sudo", "env", "nohup", "exec", "time", "!", "then", "else", "elif", "do", "if",
            "while", "until", "{"}
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")
_FUNCTION = re.compile(r"^\s*(?:function\s+)?([A-Za-z_][A-Za-z0-9_-]*)\s*\(\)\s*\{?", re.M)


def python_tools(path: Path) -> set[str]:
    """Programs a Python file runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()

    def literal(node: ast.AST) -> str | None:
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value,
                                                                           str) else None

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else (
                func.id if isinstance(func, ast.Name) else "")
            owner = func.value.id if (isinstance(func, ast.Attribute)
                                      and isinstance(func.value, ast.Name)) else ""
            first = node.args[0] if node.args else None
            if owner == "subprocess" and name in SUBPROCESS_CALLS and isinstance(first, ast.List):
                tool = literal(first.elts[0]) if first.elts else None
                if tool:
                    found.add(Path(tool).name)
            elif owner == "shutil" and name == "which" and first is not None:
                tool = literal(first)
                if tool:
                    found.add(Path(tool).name)
            elif name == "_tool" and isinstance(first, ast.List):
                found.update(t for t in (literal(e) for e in first.elts) if t)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            tool = literal(node.right)
            if tool and "bindir" in ast.unparse(node.left):
                found.add(tool)
    return found


def _strip_heredocs(text: str) -> str:
    """Here-document bodies are data, not commands."""
    out: list[str] = []
    lines = iter(text.splitlines())
    for line in lines:
        out.append(line)
        m = re.search(r"<<-?\s*['\"]?([A-Za-z_]+)['\"]?", line)
        if m and "<<<" not in line:
            end = m.group(1)
            for body in lines:
                if body.strip() == end:
                    break
    return "\n".join(out)


def shell_tools(text: str) -> set[str]:
    """Programs a shell text runs (see the module docstring)."""
    text = _strip_heredocs(text).replace("\\\n", " ")
    functions = set(_FUNCTION.findall(text))
    found: set[str] = set()
    # A stack of contexts: "cmd" (shell code), '"' (double quotes), "$(" (a substitution).
    stack: list[str] = ["cmd"]
    at_start = [True]  # per shell-code level: is the next word a command?
    words: list[list[str]] = [[]]  # the word being read, per level
    state = {"probe": False, "skip": 0}

    def finish() -> None:
        word = words[-1]
        if not word:
            return
        w = "".join(word)
        word.clear()
        if state["skip"]:
            state["skip"] -= 1
            return
        if state["probe"]:
            state["probe"] = False
            if not w.startswith("-"):
                if not w.lstrip("'\"").startswith("$"):  # command -v "$VAR": dynamic
                    found.add(w.strip("'\""))
            else:
                state["probe"] = True
            return
        if not at_start[-1]:
            return
        if _ASSIGNMENT.match(w):
            return
        if w in ("command",):
            state["probe"] = True
            at_start[-1] = False
            return
        if w in ("for", "case", "select"):
            state["skip"] = 1
            at_start[-1] = False
            return
        if w in PREFIXES or w in SHELL_KEYWORDS or w.startswith("-"):
            return  # (options of a prefix such as `sudo -n`)
        if re.fullmatch(r'"\$\{[A-Za-z_]+\[@\]\}"', w):
            return  # an array used as a command prefix: "${sudo[@]}" apt-get ...
        if w.startswith(("$", '"$', "'$", "(")) or '"${' in w:
            at_start[-1] = False
            return
        name = w.strip("'\"")
        # Relative paths are the project's own programs (.venv/bin/rigenera).
        if (name and name not in SHELL_BUILTINS and name not in functions
                and ("/" not in name or name.startswith("/")) and not name.startswith("/dev/")
                and re.match(r"^[A-Za-z0-9_./+-]+$", name)):
            found.add(Path(name).name)
        at_start[-1] = False

    i, n = 0, len(text)
    while i < n:
        c = text[i]
        ctx = stack[-1]
        word = words[-1]
        if ctx == '"':
            if c == "\\":
                word.append(text[i:i + 2])
                i += 2
                continue
            if text.startswith("$(", i) and not text.startswith("$((", i):
                stack.append("$(")
                at_start.append(True)
                words.append([])
                i += 2
                continue
            if c == '"':
                stack.pop()
            word.append(c)
            i += 1
            continue
        # shell code: "cmd" or "$("
        if c == "\\":
            word.append(text[i:i + 2])
            i += 2
            continue
        if c == "'":
            j = text.find("'", i + 1)
            j = n if j < 0 else j
            word.append(text[i:j + 1])
            i = j + 1
            continue
        if c == '"':
            word.append(c)
            stack.append('"')
            i += 1
            continue
        if c == "#" and not word:
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("$((", i):
            depth, j = 0, i + 1
            while j < n:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                if depth == 0:
                    break
                j += 1
            word.append("$")
            i = j + 1
            continue
        if text.startswith("${", i):
            j = text.find("}", i)
            j = n if j < 0 else j
            word.append(text[i:j + 1])
            i = j + 1
            continue
        if text.startswith("$(", i):
            word.append("$")  # the enclosing word holds a substitution
            stack.append("$(")
            at_start.append(True)
            words.append([])
            i += 2
            continue
        if c == ")" and ctx == "$(":
            finish()
            stack.pop()
            at_start.pop()
            words.pop()
            i += 1
            continue
        if c == "(" and word and word[-1].endswith("="):
            # an array literal: NAME=(a b) or NAME+=(a b)
            j = text.find(")", i)
            j = n if j < 0 else j
            word.append(text[i:j + 1])
            i = j + 1
            continue
        if c in " \t":
            finish()
            i += 1
            continue
        if c in "\n;&|(){}":
            finish()
            if c in "\n;&|({":
                at_start[-1] = True
                state["probe"] = False
                state["skip"] = 0
            i += 1
            continue
        if c in "<>":
            finish()
            # a redirection target is not a command
            j = i
            while j < n and text[j] in "<>&0123456789":
                j += 1
            while j < n and text[j] in " \t":
                j += 1
            k = j
            while k < n and text[k] not in " \t\n;|&)":
                k += 1
            i = k
            continue
        word.append(c)
        i += 1
    finish()
    return found


def makefile_tools(text: str) -> set[str]:
    """Programs the recipes of a Makefile run (make's $(VAR) and $$ are undone first)."""
    recipes = []
    for line in text.replace("\\\n", " ").splitlines():
        if line.startswith("\t"):
            body = line.lstrip("\t").lstrip("@-+")
            body = re.sub(r"\$\(([A-Za-z_]+)\)", r"$\1", body)
            body = re.sub(r"\$\([a-z]+ [^()]*\)", "$FN", body).replace("$$", "$")
            recipes.append(body)
    return shell_tools("\n".join(recipes))


def scan(root: Path) -> dict[str, set[str]]:
    """tool -> the files that call it, over the project's code."""
    calls: dict[str, set[str]] = {}

    def add(tools: set[str], path: Path) -> None:
        for tool in tools:
            calls.setdefault(tool, set()).add(str(path.relative_to(root)))

    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("dist", "node_modules")]
        for name in files:
            if name.endswith(".py"):
                add(python_tools(Path(folder) / name), Path(folder) / name)
    for path in [*sorted((root / "scripts").glob("*.sh")), root / ".ci" / "run"]:
        add(shell_tools(path.read_text(encoding="utf-8")), path)
    add(makefile_tools((root / "Makefile").read_text(encoding="utf-8")), root / "Makefile")
    return calls
