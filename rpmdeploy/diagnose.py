"""The decisive line of a failed tool's output, as one line the user can act on.

Contract: :func:`explain` takes the text a program printed (stdout and stderr, as
``rpmdeploy._run`` logs it), the tool it came from (:data:`TOOLS`; :func:`tool_of` names it
from an argument list) and what the caller knows (the package being built, whether the build
ran in a chroot of the target); it returns one line naming the cause, or None when no rule
knows the output, so the caller keeps its own message.  It is pure: no files, no programs.

The rules are data (:data:`RULES`), tried in order, most specific first: a missing pkg-config
module says more than the compiler error it causes, which says more than rpmbuild's "Bad
exit status".  A rule applies to some tools or to all (the output of a package's build shows
up in pip's, uv's, rpmbuild's and mock's).  Every fix a message suggests is one that works:
``[packages.NAME] external`` in rpmdeploy.toml becomes the sdist's BuildRequires
(rpmdeploy.sysdeps), which a chroot builder installs; the host builder installs none, so on
the host the fix is the system package itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from packaging.utils import InvalidSdistFilename, canonicalize_name, parse_sdist_filename

#: The tools whose output is understood; "" is any other program (only the rules for every
#: tool apply).
TOOLS = ("pip", "uv", "rpmbuild", "mock", "createrepo_c", "dnf", "")
#: One line, not a page: the log has the rest.
MAX_LENGTH = 500


@dataclass(frozen=True)
class Context:
    """What the caller knows about the failed run."""

    tool: str = ""
    package: str | None = None  # what was being built or installed, as the user knows it
    project: str | None = None  # its PyPI name, for [packages.NAME] in rpmdeploy.toml
    chroot: bool = False  # the build ran inside the target (mock): BuildRequires install

    @property
    def who(self) -> str:
        return self.package or self.project or "the package being built"


Format = Callable[[re.Match[str], Context, str], str | None]


@dataclass(frozen=True)
class Rule:
    """``pattern`` found in the output -> ``message`` (a template over the match's named
    groups and ``{who}``/``{project}``, or a function of the match, the context and the
    whole output).  ``every``: each match, joined with "; " (dnf lists every problem)."""

    name: str
    tools: frozenset[str]  # empty: every tool
    pattern: re.Pattern[str]
    message: str | Format
    every: bool = False

    def applies(self, tool: str) -> bool:
        return not self.tools or tool in self.tools


def explain(
    output: str,
    tool: str = "",
    *,
    package: str | None = None,
    project: str | None = None,
    chroot: bool = False,
) -> str | None:
    """One line naming the cause of a failure in ``output``, or None (see the module doc)."""
    found = package_in(output) if package is None and project is None else None
    context = Context(tool, package or found, project or _project_of(package or found), chroot)
    for rule in RULES:
        if not rule.applies(tool):
            continue
        matches = list(rule.pattern.finditer(output))
        if not matches:
            continue
        lines = [
            _format(rule, m, context, output) for m in (matches if rule.every else matches[:1])
        ]
        said = [line for line in dict.fromkeys(lines) if line]
        if said:
            return _one_line("; ".join(said))
    return None


def tool_of(argv: Sequence[str | os.PathLike[str]]) -> str:
    """Which tool an argument list runs (past a bubblewrap confinement and ``python -m``)."""
    args = [os.fspath(a) for a in argv]
    if args and os.path.basename(args[0]) == "bwrap" and "--" in args:
        args = args[args.index("--") + 1 :]
    if not args:
        return ""
    program = os.path.basename(args[0])
    if program.startswith("python") and len(args) > 2 and args[1] == "-m":
        program = args[2]
    if program in ("piptools", "pip-compile", "pip3") or program.startswith("pip"):
        return "pip"
    return program if program in TOOLS else ""


def package_in(output: str) -> str | None:
    """The package pip or uv says it failed to build, if it says so."""
    for pattern in _FAILED_TO_BUILD:
        match = pattern.search(output)
        if match:
            return match.group("package")
    return None


def project_of_sdist(path: str | os.PathLike[str]) -> str | None:
    """The PyPI name in an sdist's file name (``foo_bar-1.0.tar.gz`` -> ``foo-bar``)."""
    try:
        return parse_sdist_filename(os.path.basename(os.fspath(path)))[0]
    except InvalidSdistFilename:
        return None


