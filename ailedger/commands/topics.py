"""``ailedger topics create|list``: create the topics idempotently with their configs."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("topics", help="create or list the Kafka topics")
    tsub = p.add_subparsers(dest="topics_command", metavar="ACTION")
    c = tsub.add_parser("create", help="create missing topics (idempotent)")
    c.set_defaults(handler=create)
    ls = tsub.add_parser("list", help="list the topics ailedger uses, with partitions and configs")
    ls.set_defaults(handler=list_specs)
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
