"""python -m exercises list | check NAME | check --all | hint NAME [N] | reset NAME

--from DIR checks (or resets) the files in DIR instead of exercises/ (the tests point it at
the reference solutions); $TINYGRAD_EXERCISES_DIR does the same. $EXERCISES_MAX_EXAMPLES (or
check --max-examples) sets how many inputs hypothesis tries per property.
"""

import argparse
import datetime
import shutil
import sys

from . import catalog, checker


def _list(args):
    rows = []
    for exercise in catalog.available():
        report = checker.check_file(exercise, checker.solutions_dir(args.source)
                                    / exercise.filename)
        progress = "" if report.status != "failing" else \
            f" ({report.passed} of {len(report.results)} checks pass)"
        rows.append((f"{exercise.number:>2}", exercise.name, exercise.topic,
                     report.status + progress))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    print(f"{'#':>2}  {'name':<{widths[1]}}  {'topic':<{widths[2]}}  status")
    for row in rows:
        print(f"{row[0]}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}")
    return 0


def _check(args):
    if args.all == (args.name is not None):
        print("check: give one exercise NAME or --all", file=sys.stderr)
        return 2
    exercises = catalog.available() if args.all else [catalog.find(args.name)]
    statuses = []
    for exercise in exercises:
        report = checker.check_file(exercise, checker.solutions_dir(args.source)
                                    / exercise.filename, args.max_examples)
        print(report.format(), end="\n\n" if args.all else "\n")
        statuses.append(report.status)
    if args.all:
        print(f"{statuses.count('passed')} of {len(statuses)} exercises pass")
    return 0 if all(s == "passed" for s in statuses) else 1


def _hint(args):
    exercise = catalog.find(args.name)
    hints = exercise.hints()
    number = args.number or 1
    if not 1 <= number <= len(hints):
        print(f"hint: exercise {exercise.name} has hints 1 to {len(hints)}", file=sys.stderr)
        return 2
    title, text = hints[number - 1]
    print(f"{exercise.name}, hint {number} of {len(hints)}: {title}\n\n{text}")
    if number < len(hints):
        print(f"\n(next: python -m exercises hint {exercise.name} {number + 1})")
    return 0


def _reset(args):
    exercise = catalog.find(args.name)
    target = checker.solutions_dir(args.source) / exercise.filename
    if target.exists():
        if target.read_bytes() == exercise.stub_path.read_bytes():
            print(f"{target} is already the stub as shipped; nothing to do")
            return 0
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        backup = target.with_name(f"{target.name}.bak-{stamp}")
        target.rename(backup)
        print(f"your file is kept as {backup}")
    shutil.copyfile(exercise.stub_path, target)
    print(f"{target} is the stub again")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m exercises",
                                     description="Gradient-checking exercises.")
    parser.add_argument("--from", dest="source", metavar="DIR",
                        help="the folder with the exercise files (default: exercises/)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="every exercise with its status")
    check = commands.add_parser("check", help="run an exercise's checks")
    check.add_argument("name", nargs="?")
    check.add_argument("--all", action="store_true", help="check every exercise")
    check.add_argument("--max-examples", type=int, default=None,
                       help=f"hypothesis examples per property (default "
                            f"{checker.DEFAULT_MAX_EXAMPLES})")
    hint = commands.add_parser("hint", help="show a hint")
    hint.add_argument("name")
    hint.add_argument("number", nargs="?", type=int)
    reset = commands.add_parser("reset", help="restore the stub (your file is kept as .bak-*)")
    reset.add_argument("name")
    args = parser.parse_args(argv)
    try:
        return {"list": _list, "check": _check, "hint": _hint, "reset": _reset}[args.command](args)
    except KeyError as err:
        print(err.args[0], file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
