#!/usr/bin/env python3
"""Folds RS0016 (new public symbol) and RS0017 (removed symbol) diagnostics from a build log into
each project's PublicAPI.Unshipped.txt, after a deliberate change of the public API:

    dotnet build 2>&1 | python3 scripts/update-public-api.py
"""
import re
import sys
from collections import defaultdict

added = defaultdict(set)
removed = defaultdict(set)
for line in sys.stdin:
    m = re.search(r"error (RS0016|RS0017): Symbol '(.+?)' is (?:not part|part) of the declared (?:public )?API.*\[(.+?\.csproj)\]", line)
    if not m:
        continue
    code, symbol, project = m.groups()
    unshipped = project.rsplit("/", 1)[0] + "/PublicAPI.Unshipped.txt"
    (added if code == "RS0016" else removed)[unshipped].add(symbol)

for path in set(added) | set(removed):
    with open(path) as f:
        lines = [l.rstrip("\n") for l in f]
    header = [l for l in lines if l.startswith("#")]
    body = {l for l in lines if l and not l.startswith("#")}
    body = (body - removed[path]) | added[path]
    with open(path, "w") as f:
        f.write("\n".join(header + sorted(body, key=str.lower)) + "\n")
    print(f"{path}: +{len(added[path])} -{len(removed[path])}")
