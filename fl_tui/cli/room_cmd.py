"""`fl-tui room RUN`: a workshop room's results for its instructor (fl_tui.annotate.room), printed once, or with
`--watch` printed again each time someone scores or judges, until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
import time

from fl_tui.annotate.room import room_stamp, room_text
from fl_tui.bench.runfiles import read_run, run_dir_of
from fl_tui.core.errors import UserError


def run(args: argparse.Namespace) -> int:
    if not args.every > 0:
        raise UserError(f"--every must be a positive number of seconds, got {args.every:g}")
    run_dir = run_dir_of(args.run)
    run_record = read_run(run_dir)
    shown = None
    try:
        while True:
            stamp = room_stamp(run_dir)
            if stamp != shown:
                if shown is not None:
                    print()
                if args.watch:
                    print(f"── {time.strftime('%H:%M:%S')}")
                print(room_text(run_dir, run_record), flush=True)
                shown = stamp
            if not args.watch:
                return 0
            time.sleep(args.every)  # a poll of a few file stats; the files change on each person's key
    except KeyboardInterrupt:  # how a watch ends
        print(file=sys.stderr)
        return 0
