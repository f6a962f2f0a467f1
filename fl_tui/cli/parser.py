"""The `fl-tui` argument parser, every command's options, built without importing the commands' implementations:
`fl-tui --help`, `fl-tui COMMAND --help` and `--version` end here, so they must not pay for numpy, httpx, pydantic
or the runtime. A handler is named by module and function and imported when its command runs (tests/cli/test_layers.py
checks what building the parser imports)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from dataclasses import dataclass

from fl_tui import __version__
from fl_tui.bench.reuse import Reuse
from fl_tui.cli.output import add_format_option
from fl_tui.core.defaults import DEFAULT_SERVICE, JUDGE_MAX_TOKENS
from fl_tui.core.errors import UserError
from fl_tui.models.filter import FIELDS

SHELLS = ("bash", "zsh")


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors kept short and said by the command they belong to: its one-line usage and the
    error, never the top level's usage for a mistake after a command name, and a close name for an unknown
    command. Every command's parser is one of these (add_subparsers makes its parsers of the parent's class)."""

    def parse_args(self, args=None, namespace=None):
        """An unknown option after a command is that command's error (argparse would give it to the top level)."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            argv = list(sys.argv[1:] if args is None else args)
            commands = {name for a in self._actions if isinstance(a, argparse._SubParsersAction) for name in a.choices}
            command_at = next((i for i, arg in enumerate(argv) if arg in commands), len(argv))
            before = extras[0] in argv[:command_at]  # `fl-tui --bogus models list`: the top level's mistake
            owner = self if before else getattr(parsed, "command_parser", self)
            owner.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed

    def error(self, message: str):
        self.exit(2, f"{self.usage_line()}\n{self.prog}: error: {message}\n")

    def usage_line(self) -> str:
        """`usage: fl-tui report [options] run`: the positionals only, on one line; the options would fill a screen."""
        formatter = self._get_formatter()
        formatter.add_usage(None, [a for a in self._actions if not a.option_strings], [], prefix="")
        positionals = " ".join(formatter.format_help().split()).removeprefix(self.prog).strip()
        return " ".join(["usage:", self.prog, "[options]", *filter(None, [positionals])]) + \
            f"  (`{self.prog} --help` lists them)"

    def _check_value(self, action: argparse.Action, value: object) -> None:
        """An unknown command (or action) names the closest known one."""
        if isinstance(action, argparse._SubParsersAction) and value not in action.choices:
            import difflib

            close = difflib.get_close_matches(str(value), list(action.choices), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"choose from {', '.join(action.choices)}"
            raise argparse.ArgumentError(None, f"unknown {str(action.metavar).lower()} {value!r}; {hint}")
        super()._check_value(action, value)


@dataclass(frozen=True)
class Lazy:
    """A command's handler, imported from fl_tui.cli.<module> when the command runs."""

    module: str
    function: str

    def __call__(self, args: argparse.Namespace) -> int:
        return getattr(importlib.import_module(f"fl_tui.cli.{self.module}"), self.function)(args)


def _add_global_options(parser: argparse.ArgumentParser, *, on_command: bool) -> None:
    """The options every command takes, before or after its name (as vLLM's and guidellm's do). On a command
    their default is SUPPRESS: given there, they set the value; not given, the top level's value stands."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if on_command else value

    parser.add_argument("--debug", action="store_true", default=default(False),
                        help="show tracebacks, the runtime's own log output and where the time went")
    # Given before and after the command name they gather in two lists (argparse gives a command's parser a
    # namespace of its own, which would drop the first): gather_endpoints joins them
    parser.add_argument("--endpoint", action="append", dest="endpoint_after" if on_command else "endpoint",
                        default=default(None), metavar="ENDPOINT",
                        help="a Foundry Local or OpenAI-compatible URL (default: auto, see docs/models.md); `bench` "
                             "takes several (repeated or comma-separated) and runs the matrix against each in turn")
    parser.add_argument("--config", default=default(None),
                        help="settings file (default: the user config dir's config.toml)")


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every command's parser, nested ones too. argparse has no public way to walk them; shtab reads the same."""
    found: list[argparse.ArgumentParser] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):  # aliases map to the same parser
                found += [child, *_subparsers(child)]
    return found


