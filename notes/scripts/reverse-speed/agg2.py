import sys, glob, gzip, json, collections, re
d = sys.argv[1]
f = glob.glob(f"{d}/**/*.trace.json.gz", recursive=True)[0]
ev = json.load(gzip.open(f)); ev = ev["traceEvents"] if isinstance(ev, dict) else ev
ops = [e for e in ev if e.get("ph") == "X" and "dur" in e and not e["name"].startswith("$") and "Execute" not in e["name"] and "__call__" not in e["name"]]
cat = collections.Counter()
for e in ops:
    k = re.sub(r"\.\d+$", "", e["name"]); cat[k] += 1
for k, v in cat.most_common(40): print(f"{v:7d} {k}")
