#!/usr/bin/env python3
"""The module graph of docs/architecture.md, checked against Package.swift.

Each library target belongs to one layer, and depends only on the layers it may:

  core      DomainRouter (and its C part CIDNA), RouterProtocol, DNSWire: on nothing but the core
  clients   RouterRedis, RouterEtcd, RouterClient, RouterHTTPClient: on the core and other clients
  engine    RouterEngine: on the core
  front     RouterServer (the Unix socket), RouterHTTP, RouterDNS: on the engine and the core
  store     RouterRedisStore, RouterEtcdStore, RouterSQLiteStore: on the engine, the core and the clients
  gateway   RouterGateway: on the core and the clients
  process   ConfigFile, ServiceNotify: what a daemon process needs around its work (its
            configuration file, systemd's notify protocol): on no target of this package

So a front end never imports another front end or a store, and a store never imports a front
end or another store; executables, tests and the test support target wire them together.
SwiftPM's --explicit-target-dependency-import-check (scripts/test.sh) makes every `import`
match Package.swift, so checking Package.swift checks the sources.

Usage: swift package dump-package | scripts/check-layers.py
Exits 1, naming each edge that breaks a rule, or when a library target has no layer yet.
"""
import json
import sys

LAYERS = {
    "CIDNA": "core", "DomainRouter": "core", "RouterProtocol": "core", "DNSWire": "core",
    "RouterRedis": "clients", "RouterEtcd": "clients", "RouterClient": "clients", "RouterHTTPClient": "clients",
    "RouterEngine": "engine",
    "RouterServer": "front", "RouterHTTP": "front", "RouterDNS": "front",
    "RouterRedisStore": "store", "RouterEtcdStore": "store", "RouterSQLiteStore": "store",
    "RouterGateway": "gateway",
    "ConfigFile": "process", "ServiceNotify": "process",
}
MAY_USE = {
    "core": {"core"},
    "clients": {"core", "clients"},
    "engine": {"core"},
    "front": {"core", "engine"},
    "store": {"core", "engine", "clients"},
    "gateway": {"core", "clients"},
    "process": set(),
}
# Not layered: they assemble the layers.
FREE = {"executable", "test", "system"}
FREE_NAMES = {"RouterTestSupport"}


def dependencies(target):
    for item in target.get("dependencies", []):
        for kind in ("byName", "target"):
            if kind in item:
                yield item[kind][0]


def main():
    package = json.load(sys.stdin)
    names = {t["name"] for t in package["targets"]}
    problems = []
    for target in package["targets"]:
        name = target["name"]
        if target["type"] in FREE or name in FREE_NAMES:
            continue
        layer = LAYERS.get(name)
        if layer is None:
            problems.append(f"{name}: a library target with no layer; add it to scripts/check-layers.py "
                            "and docs/architecture.md")
            continue
        for dependency in dependencies(target):
            if dependency not in names:
                continue  # a product of another package
            used = LAYERS.get(dependency)
            if used not in MAY_USE[layer]:
                problems.append(f"{name} ({layer}) depends on {dependency} ({used or 'not a library'}); "
                                f"a {layer} target may use only: {', '.join(sorted(MAY_USE[layer]))}")
    for problem in problems:
        print("check-layers: " + problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