def _status(sub) -> None:
    p = sub.add_parser("status", help="show the endpoint, backend, cache and loaded models (exit 2: unreachable)")
    add_format_option(p)
    p.set_defaults(handler=Lazy("status_cmd", "run"))


def _models(sub) -> None:
    p = sub.add_parser("models", help="list and manage models")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    ls = msub.add_parser("list", help="catalog, cached, local and loaded models")
    which = ls.add_mutually_exclusive_group()
    which.add_argument("--cached", action="store_true", help="only models in the cache")
    which.add_argument("--loaded", action="store_true", help="only loaded models")
    ls.add_argument("--filter", metavar="KEY=VALUE,…",
                    help=f"only models matching every pair (keys: {', '.join(FIELDS)}), e.g. device=CPU,task=chat")
    add_format_option(ls)
    ls.add_argument("--models-file", help="models.json whose capabilities to show (default: the shipped one)")
    ls.set_defaults(handler=Lazy("models_cmd", "run_list"))
    for name, helptext, handler in (
        ("download", "download a model into the cache (Ctrl-C cancels)", "run_download"),
        ("load", "load a model into memory", "run_load"),
        ("unload", "unload a model", "run_unload"),
        ("remove", "delete a model from the cache, or unregister a local folder", "run_remove"),
    ):
        cmd = msub.add_parser(name, help=helptext)
        cmd.add_argument("name", help="alias or full variant id")
        if name == "load":
            cmd.add_argument("--ttl", type=int, help="seconds before the service unloads it (where supported)")
        if name == "remove":
            cmd.add_argument("--yes", "-y", action="store_true", help="do not ask")
        cmd.set_defaults(handler=Lazy("models_cmd", handler))
    reg = msub.add_parser("register", help="register a local ONNX Runtime GenAI model folder")
    reg.add_argument("folder")
    reg.add_argument("--id", dest="model_id", help="<name>:<version> (default: <folder name>:1)")
    reg.add_argument("--alias", help="default: the folder name")
    reg.set_defaults(handler=Lazy("models_cmd", "run_register"))
    unload_all = msub.add_parser("unload-all", help="unload every loaded model")
    unload_all.set_defaults(handler=Lazy("models_cmd", "run_unload_all"))


