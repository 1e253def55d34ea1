"""The `workshop` command (also `python -m helpers`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from helpers.base.errors import explain
from helpers.connect import calllog, session
from helpers.core import settings
from helpers.core.config import WorkshopConfig
from helpers.core.target import MODES, SANDBOX_CREDENTIALS_VARIABLE
from helpers.sandbox.context import SandboxSettings


def _sandbox_up(args: argparse.Namespace) -> int:
    from helpers.sandbox import process

    settings = SandboxSettings(time_scale=args.time_scale, endpoint_port=args.endpoint_port,
                               http_port=args.http_port, dns_port=args.dns_port,
                               fresh=args.fresh)
    info = process.up(settings, stop_with_pid=args.stop_with or 0)
    if info.get("already_running"):
        print("a sandbox is already running (stop it with `workshop sandbox down` first to "
              "change its settings" + (" or start it fresh)" if args.fresh else ")"))
    else:
        import time

        restored = (info.get("state") or {}).get("restored_from")
        saved_at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(restored or 0))
        print(f"sandbox started in {info['start_seconds']:.2f} s" + (
            f", with the state saved at {saved_at}" if restored else ", empty"))
    _print_sandbox(info)
    return 0


def _sandbox_status(args: argparse.Namespace) -> int:
    from helpers.sandbox import process

    info = process.read_status()
    if args.json:
        print(json.dumps(info if info else {"running": False}, indent=2))
        return 0 if info else 1
    if info is None:
        print("no sandbox is running: start one with `workshop sandbox up`")
        return 1
    _print_sandbox(info)
    return 0


def _sandbox_down(args: argparse.Namespace) -> int:
    from helpers.sandbox import process

    print("sandbox stopped" if process.down(forget=args.forget) else "no sandbox was running")
    if args.forget:  # without it, the state stays for the next `up` (as `status` shows)
        print("its saved state is deleted: the next `workshop sandbox up` starts empty")
    return 0


def _print_sandbox(info: dict) -> None:
    dns = info["dns"]
    print(f"  AWS endpoint  {info['endpoint_url']}   (aws --endpoint-url {info['endpoint_url']})")
    print(f"  DNS           {dns['host']}:{dns['port']}   (dig @{dns['host']} -p {dns['port']} "
          "api.example.com)")
    print(f"  HTTP          port {info['http_port']}, proxy {info['http_proxy']}")
    if info.get("ca_cert"):
        print(f"  proxy CA      {info['ca_cert']}   (curl --cacert {info['ca_cert']} ...)")
    print(f"  time scale    {info['time_scale']} (intervals, TTLs, quotas, pending changes x "
          f"{info['time_scale']}; round trips and polling in real time: docs/aws-limits.md)")
    state = (info.get("state") or {}).get("file")
    if state:
        print(f"  state         {state}   (kept across restarts; `workshop sandbox down "
              "--forget` deletes it)")


def _settings(args: argparse.Namespace, describe: bool = True) -> WorkshopConfig:
    """The settings the command acts on (:func:`helpers.core.settings.resolve`), named in its first
    line of output (on stderr with --json, so stdout stays machine-readable) unless the command
    names its own scope (the room's: ``status --all``, ``dashboard``)."""
    config = settings.resolve({"mode": args.mode, "primary_region": args.primary,
                               "secondary_region": args.secondary, "domain": args.domain,
                               "prefix": args.prefix})
    session.use_mode(config.mode)
    calllog.use_participant(config.prefix)
    if describe and not getattr(args, "all", False):
        print(config.describe(), file=sys.stderr if getattr(args, "json", False) else sys.stdout,
              flush=True)
    return config


def _run(args: argparse.Namespace) -> int:
    from helpers.runs import runner

    config = _settings(args)
    report = runner.run(config, Path(args.out), until=args.until, record=args.record,
                        rerun=args.rerun)
    where = ("outputs recorded into notebooks/" if args.record
             else f"executed notebooks and HTML are in {report.out_dir}/ (index.html)")
    skipped = f" (skipped {len(report.skipped)}: already done)" if report.skipped else ""
    print(f"ran {len(report.notebooks)} notebooks in {report.total_seconds:.1f} s{skipped}; "
          f"{where}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from helpers import checklist

    config = _settings(args)
    if args.all:
        print(f"{config.mode} mode · every participant found in {config.primary_region} and "
              f"{config.secondary_region}", file=sys.stderr if args.json else sys.stdout,
              flush=True)
        room = checklist.room(config)
        print(json.dumps(checklist.room_as_dict(room), indent=2) if args.json
              else checklist.room_table(room))
        return 0
    status = checklist.check(config)
    print(json.dumps(status.as_dict(), indent=2) if args.json
          else status.text(heading=False))  # the settings line came first
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    from helpers import checklist
    from helpers.runs import dashboard

    if args.no_shared:
        return dashboard.command(args, read_room=None)
    config = _settings(args, describe=False)
    print(f"{config.mode} mode · the shared account's participants in {config.primary_region} "
          f"and {config.secondary_region}", flush=True)
    return dashboard.command(args, read_room=lambda: checklist.room(config))


def _cleanup(args: argparse.Namespace) -> int:
    from helpers.aws import cleanup

    config = _settings(args)
    report = cleanup.cleanup(config, progress=print)
    for item in report.kept:
        print(f"kept: {item}")
    if args.verify:
        left = cleanup.leftovers(config)
        if left:
            print(f"{len(left)} resource(s) still present:")
            for item in left:
                print(f"  - {item}")
            return 1
        print(f"verified: nothing carrying the prefix {config.prefix!r} is left")
    return 0


def _replication(args: argparse.Namespace) -> int:
    from helpers.aws import replication

    config = _settings(args)
    if args.action == "failed":
        batches = replication.failed_batches(config)
        print(f"{len(batches)} failed batch(es) in the failure queue")
        for info in batches:
            print(f"  {info['shardId']} {info['startSequenceNumber']}..."
                  f"{info['endSequenceNumber']} ({info['batchSize']} records, "
                  f"{info['condition']})")
        return 0
    report = replication.redrive(config)
    print(report)
    return 0 if report.ok else 1


def _drill(args: argparse.Namespace) -> int:
    from helpers import drill

    return drill.command(_settings(args), args)


def _calls(args: argparse.Namespace) -> int:
    config = _settings(args)
    records = calllog.read(config.prefix)
    if args.summary:
        found = calllog.summary(records)
        print(json.dumps(found, indent=2) if args.json else calllog.summary_text(found))
    elif args.json:
        print(json.dumps(records, indent=2))
    else:
        print("\n".join(calllog.line(r) for r in records) or "no AWS calls logged yet")
    return 0


def _rehearse(args: argparse.Namespace) -> int:
    from helpers.runs import rehearse

    config = _settings(args)
    room = rehearse.rehearse(args.participants, args.stagger, args.shared_domain, config,
                             say=lambda line: print(line, file=sys.stderr if args.json
                                                    else sys.stdout, flush=True),
                             until=args.until, as_participants=args.as_participants)
    print(json.dumps(room.as_dict(), indent=2) if args.json else room.text())
    return 0 if room.ok else 1


def _iam_policy(args: argparse.Namespace) -> int:
    from helpers.aws import iam_policy

    config = _settings(args)
    if args.create_user or args.delete_user:
        from helpers.aws import iam_users

        if args.delete_user:
            if not iam_users.delete(config, say=print):
                print(f"no IAM user {iam_users.user_name(config)} nor its policies: nothing "
                      "to delete")
            return 0
        path = iam_users.create(config, say=print)
        print(f"act as {iam_users.user_name(config)}: {SANDBOX_CREDENTIALS_VARIABLE}={path} "
              "workshop run ... (the sandbox holds that user to the policy)")
        return 0
    document = iam_policy.policy(config)
    if args.check_calls:
        missing = iam_policy.uncovered(calllog.read(config.prefix), document)
        print("\n".join(f"not allowed: {call}" for call in missing) or
              f"every call in {config.prefix}'s call log is allowed by the policy")
        return 1 if missing else 0
    out = Path(args.out) if args.out else None
    written = iam_policy.write(document, out) if out else []
    print(json.dumps(document, indent=2) if args.json
          else iam_policy.text(config, document, out, written))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from helpers.runs import bench

    return bench.command(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workshop", description=(
        "Multi-region resilience workshop kit: run the notebooks, manage the offline sandbox."))
    sub = parser.add_subparsers(dest="command", required=True)

    sandbox = sub.add_parser("sandbox", help="the offline AWS sandbox").add_subparsers(
        dest="action", required=True)
    up = sandbox.add_parser("up", help="start the sandbox in the background")
    up.add_argument("--time-scale", type=float, default=SandboxSettings.time_scale,
                    help="1.0 = AWS timings; smaller shrinks health-check intervals and TTLs")
    up.add_argument("--endpoint-port", type=int, default=0, help="AWS API port (0 = any free)")
    up.add_argument("--http-port", type=int, default=0, help="HTTP port (0 = any free)")
    up.add_argument("--dns-port", type=int, default=0, help="DNS port (0 = any free)")
    up.add_argument("--fresh", action="store_true",
                    help="start empty, discarding the saved state (stacks, tables, ...)")
    up.add_argument("--stop-with", type=int, metavar="PID",
                    help="stop (saving the state) when process PID ends: a notebook server's "
                         "start hook passes its own, then execs the server (the `start` script)")
    up.set_defaults(func=_sandbox_up)
    status = sandbox.add_parser("status", help="show the running sandbox's endpoints")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=_sandbox_status)
    down = sandbox.add_parser("down", help="stop the sandbox (its state is kept)")
    down.add_argument("--forget", action="store_true",
                      help="also delete the saved state: the next `up` starts empty")
    down.set_defaults(func=_sandbox_down)

    def config_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--mode", choices=MODES)
        p.add_argument("--primary", help="primary region, e.g. eu-west-1")
        p.add_argument("--secondary", help="secondary region, e.g. ap-southeast-1")
        p.add_argument("--domain", help="your domain, e.g. example.com")
        p.add_argument("--prefix", help="participant prefix (default: the one saved in "
                       "notebook 00, else wildrydes)")

    run = sub.add_parser("run", help="execute the notebooks in order, headless")
    config_options(run)
    run.add_argument("--until", help="stop after this notebook number, e.g. 03.2")
    run.add_argument("--out", default="out", help="folder for executed notebooks and HTML")
    run.add_argument("--record", action="store_true",
                     help="write the outputs back into notebooks/ (maintainers, sandbox mode)")
    run.add_argument("--rerun", action="store_true",
                     help="also run notebooks whose module is already deployed and working")
    run.set_defaults(func=_run)

    status = sub.add_parser("status", help="per-module checklist of what is really deployed "
                            "and working, and the notebook to open next")
    config_options(status)
    status.add_argument("--json", action="store_true", help="machine-readable")
    status.add_argument("--all", action="store_true",
                        help="every participant found in the account or sandbox (the room)")
    status.set_defaults(func=_status)

    dash = sub.add_parser("dashboard", help="the room's live progress page, which learners' "
                          "kits report to (instructors; docs/rooms.md)")
    config_options(dash)  # the shared account's mode and regions, as for `status --all`
    dash.add_argument("--host", default="127.0.0.1",
                      help="address to listen on (default 127.0.0.1, this machine only; "
                           "0.0.0.0 takes reports from learners' own servers)")
    dash.add_argument("--port", type=int, default=8765, help="port (0 = any free one)")
    dash.add_argument("--room-token", help="the token learners' reports must carry (default: "
                                           "a new random one, printed)")
    dash.add_argument("--every", type=float, default=20.0,
                      help="seconds between two reads of the shared account or sandbox")
    dash.add_argument("--no-shared", action="store_true",
                      help="do not read a shared account or sandbox: only learners' reports")
    dash.set_defaults(func=_dashboard)

    clean = sub.add_parser("cleanup", help="delete everything the workshop created")
    config_options(clean)
    clean.add_argument("--verify", action="store_true",
                       help="then list anything left and exit non-zero if something is")
    clean.set_defaults(func=_cleanup)

    repl = sub.add_parser("replication", help="batches the replicator gave up on")
    repl.add_argument("action", choices=("failed", "redrive"),
                      help="failed: list the failure queue; redrive: re-apply those batches "
                           "from the stream (after fixing the cause)")
    config_options(repl)
    repl.set_defaults(func=_replication)

    drill = sub.add_parser("drill", help="failover drill under traffic: measured RTO and RPO")
    config_options(drill)
    drill.add_argument("--scenario", default="bad-deploy",
                       choices=("bad-deploy", "throttle", "region-outage"))
    drill.add_argument("--rate", type=float, default=10.0, help="requests per second")
    drill.add_argument("--replication", choices=("streams", "global-tables"), default="streams",
                       help="how the tables replicate: the kit's replicator (notebook 03.2) "
                            "or a global table (notebook 04.1)")
    drill.add_argument("--json", action="store_true", help="print the measurements as JSON")
    drill.add_argument("--chart", help="also save the timeline as this PNG file")
    drill.add_argument("--restore", action="store_true",
                       help="only undo any fault a drill left in place, then exit")
    drill.set_defaults(func=_drill)

    rehearse = sub.add_parser("rehearse", help="a room of participants through the whole "
                              "workshop at once, in one account (instructors)")
    config_options(rehearse)  # --domain: the room's; each participant gets <prefix>.<domain>
    rehearse.add_argument("--participants", type=int, required=True, help="how many")
    rehearse.add_argument("--stagger", type=float, default=60.0,
                          help="seconds between two participants' starts, AWS seconds "
                               "(scaled by the sandbox clock; default 60)")
    rehearse.add_argument("--shared-domain", action="store_true",
                          help="give everyone one domain: all but the first must be refused")
    rehearse.add_argument("--until", help="only the notebooks up to this number, e.g. 02, "
                                          "then each participant cleans up")
    rehearse.add_argument("--as-participants", action="store_true",
                          help="sandbox only: each participant an IAM user holding exactly "
                               "`workshop iam-policy`'s policy, which the sandbox enforces")
    rehearse.add_argument("--json", action="store_true", help="machine-readable")
    rehearse.set_defaults(func=_rehearse)

    policy = sub.add_parser("iam-policy", help="the IAM policy a participant needs for the "
                            "whole workshop on AWS, and how to attach it (instructors)")
    config_options(policy)  # --prefix: whose; --primary/--secondary: the room's regions
    policy.add_argument("--json", action="store_true", help="print only the policy document")
    policy.add_argument("--out", help="also write the policy to this file (and, when it is too "
                        "long for one managed policy, its parts beside it)")
    policy.add_argument("--check-calls", action="store_true",
                        help="instead, list the calls in the participant's call log (`workshop "
                             "calls`, e.g. after a rehearsal) the policy would not allow")
    policy.add_argument("--create-user", action="store_true",
                        help="sandbox only: create the IAM user workshop-<prefix> holding "
                             "exactly this policy, and write its access key to the workshop "
                             "home (WORKSHOP_SANDBOX_CREDENTIALS=<that file> acts as it)")
    policy.add_argument("--delete-user", action="store_true",
                        help="sandbox only: delete that user, its key and its policies")
    policy.set_defaults(func=_iam_policy)

    bench = sub.add_parser("bench", help="replication lag, replicator throughput, run times")
    bench.add_argument("--json", action="store_true", help="print the results as JSON")
    bench.add_argument("--seconds", type=float, default=10.0,
                       help="how long each replication-lag rate is held")
    bench.add_argument("--skip-workshop-run", action="store_true",
                       help="leave out the full `workshop run` timing")
    bench.set_defaults(func=_bench)

    calls = sub.add_parser("calls", help="every AWS call the kit made for the participant, "
                           "with its AWS CLI equivalent")
    config_options(calls)
    calls.add_argument("--summary", action="store_true",
                       help="counts per service and operation, with request rates")
    calls.add_argument("--json", action="store_true", help="machine-readable")
    calls.set_defaults(func=_calls)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a learner's error is one sentence; a bug keeps its traceback
        message = explain(exc)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
