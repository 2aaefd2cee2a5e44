"""``ailedger topics create|list|lag``: create the topics idempotently with their configs, list
them, or show how far behind each stage's consumer group is."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("topics", help="create or list the Kafka topics")
    tsub = p.add_subparsers(dest="topics_command", metavar="ACTION")
    c = tsub.add_parser("create", help="create missing topics (idempotent)")
    c.set_defaults(handler=create)
    ls = tsub.add_parser("list", help="list the topics ailedger uses, with partitions and configs")
    ls.set_defaults(handler=list_specs)
    lag = tsub.add_parser("lag", help="messages each stage has not committed yet (consumer lag), by stage")
    lag.add_argument("--max", type=int, default=None, metavar="N",
                     help="exit with status 1 if a stage is more than N messages behind (or its topic is missing)")
    lag.set_defaults(handler=show_lag)
    p.set_defaults(handler=list_specs)


def create(args) -> int:
    from ailedger.settings import CommonSettings
    from ailedger.topics import create_topics

    settings = CommonSettings()
    created = create_topics(settings)
    for name in created:
        print(f"created {name}")
    if not created:
        print("all topics exist")
    return 0


def list_specs(args) -> int:
    from ailedger.settings import CommonSettings
    from ailedger.topics import topic_specs

    for spec in topic_specs(CommonSettings()):
        configs = ", ".join(f"{k}={v}" for k, v in spec.configs.items())
        print(f"{spec.name:32} partitions={spec.partitions:<3} {configs}")
    return 0


def show_lag(args) -> int:
    from ailedger.lag import stage_lags
    from ailedger.settings import CommonSettings
    from consumers.api.pipeline import lag_groups

    settings = CommonSettings()
    lags = stage_lags(settings, **lag_groups(settings))
    print(f"{'stage':26} {'group':32} {'topic':28} behind")
    over = []
    for lag in lags:
        behind = "no such topic" if lag.behind is None else str(lag.behind)
        print(f"{lag.stage:26} {lag.group:32} {lag.topic:28} {behind}")
        if args.max is not None and (lag.behind is None or lag.behind > args.max):
            over.append(lag.stage)
    if over:
        print(f"more than {args.max} behind: {', '.join(over)}")
        return 1
    return 0
