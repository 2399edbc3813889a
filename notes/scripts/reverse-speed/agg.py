import sys, glob, gzip, json, collections, re
d = sys.argv[1]
f = glob.glob(f"{d}/**/*.trace.json.gz", recursive=True)[0]
ev = json.load(gzip.open(f)); ev = ev["traceEvents"] if isinstance(ev, dict) else ev
ops = [e for e in ev if e.get("ph") == "X" and "dur" in e and not e["name"].startswith("$") and "Execute" not in e["name"] and "__call__" not in e["name"]]
# exclusive time: control ops (while/cond) include children; compute leaf = ops not while/cond
leaf = [e for e in ops if not re.match(r"(while|cond|call)\.", e["name"])]
print("leaf ops total ms", sum(e["dur"] for e in leaf)/1e3, "count", len(leaf))
cat = collections.Counter(); cc = collections.Counter()
for e in leaf:
    k = re.sub(r"\.\d+$", "", e["name"]); cat[k] += e["dur"]; cc[k] += 1
for k, v in cat.most_common(25): print(f"{v/1e3:8.1f} ms {cc[k]:7d} {k}")