# --- messages that need more than a template ---------------------------------------------------


def _pkg_config(match: re.Match[str], context: Context, _output: str) -> str:
    module = match.group("module").strip()
    declare = (
        f'[packages.{context.project}] external = ["pkgconfig({module})"] in rpmdeploy.toml'
        if context.project
        else f'[packages.NAME] external = ["pkgconfig({module})"] in rpmdeploy.toml'
    )
    missing = f"no pkg-config module '{module}' (needed by {context.who})"
    if context.chroot:
        return f"{missing} in the chroot: declare it, {declare}, so the build installs it"
    return (
        f"{missing}: install its -devel/-dev package on this machine (Fedora/EL: dnf install "
        f"'pkgconfig({module})'; Debian/Ubuntu: the -dev package with {module}.pc) and declare "
        f"it for builds in the target: {declare}"
    )


def _no_pkg_config(_match: re.Match[str], context: Context, _output: str) -> str:
    declare = f'[packages.{context.project or "NAME"}] external = ["pkg-config"] in rpmdeploy.toml'
    if context.chroot:
        return (
            f"pkg-config is not installed in the chroot (needed by {context.who}): declare it, "
            f'{declare}, with the modules it asks for as "pkgconfig(MODULE)"'
        )
    return (
        f"pkg-config is not installed (needed by {context.who}): install it (Fedora/EL: dnf "
        "install pkgconf-pkg-config; Debian/Ubuntu: apt install pkg-config) and declare it for "
        f"builds in the target: {declare}"
    )


def _conflict(match: re.Match[str], context: Context, _output: str) -> str | None:
    """pip's "The conflict is caused by:" block: what was asked against what was pinned
    (a constraint: rpmdeploy passes the pins as constraints)."""
    lines = [line.strip() for line in match.group("lines").splitlines() if line.strip()]
    pinned = [
        ln.removeprefix("The user requested (constraint) ") for ln in lines if "(constraint)" in ln
    ]
    # What a package depends on says more than a top-level request, which may be a pin.
    asked = [
        f"{what} (of {who})"
        for who, _, what in (ln.partition(" depends on ") for ln in lines)
        if what
    ]
    requested = [ln.removeprefix("The user requested ") for ln in lines]
    asked += [
        r for r in requested if r not in lines and r not in pinned and "(constraint)" not in r
    ]
    if not asked:
        return None
    if not pinned:
        return f"conflicting requirements: {', '.join(asked)}"
    backend = f"backend requirement {asked[0]} of {context.package}" if context.package else None
    return f"{backend or 'requirement ' + asked[0]} conflicts with pinned {', '.join(pinned)}"


def _bad_exit(match: re.Match[str], _context: Context, output: str) -> str:
    """rpmbuild's "Bad exit status from ... (%build)": the step, and the last thing the
    step printed that is not a traced command (``+ ...``)."""
    before = output[: match.start()].splitlines()
    said = [
        ln.strip()
        for ln in before
        if ln.strip() and not ln.startswith("+ ") and ln.strip() not in _REPORT_LINES
    ]
    last = said[-1] if said and not said[-1].startswith("Executing(") else ""
    return f"{match.group('step')} failed{': ' + last if last else ''}"


def failed_step(output: str) -> str | None:
    """The rpmbuild step (``%build``, ``%install``, ...) that failed, if one did."""
    match = _BAD_EXIT.search(output)
    return match.group("step") if match else None


def conflict_message(requirement: str, package: str, pinned: str) -> str:
    """The one wording of a build requirement that the pinned build dependencies do not
    allow (for callers that find it without running pip, such as rpmdeploy.wheels)."""
    return f"backend requirement {requirement} of {package} conflicts with pinned {pinned}"


# --- the rules ---------------------------------------------------------------------------------


def _rule(
    name: str, tools: str, pattern: str, message: str | Format, *, every: bool = False
) -> Rule:
    flags = re.MULTILINE
    return Rule(name, frozenset(tools.split()), re.compile(pattern, flags), message, every)