def _bench(sub) -> None:
    p = sub.add_parser(
        "bench", help="stream prompts through models and measure them (exit 1 if a model failed)",
        description="Environment: BENCH_MODELS, BENCH_ROUNDS, BENCH_PROMPT (one prompt instead of a set), "
        "FOUNDRY_LOCAL_ENDPOINT. Requests always stream: TTFT and latency come from the same stream.",
    )
    p.add_argument("--models", help="comma-separated aliases or variant ids (default: models.json's cached ones)")
    p.add_argument("--models-file", help="models.json (default: ./models.json, the config dir's, or the shipped one)")
    p.add_argument("--prompts", default="default", help="a prompt set name in prompts/ or a JSON file")
    p.add_argument("--rounds", type=int, help="measured rounds per prompt (default 3, or the config's)")
    p.add_argument("--warmup", type=int, help="warm-up requests per model, not measured (default 1)")
    p.add_argument("--temperature", type=float, default=0.0)
    p.add_argument("--seed", type=int)
    p.add_argument("--max-tokens", type=int, help="default 128, or the config's; a prompt may set its own")
    p.add_argument("--concurrency", help="requests in flight, or levels to sweep: 1,2,4,8 runs the matrix once per "
                                         "level (default 1; Foundry Local serves one at a time)")
    p.add_argument("--rate", help="pace request starts: R requests/s evenly, or poisson:R (seeded by --seed)")
    p.add_argument("--duration", type=float, help="with --rate: seconds of paced requests per level, instead of rounds")
    p.add_argument("--slo", help="goodput bounds, any of ttft_ms=500,tpot_ms=50,e2e_ms=8000")
    p.add_argument("--prompt-tokens", help="prompt lengths to sweep, e.g. 128,1024,4096: each prompt gets a context "
                                           "of about that many tokens in front (prefill vs decode)")
    p.add_argument("--timeout", type=float, help="seconds per request; a stalled stream is cut (default 120)")
    p.add_argument("--keep-alive", action="store_true",
                   help="reuse connections (default: a new one per request; see docs/metrics.md)")
    p.add_argument("--watts", type=float, help="power draw for the energy estimate (Wh per 1k tokens)")
    p.add_argument("--out", help="run directory (default: the user data dir's runs/<run id>); one that already "
                                 "holds a run needs --resume or --overwrite")
    reuse = p.add_mutually_exclusive_group()
    reuse.add_argument("--resume", dest="reuse", action="store_const", const=Reuse.RESUME, default=Reuse.REFUSE,
                       help="continue the run in --out: models that finished are kept, the others run again "
                            "(same run id; same settings and prompts required)")
    reuse.add_argument("--overwrite", dest="reuse", action="store_const", const=Reuse.OVERWRITE,
                       help="replace the run in --out (its run.json, requests.jsonl and reports)")
    p.add_argument("--events", action="store_true",
                   help="write the engine's events to stdout as JSON lines, for a program watching the run "
                        "(the app runs benchmarks this way, in a process of their own)")
    add_format_option(p, what="text: report.md and the run folder after the run; json, csv, md: the run's report "
                              "alone, in that format (as `fl-tui report` prints it); the progress stays on stderr")
    p.set_defaults(handler=Lazy("bench_cmd", "run"))


def _report(sub) -> None:
    p = sub.add_parser("report", help="regenerate a run's report.md and report.csv, and print one format",
                       description="Several runs, or a fleet folder (`fl-tui fleet run`, docs/fleet.md: one run "
                                   "folder per host): one fleet report, percentiles pooled over every host's requests; "
                                   "a fleet folder gets its fleet-report.md, .csv and .json.")
    p.add_argument("run", nargs="+", help="a run directory (or its run.json); several, or a fleet folder: the fleet "
                                          "report")
    p.add_argument("--format", choices=("md", "csv", "json"), default="md", help="what to print (default md)")
    p.add_argument("--annotations", nargs="+", metavar="FILE",
                   help="annotation files whose scores fill a Quality column (default: every person's annotation "
                   "file in the run folder; a judge model's files only when named here)")
    p.add_argument("--prompts", metavar="NAME_OR_FILE",
                   help="check the stored answers with this prompt set's checks, matched by prompt id (default: the "
                   "run's own prompts)")
    p.set_defaults(handler=Lazy("report_cmd", "run_report"))
    r = sub.add_parser("room", help="a workshop room's results: who scored how much, agreement, quality beside "
                                    "speed, the pairwise ranking (see README, Workshop)")
    r.add_argument("run", help="a run directory (or its run.json)")
    r.add_argument("--watch", action="store_true", help="print again whenever someone scores, until Ctrl-C")
    r.add_argument("--every", type=float, default=1.0, metavar="S", help="with --watch: look every S seconds "
                   "(default 1)")
    r.set_defaults(handler=Lazy("room_cmd", "run"))
    c = sub.add_parser("compare", help="per-model deltas of two runs with bootstrap 95%% CIs (exit 1: regression)",
                       description="With one run that ran against several endpoints, compares its first endpoint "
                                   "with each of the others; with one fleet folder, its first host with each of the "
                                   "others. A fleet folder beside a run or another fleet is all its hosts' requests.")
    c.add_argument("base", help="the run (or fleet folder) to compare against")
    c.add_argument("new", nargs="?", help="the newer run or fleet folder (left out: the endpoints of BASE, a run "
                                          "against several, or the hosts of a fleet)")
    c.add_argument("--threshold", type=float, default=0.10,
                   help="relative change that counts as a regression when the whole CI is beyond it (default 0.10)")
    add_format_option(c)
    c.set_defaults(handler=Lazy("report_cmd", "run_compare"))


