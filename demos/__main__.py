"""The demo tour: run every demo in --quick mode, one progress line each, then a table of results.

    python -m demos                          all demos, --quick
    python -m demos --list                   just the names
    python -m demos NAME ...                 only these (add --full for the full-size runs)
    python -m demos --full --write-results   every demo at full size; record what each
                                             measured in demos/RESULTS.json and regenerate
                                             demos/RESULTS.md, demos/GALLERY.md and the
                                             README's demo table from it (demos/results.py)
    python -m demos NAME --full --write-results   rerun one demo and merge its entry

Each demo's ``main()`` returns a dict of what it measured: that dict is the tour's table and
what --write-results records. On a terminal a progress line shows the current demo, its epoch
and the ETA (from the run times of the last recorded full run).
"""

import argparse
import contextlib
import importlib
import io
import sys
import textwrap
import time

from demos import DEMOS, _plotting, _progress
from demos import results as results_file


def _format(results):
    parts = []
    for key, value in results.items():
        if isinstance(value, float):
            parts.append(f"{key}={value:.4g}")
        elif isinstance(value, (int, str, bool)):
            parts.append(f"{key}={value}")
    return ", ".join(parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run the tinygrad_course demos.")
    parser.add_argument("names", nargs="*", help="demos to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the demos and stop")
    parser.add_argument("--full", action="store_true", help="full mode instead of --quick")
    parser.add_argument("--verbose", action="store_true", help="show each demo's own output")
    parser.add_argument("--write-results", action="store_true",
                        help="with --full: record each demo's results in demos/RESULTS.json "
                             "and regenerate RESULTS.md, GALLERY.md and the README table")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(DEMOS))
        return 0
    if args.write_results and not args.full:
        parser.error("--write-results records full-size runs only: add --full")
    names = args.names or DEMOS
    unknown = [n for n in names if n not in DEMOS]
    if unknown:
        parser.error(f"unknown demo(s) {unknown}; choose from {DEMOS}")
    recorded = {name: entry["seconds"] for name, entry in results_file.load()["demos"].items()}
    rows, failed = [], 0
    for i, name in enumerate(names, 1):
        lead = f"[{i}/{len(names)}] {name} ... "
        print(lead, end="", flush=True)
        start, cpu_start = time.perf_counter(), time.process_time()
        output = io.StringIO()
        after = sum(recorded.get(n, 0.0) for n in names[i:]) if args.full else None
        del _plotting.SAVED[:]
        try:
            module = importlib.import_module(f"demos.{name}")
            with _progress.Progress(f"[{i}/{len(names)}]", name,
                                    recorded.get(name) if args.full else None, after,
                                    restore=lead), \
                    contextlib.redirect_stdout(sys.stdout if args.verbose else output):
                results = module.main([] if args.full else ["--quick"])
            status = "ok"
        except Exception as err:  # report and go on with the next demo
            results, status = {"error": f"{type(err).__name__}: {err}"}, "FAILED"
            failed += 1
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        print(f"{status} ({seconds:.1f} s)")
        rows.append((name, status, seconds, _format(results or {})))
        if args.write_results and status == "ok":
            results_file.record(name, results, seconds, list(_plotting.SAVED),
                                cpu_seconds=cpu_seconds)
            results_file.write_pages()
    width = max(len(r[0]) for r in rows)
    print("\nMeasured results" + ("" if args.full else " (--quick mode)") + ":")
    for name, status, seconds, summary in rows:
        lead = f"  {name:<{width}}  {status:<6} {seconds:6.1f} s  "
        lines = textwrap.wrap(summary, width=max(40, 100 - len(lead))) or [""]
        print(lead + lines[0])
        for line in lines[1:]:  # long results continue under the first line
            print(" " * len(lead) + line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