_PIP = "pip"
# rpmbuild writes "error: Bad exit status ..." to stderr and repeats it under "RPM build
# errors:"; where stdout and stderr are captured together (mock's build.log) the "error: "
# prefix can land on a line of its own, so the line may start with either form.
_BAD_EXIT = re.compile(
    r"^(?:error: |\s+)?Bad exit status from \S+ \((?P<step>%\w+)\)", re.MULTILINE
)
#: Lines of rpmbuild's own error report, never the words of the step that failed.
_REPORT_LINES = ("error:", "RPM build errors:")
_BUILDS = "pip uv rpmbuild mock"

#: Most specific first; see the module doc.
RULES: tuple[Rule, ...] = (
    # A missing pkg-config module, however it is reported: pkgconf, freedesktop pkg-config,
    # or a setup.py's CalledProcessError (list or string form: the module is the last word).
    _rule(
        "pkg-config",
        "",
        r"Package '(?P<module>[^']+)', required by '[^']*', not found",
        _pkg_config,
    ),
    _rule("pkg-config", "", r"No package '(?P<module>[^']+)' found", _pkg_config),
    _rule(
        "pkg-config",
        "",
        r"Package (?P<module>\S+) was not found in the pkg-config search path",
        _pkg_config,
    ),
    _rule(
        "pkg-config",
        "",
        r"Command '\['pkg-config'(?:, '[^']*')*?, '(?P<module>[^'-][^']*)'\]' returned non-zero",
        _pkg_config,
    ),
    _rule(
        "pkg-config",
        "",
        r"Command 'pkg-config (?:--\S+ )*(?P<module>[^' -][^' ]*)' returned non-zero",
        _pkg_config,
    ),
    # pkg-config itself is missing (a chroot has only the BuildRequires).
    _rule(
        "pkg-config",
        "",
        r"No such file or directory: '(?:\S*/)?(?:pkg-config|pkgconf)'|^\S*sh: "
        r"(?:(?:line )?\d+: )?pkg-config: (?:command )?not found",
        _no_pkg_config,
    ),
    # pip: a build requirement against a pinned one; hashes; the network; nothing found.
    _rule(
        "conflict",
        _PIP,
        r"^The conflict is caused by:\n(?P<lines>(?:[ \t]+\S.*\n?)+)",
        _conflict,
    ),
    _rule(
        "hash",
        _PIP,
        r"DO NOT MATCH THE HASHES.*\n\s+(?P<req>\S+) from",
        "{req}: downloaded artifact does not match the pinned --hash",
    ),
    _rule(
        "connection",
        _PIP,
        r"host='(?P<host>[^']+)', port=(?P<port>\d+)\): Failed to establish a new connection: "
        r"\[Errno [^\]]+\] (?P<reason>[^'\")]+)",
        "cannot reach {host}:{port}: {reason}",
    ),
    _rule(
        "connection",
        _PIP,
        r"(?P<reason>Connection refused|Name or service not known|Temporary failure in name "
        r"resolution|Network is unreachable)",
        "cannot reach the index: {reason}",
    ),
    _rule(
        "not-found",
        _PIP,
        r"Could not find a version that satisfies the requirement (?P<req>\S+)"
        r" \(from versions: (?P<versions>[^)]*)\)",
        "no matching distribution found for {req} on the configured indexes "
        "(versions there: {versions})",
    ),
    # Compilers and linkers, in any build's output: the first error is the cause.
    _rule(
        "compiler",
        _BUILDS,
        r"^(?P<where>[^\s:]+\.\w+:\d+(?::\d+)?): (?:fatal )?error: (?P<what>.+)$",
        "{where}: {what}",
    ),
    _rule(
        "linker",
        _BUILDS,
        r"^\S*ld(?:\.\w+)?: cannot find -l(?P<lib>\S+)",
        "the linker cannot find library -l{lib}: its -devel/-dev package is missing",
    ),
    # rpmbuild's own errors.
    _rule(
        "file-not-found",
        "rpmbuild mock",
        r"^error: File not found(?: by glob)?: (?:\S*/BUILDROOT/[^/\s]+)?(?P<path>\S+)",
        "file not found in the build root: {path} (listed in %files, not installed)",
    ),
    _rule(
        "unpackaged",
        "rpmbuild mock",
        r"^error: Installed \(but unpackaged\) file\(s\) found:\n(?P<files>(?:[ \t]+\S.*\n?)+)",
        lambda m, _c, _o: "installed but unpackaged file(s): " + ", ".join(m["files"].split()),
    ),
    # A backend that failed: what it said last before the PEP 517 frontend's own traceback
    # (build's BuildBackendException, in rpmdeploy's wheel tool), else a Python exception.
    _rule(
        "backend",
        _BUILDS,
        r"^(?P<line>(?![+ ]|Traceback ).+)\nTraceback \(most recent call last\):\n"
        r"(?:[ \t].*\n)*build\._exceptions\.BuildBackendException",
        "{line}",
    ),
    _rule(
        "python",
        _BUILDS,
        r"^\s*(?P<line>(?!build\._exceptions\.)(?:\w+\.)*\w*(?:Error|Exception): \S.*)$",
        "{line}",
    ),
    _rule("rpmbuild", "rpmbuild mock", r"^error: (?!Bad exit status)(?P<what>.+)$", "{what}"),
    _rule(
        "rpmbuild",
        "rpmbuild mock",
        _BAD_EXIT.pattern,
        _bad_exit,
    ),
    # createrepo_c.
    _rule(
        "createrepo",
        "createrepo_c",
        r"^Directory (?P<dir>\S+?)/? must exist",
        "directory {dir} does not exist",
    ),
    _rule(
        "createrepo",
        "createrepo_c",
        r"^Temporary repodata directory (?P<dir>\S+?)/? already exists!",
        "{dir} exists: another createrepo_c runs there, or one was killed (remove {dir})",
    ),
    _rule("createrepo", "createrepo_c", r"(?:Critical|Error): (?P<what>.+)$", "{what}"),
    # dnf: every problem it lists, most precise first.
    _rule(
        "dnf",
        "dnf mock",
        r"nothing provides (?P<cap>.+?) needed by (?P<pkg>\S+)",
        "nothing provides {cap} needed by {pkg}",
        every=True,
    ),
    _rule(
        "dnf",
        "dnf mock",
        r"^\s*(?:-\s*)?(?P<what>(?:package \S+ requires .+, but none of the providers can be "
        r"installed|file \S+ (?:from install of|conflicts between attempted installs of) .+))$",
        "{what}",
        every=True,
    ),
    _rule(
        "dnf",
        "dnf mock",
        r"^No match for argument: (?P<what>.+)$",
        "no package {what} in the repositories",
        every=True,
    ),
    _rule(
        "dnf",
        "dnf mock",
        r"No matching package to install: '(?P<what>[^']+)'",
        "no package provides {what}",
        every=True,
    ),
    _rule("dnf", "dnf", r"^Error: (?P<what>\S.+)$", "{what}"),
    # The confinement itself (rpmdeploy.confine) could not start the program.
    _rule("bwrap", "", r"^bwrap: (?P<what>.+)$", "the confinement (bubblewrap) failed: {what}"),
    # pip's last word, when nothing above knew better.
    _rule("pip", _PIP, r"^ERROR: (?P<what>(?!Failed building wheel).+)$", "{what}"),
)

_FAILED_TO_BUILD = (
    re.compile(r"Failed to build '(?P<package>[^']+)'"),  # pip
    re.compile(r"Failed to build `(?P<package>[^`\s=@]+)"),  # uv
    re.compile(r"Getting requirements to build wheel for (?P<package>\S+)"),
)


def _format(rule: Rule, match: re.Match[str], context: Context, output: str) -> str | None:
    if callable(rule.message):
        return rule.message(match, context, output)
    values = {k: " ".join(v.split()) for k, v in match.groupdict().items() if v is not None}
    return rule.message.format(**values, who=context.who, project=context.project or "NAME")


def _project_of(package: str | None) -> str | None:
    """``foo==1.0``, ``foo 1.0`` or ``foo`` -> ``foo``; an RPM label is not a PyPI name."""
    if not package:
        return None
    name = re.split(r"[=\s\[<>!~;@]", package, maxsplit=1)[0]
    return str(canonicalize_name(name)) if name and not name.startswith("python3-") else None


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LENGTH else text[: MAX_LENGTH - 3] + "..."