def _annotate(sub) -> None:
    a = sub.add_parser("annotate", help="export a run's annotations (scoring itself is the app's Annotate tab)")
    actions = a.add_subparsers(dest="annotate_action", metavar="ACTION")
    e = actions.add_parser("export", help="the items of a run's annotation files (one row each), as JSONL or CSV")
    e.add_argument("run", help="a run directory (or its run.json)")
    e.add_argument("--format", choices=("jsonl", "csv"), default="jsonl", help="output format (default jsonl)")
    e.add_argument("--rater", help="one rater's file only (a person's name, or model:<id> for a judge)")
    e.add_argument("--out", help="write to this file (atomically) instead of standard output")
    e.add_argument("--pairwise", action="store_true",
                   help="the pairwise files' verdicts instead (pairwise.*.json, one row per pair with a verdict)")
    e.set_defaults(handler=Lazy("annotate_cmd", "run_export"))
    a.set_defaults(handler=Lazy("annotate_cmd", "no_action"))

    j = sub.add_parser("judge", help="score a run's answers with a model and the same rubric (exit 1: some unscored)")
    j.add_argument("run", help="a run directory (or its run.json)")
    j.add_argument("--model", required=True, help="the judge: an alias or a variant id")
    j.add_argument("--limit", type=int, help="judge at most this many of the unscored items")
    j.add_argument("--max-tokens", type=int, default=JUDGE_MAX_TOKENS,
                   help=f"longest reply per attempt (default {JUDGE_MAX_TOKENS})")
    j.add_argument("--timeout", type=float, default=120.0, help="seconds per request (default 120)")
    j.add_argument("--overall-only", action="store_true", help="ask for the overall score only (a new file)")
    j.add_argument("--one-round", action="store_true", help="one round per model and prompt (a new file)")
    j.set_defaults(handler=Lazy("annotate_cmd", "run_judge"))


def _fleet(sub) -> None:
    f = sub.add_parser("fleet", help="benchmark many boxes at once through Ansible, merged into one report "
                                     "(docs/fleet.md)")
    actions = f.add_subparsers(dest="fleet_action", metavar="ACTION", required=True)
    r = actions.add_parser(
        "run", help="run the shipped playbook: each host benchmarks itself, the runs come home, one fleet report "
                    "(exit 1: a host failed or was unreachable)",
        description="Needs ansible-core on this machine (pip install 'fl-tui[fleet]'); the hosts need SSH (or WinRM) "
                    "and Python 3.11+. The report is printed and written into --out as fleet-report.*.")
    r.add_argument("inventory", help="an Ansible inventory file: the hosts (fleet/inventory.example.yml)")
    r.add_argument("--models", required=True, help="comma-separated aliases or variant ids, the same on every host")
    r.add_argument("--out", help="a new folder: one run folder per host, fleet.json, the report (default: the user "
                                 "data dir's runs/fleet-<time>, where the app's Open lists it)")
    r.add_argument("--prompts", default="default", help="a shipped prompt set's name, or a JSON file here (copied "
                                                        "to every host)")
    r.add_argument("--rounds", type=int, default=3, help="measured rounds per prompt (default 3)")
    r.add_argument("--bench-args", default="", metavar="ARGS",
                   help="more `fl-tui bench` options for every host, as one string: --bench-args='--max-tokens 64'")
    r.add_argument("--wheel", help="install fl-tui on the hosts from this wheel (default: from their package index)")
    r.add_argument("--forks", type=int, default=50, help="hosts worked on at once (default 50)")
    r.add_argument("--limit", metavar="PATTERN", help="only the inventory's hosts matching this Ansible pattern")
    r.add_argument("--install-timeout", type=float, default=900, metavar="S",
                   help="bound on each host's install, seconds (default 900)")
    r.add_argument("--bench-timeout", type=float, default=1800, metavar="S",
                   help="bound on each host's benchmark, seconds; stopped there when it is up (default 1800)")
    r.set_defaults(handler=Lazy("fleet_cmd", "run"))
    w = actions.add_parser("playbook", help="print where the shipped playbook is, for ansible-playbook")
    w.set_defaults(handler=Lazy("fleet_cmd", "where"))


