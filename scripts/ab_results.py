"""ab_results.py: read what a guest program of make bench / make reclaim
printed, on the base and the patched kernel: lines "TAG k=v k=v ..." and
"TAG-ERROR ...", from RESDIR/{base,series}/user.log. A line with rep=-1
is a warm-up run and is left out."""

KINDS = ("base", "series")


def load(res, tag):
    """Return ({kind: [{key: float}, ...]}, [error lines])."""
    recs, errors = {k: [] for k in KINDS}, []
    for kind in KINDS:
        with open("%s/%s/user.log" % (res, kind), errors="replace") as f:
            for line in f:
                line = line.strip()
                if line.startswith(tag + "-ERROR"):
                    errors.append("%s: %s" % (kind, line))
                elif line.startswith(tag + " "):
                    rec = {k: float(v) for k, v in
                           (x.split("=", 1) for x in line.split()[1:])}
                    if rec.get("rep", 0) >= 0:
                        recs[kind].append(rec)
    return recs, errors


def group(recs, by=None):
    """Values per (key, kind), or per (int(rec[by]), key, kind) with by."""
    runs = {}
    for kind, rows in recs.items():
        for r in rows:
            for k, v in r.items():
                key = (k, kind) if by is None else (int(r[by]), k, kind)
                runs.setdefault(key, []).append(v)
    return runs
