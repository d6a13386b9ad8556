"""Shell completion scripts (bash, zsh, fish), generated from the argparse parser itself.

Commands, subcommands, options and option choices come from the parser, so completion cannot
drift from the command line. Paths complete as files.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

PROG = "b2b-reconcile"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return sorted(
        o
        for action in parser._actions
        if action.help != argparse.SUPPRESS
        for o in action.option_strings
    )


def _walk(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for name, child in _subparsers(parser).items():
        yield from _walk(child, (*path, name))


def _choices(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    return {
        o: [str(c) for c in action.choices]
        for action in parser._actions
        if action.choices and action.option_strings
        for o in action.option_strings
    }


def bash(parser: argparse.ArgumentParser) -> str:
    """A bash completion script (``eval "$(b2b-reconcile completion bash)"``)."""
    cases = []
    for path, sub in _walk(parser):
        words = " ".join(_options(sub) + list(_subparsers(sub)))
        positional = [
            a for a in sub._actions if not a.option_strings and a.choices and not _subparsers(sub)
        ]
        words += "".join(" " + " ".join(map(str, a.choices or ())) for a in positional)
        cases.append(f'    "{" ".join(path)}") words="{words}" ;;')
    value_cases = []
    for _path, sub in _walk(parser):
        for option, values in _choices(sub).items():
            value_cases.append(
                f'    {option}) COMPREPLY=($(compgen -W "{" ".join(values)}" -- "$cur")); return ;;'
            )
    value_cases = sorted(set(value_cases))
    names = " ".join(sorted({n for path, _ in _walk(parser) for n in path}))
    return f"""# bash completion for {PROG}
_b2b_reconcile() {{
  local cur prev path="" w words
  cur="${{COMP_WORDS[COMP_CWORD]}}"
  prev="${{COMP_WORDS[COMP_CWORD-1]}}"
  case "$prev" in
{chr(10).join(value_cases)}
  esac
  for w in "${{COMP_WORDS[@]:1:COMP_CWORD-1}}"; do
    case " {names} " in *" $w "*) path="${{path:+$path }}$w" ;; esac
  done
  case "$path" in
{chr(10).join(cases)}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur") $(compgen -f -- "$cur"))
}}
complete -o filenames -F _b2b_reconcile {PROG}
"""


def zsh(parser: argparse.ArgumentParser) -> str:
    """A zsh script (``eval "$(b2b-reconcile completion zsh)"``; uses bashcompinit)."""
    return (
        f"# zsh completion for {PROG}\n"
        "autoload -U +X compinit && compinit\n"
        "autoload -U +X bashcompinit && bashcompinit\n" + bash(parser)
    )


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish(parser: argparse.ArgumentParser) -> str:
    """A fish script (``b2b-reconcile completion fish | source``)."""
    lines = [f"# fish completion for {PROG}", f"complete -c {PROG} -f"]
    top = _subparsers(parser)
    no_command = "not __fish_seen_subcommand_from " + " ".join(top)
    for name, sub in top.items():
        about = _fish_quote(sub.description or name)
        lines.append(f"complete -c {PROG} -n '{no_command}' -a {name} -d {about}")
        for child in _subparsers(sub):
            lines.append(f"complete -c {PROG} -n '__fish_seen_subcommand_from {name}' -a {child}")
        for _path, each in _walk(sub):
            for action in each._actions:
                if action.help == argparse.SUPPRESS:
                    continue
                if not action.option_strings:
                    if action.choices and not isinstance(action, argparse._SubParsersAction):
                        values = " ".join(map(str, action.choices))
                        lines.append(
                            f"complete -c {PROG} -n '__fish_seen_subcommand_from {name}' "
                            f"-a {_fish_quote(values)}"
                        )
                    continue
                spec = " ".join(
                    f"-l {o[2:]}" if o.startswith("--") else f"-s {o[1:]}"
                    for o in action.option_strings
                )
                extra = ""
                if action.choices:
                    extra = " -x -a " + _fish_quote(" ".join(map(str, action.choices)))
                elif action.nargs != 0 and action.metavar is not None:
                    extra = " -r -F"
                helptext = _fish_quote((action.help or "").replace("%%", "%"))
                lines.append(
                    f"complete -c {PROG} -n '__fish_seen_subcommand_from {name}' "
                    f"{spec}{extra} -d {helptext}"
                )
    return "\n".join(dict.fromkeys(lines)) + "\n"


SHELLS = {"bash": bash, "zsh": zsh, "fish": fish}


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script for ``shell``."""
    return SHELLS[shell](parser)
