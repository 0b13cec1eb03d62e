"""Command line: `labeltrain [PATH]` opens the GUI; sub-commands run the same core functions headless.

Exit codes: 0 success, 1 failure (one-line reason on stderr), 2 usage error.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from labeltrain import __version__

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """A failure to report as one line on stderr with exit code 1."""


def _cmd_convert(args: argparse.Namespace) -> int:
    from labeltrain.core.convert import convert

    report = convert(args.src, args.dst, args.to, source_format=args.source_format,
                     classes_file=args.classes, images_dir=args.images, copy_images=args.copy_images)
    for problem in report.problems:
        print(problem, file=sys.stderr)
    src = report.source
    print(f"converted {report.images} images, {report.boxes} boxes from {src.label_format} ({src.layout}) "
          f"to {args.to}: {len(report.written)} files under {args.dst}")
    return EXIT_OK


def _cmd_split(args: argparse.Namespace) -> int:
    from labeltrain.core.dataset import discover
    from labeltrain.core.split import make_split, write_split

    if not 0 <= args.val < 1 or not 0 <= args.test < 1 or args.val + args.test >= 1:
        raise CliError("--val and --test must be fractions in [0, 1) whose sum is below 1")
    dataset = discover(Path(args.path))
    if not dataset.items:
        raise CliError(f"no images found in {args.path}")
    splits = make_split(dataset, val=args.val, test=args.test, seed=args.seed)
    yaml_path = write_split(dataset, splits, Path(args.out) if args.out else None)
    counts = ", ".join(f"{name} {len(files)}" for name, files in splits.items())
    print(f"split {len(dataset.items)} images ({counts}); wrote {yaml_path}")
    return EXIT_OK


def _add_convert(sub: argparse._SubParsersAction) -> None:
    from labeltrain.core import formats

    p = sub.add_parser("convert", help="convert labels between formats",
                       description="Convert a dataset (folder, data.yaml or COCO JSON) to another label format.")
    p.add_argument("src", help="source: a folder, a data.yaml or a COCO/CreateML JSON file")
    p.add_argument("dst", help="output folder")
    p.add_argument("--to", required=True, choices=formats.names(), help="target format")
    p.add_argument("--from", dest="source_format", choices=formats.names(), default=None,
                   help="source format (default: detected)")
    p.add_argument("--classes", type=Path, default=None, help="classes.txt to use for class names")
    p.add_argument("--images", type=Path, default=None, help="image folder for a COCO/CreateML JSON source")
    p.add_argument("--copy-images", action="store_true", help="copy images into DST/images (trainable layout)")
    p.set_defaults(func=_cmd_convert)


def _add_split(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("split", help="write a seeded, stratified train/val(/test) split and data.yaml",
                       description="Write train/val(/test) image lists and data.yaml without moving files.")
    p.add_argument("path", help="dataset folder")
    p.add_argument("--val", type=float, default=0.2, help="validation fraction (default 0.2)")
    p.add_argument("--test", type=float, default=0.0, help="test fraction (default 0)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", default=None, help="folder for the lists and data.yaml (default: the dataset root)")
    p.set_defaults(func=_cmd_split)


def _cmd_check(args: argparse.Namespace) -> int:
    from labeltrain.core.check import CheckOptions, run_check
    from labeltrain.core.check.fixes import FIXES, StalePlanError, apply_fix, fix_for_rule, plan_fix

    fixes: list[str] = []
    for name in args.fix or []:
        fix_id = fix_for_rule(name)
        if fix_id is None:
            print(f"labeltrain check: no safe fix for {name!r}; fixable rules: "
                  f"{', '.join(sorted({r for f in FIXES.values() for r in f.rules}))} "
                  f"(or fix ids: {', '.join(FIXES)})", file=sys.stderr)
            return EXIT_USAGE
        if fix_id not in fixes:
            fixes.append(fix_id)
    mapping: dict[int, int] = {}
    for pair in args.remap or []:
        old, sep, new = pair.partition(":")
        if not sep or not old.strip().isdigit() or not new.strip().isdigit():
            print(f"labeltrain check: --remap wants OLD:NEW class ids, not {pair!r}", file=sys.stderr)
            return EXIT_USAGE
        mapping[int(old)] = int(new)
    if "remap_class" in fixes and not mapping:
        print("labeltrain check: --fix label.class_range needs --remap OLD:NEW", file=sys.stderr)
        return EXIT_USAGE
    path = Path(args.path)
    if not path.exists():
        raise CliError(f"{path}: no such file or folder")
    options = CheckOptions(min_instances=args.min_instances, imgsz=args.imgsz, workers=args.workers,
                           executor=args.executor, disabled=frozenset(args.disable or ()))
    report = run_check(path, options=options)
    out = sys.stderr if args.json else sys.stdout
    for fix_id in fixes:
        plan = plan_fix(fix_id, report, **({"mapping": mapping} if fix_id == "remap_class" else {}))
        print(plan.describe(), file=out)
        if args.dry_run or plan.empty:
            continue
        try:
            result = apply_fix(plan)
        except StalePlanError as exc:
            raise CliError(str(exc)) from exc
        print(f"  wrote {len(result.written)} file(s); originals kept in {result.backup_dir}", file=out)
        report = run_check(path, options=options)  # the next fix and the report see the files as they are now
    print(report.dumps() if args.json else report.format_text(max_per_rule=args.max_per_rule))
    return EXIT_OK if report.ok else EXIT_FAIL


def _add_check(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="check a dataset with the trainer's label rules (exit 1 on errors)",
                       description="Check images and YOLO labels with the trainer's own rules (Ultralytics, "
                                   "Darknet) and labeltrain's; exit code 0 when there are no errors, 1 otherwise.")
    p.add_argument("path", help="dataset folder or data.yaml")
    p.add_argument("--json", action="store_true", help="print one JSON object {summary, findings}")
    p.add_argument("--fix", nargs="+", metavar="RULE", default=None,
                   help="apply the safe fix for these rule ids (or fix ids), keeping backups under "
                        ".labeltrain/backups/, then report again")
    p.add_argument("--remap", nargs="+", metavar="OLD:NEW", default=None,
                   help="class id mapping for --fix label.class_range")
    p.add_argument("--dry-run", action="store_true", help="with --fix: show what would change, write nothing")
    p.add_argument("--min-instances", type=int, default=500,
                   help="report classes with fewer instances (default 500)")
    p.add_argument("--imgsz", type=int, default=640, help="training image size (default 640)")
    p.add_argument("--disable", nargs="+", metavar="RULE", default=None,
                   help="rule ids (or prefixes ending in '.') not to report")
    p.add_argument("--workers", type=int, default=None, help="parallel workers (default: one per core)")
    p.add_argument("--executor", choices=("auto", "process", "thread", "serial"), default="auto",
                   help=argparse.SUPPRESS)
    p.add_argument("--max-per-rule", type=int, default=20,
                   help="findings shown per rule in the text report (default 20; --json has all)")
    p.set_defaults(func=_cmd_check)


def _add_train(sub: argparse._SubParsersAction) -> None:
    from labeltrain.training import console

    console.add_parser(sub).set_defaults(func=console.run_command)


def _add_model_command(name: str) -> Callable[[argparse._SubParsersAction], None]:
    def add(sub: argparse._SubParsersAction) -> None:
        from labeltrain.training import model_cli

        getattr(model_cli, f"add_{name}")(sub)

    return add


def _add_mine(sub: argparse._SubParsersAction) -> None:
    from labeltrain.training import mining_cli

    mining_cli.add_parser(sub).set_defaults(func=mining_cli.run_command)


# The sub-command registry: name -> function adding its parser. New commands add one line here.
SUBCOMMANDS: dict[str, Callable[[argparse._SubParsersAction], None]] = {
    "convert": _add_convert,
    "split": _add_split,
    "check": _add_check,
    "train": _add_train,
    "evaluate": _add_model_command("evaluate"),
    "export": _add_model_command("export"),
    "predict": _add_model_command("predict"),
    "mine": _add_mine,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="labeltrain",
        description="Label images, check labels, train and export YOLO detectors. "
                    "Without a sub-command, opens the GUI on PATH.")
    parser.add_argument("--version", action="version", version=f"labeltrain {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in SUBCOMMANDS.values():
        add(sub)
    return parser


def _gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labeltrain", description="Open the labeltrain GUI.",
                                     epilog=f"Sub-commands: {', '.join(SUBCOMMANDS)} (labeltrain COMMAND -h).")
    parser.add_argument("--version", action="version", version=f"labeltrain {__version__}")
    parser.add_argument("path", nargs="?", help="image folder, data.yaml, COCO JSON or image to open")
    parser.add_argument("--sample", action="store_true",
                        help="open a copy of the bundled sample project (made on first use)")
    return parser


def gui_main(argv: Sequence[str] | None = None) -> int:
    """Open the GUI (also the entry point of the `labeltrain-gui` launcher)."""
    multiprocessing.freeze_support()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _gui_parser().parse_args(argv)
    path = args.path
    if args.sample:
        from labeltrain.core.sample import ensure_sample_project

        path = str(ensure_sample_project())
    from labeltrain.ui.app import run_gui

    return run_gui(path, [sys.argv[0], *argv])


def main(argv: Sequence[str] | None = None) -> int:
    multiprocessing.freeze_support()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--training-worker"]:  # a frozen app starting its training child process
        from labeltrain.training.worker import main_exit

        main_exit(argv[1:])
    if not argv or (argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help")):
        return gui_main(argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("labeltrain: interrupted", file=sys.stderr)
        return EXIT_FAIL
    except CliError as exc:
        print(f"labeltrain {args.command}: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except (OSError, ValueError, KeyError) as exc:
        print(f"labeltrain {args.command}: {exc}", file=sys.stderr)
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