def _serve(sub) -> None:
    p = sub.add_parser("serve", help="serve the embedded runtime (demo models and the cache) over HTTP")
    p.add_argument(
        "--port", type=int, default=None,
        help=f"port (default: {DEFAULT_SERVICE[1]}, where other fl-tui commands look, if free; 0: any free port)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    p.set_defaults(handler=Lazy("serve_cmd", "run"))


def _web(sub) -> None:
    p = sub.add_parser("web", help="serve the app to browsers, one app per tab, all on one endpoint (see README, "
                                   "Workshop)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default: loopback only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free port)")
    p.add_argument("--token", help="the token participants need (default: a random one, in the printed URL)")
    p.add_argument("--no-token", action="store_true",
                   help="ask no token (loopback --host only: then any local account can open a session as you)")
    p.add_argument("--max-sessions", type=int, default=4,
                   help="browser sessions at once, each an app process (default 4)")
    p.set_defaults(handler=Lazy("web_cmd", "run"))


def _completion(sub) -> None:
    p = sub.add_parser("completion", help="print a shell completion script (see README, Shell completion)")
    p.add_argument("shell", choices=SHELLS)
    p.set_defaults(handler=Lazy("completion_cmd", "run"))


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="fl-tui",
        description="Run, measure and judge local language models on Microsoft Foundry Local.",
        epilog="exit codes: 0 ok, 1 a model failed or a regression, 2 bad input or an unknown model, 130 interrupted "
               "(143 by SIGTERM, 129 by SIGHUP)",
    )
    parser.add_argument("--version", action="version", version=f"fl-tui {__version__}")
    _add_global_options(parser, on_command=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in (_status, _models, _bench, _report, _annotate, _fleet, _serve, _web, _completion):
        add(sub)
    for child in _subparsers(parser):
        _add_global_options(child, on_command=True)
        child.set_defaults(command_parser=child)  # the innermost command's, whose usage an error shows
    parser.set_defaults(parser=parser)  # `completion` describes the parser it was called through
    return parser


MANY_ENDPOINTS = ("bench",)  # the commands that take several --endpoint values


def gather_endpoints(args: argparse.Namespace) -> None:
    """Set `args.endpoints` (every --endpoint value in order, comma-separated ones split) and `args.endpoint` (the
    only one, or None); several are refused, in one line, by a command that talks to one endpoint."""
    given = [*(getattr(args, "endpoint", None) or []), *(getattr(args, "endpoint_after", None) or [])]
    several = os.environ.get("FOUNDRY_LOCAL_ENDPOINT", "")
    if not given and "," in several and getattr(args, "command", None) in MANY_ENDPOINTS:
        given = [several]  # the app hands a benchmark process its endpoints here, not on a command line (ps)
    endpoints = [part.strip() for value in given for part in value.split(",") if part.strip()]
    if given and not endpoints:
        raise UserError("--endpoint: no endpoint named")
    if len(endpoints) > 1 and getattr(args, "command", None) not in MANY_ENDPOINTS:
        raise UserError(f"--endpoint given {len(endpoints)} times: only `fl-tui bench` runs against several")
    args.endpoints = endpoints
    args.endpoint = endpoints[0] if endpoints else None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """build_parser().parse_args, with the endpoints gathered (a UserError for several where one is meant)."""
    args = build_parser().parse_args(argv)
    gather_endpoints(args)
    return args
